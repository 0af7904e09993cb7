"""Django admin for the records operators look at: chat sessions and messages, runs with
their events, the model-call ledger and webhook deliveries. Staff open every list and
page; none of these can be added, changed or deleted there (only services write them)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from backend.chat.models import ChatMessage, ChatSession, WebhookDelivery
from backend.guard.models import GuardEvent, LlmCall
from backend.runs.models import Run, RunEvent
from backend.runs.services import run_create

pytestmark = pytest.mark.django_db(transaction=True)

MODELS = ["chat.chatsession", "chat.chatmessage", "chat.webhookdelivery", "runs.run"]
MODELS += ["runs.runevent", "guard.llmcall", "guard.guardevent", "guard.dailyspendsnapshot"]


@pytest.fixture
def records(db):
    session = ChatSession.objects.create(
        client_id="client-1",
        model="offline",
        title="Espresso",
        webhook_url="https://hooks.example.com/x",
        webhook_secret="whsec-do-not-show-0123",
    )
    question = ChatMessage.objects.create(session=session, role="user", content="ideas?")
    run = Run.objects.create(
        kind="chat", client_id="client-1", model="offline", session_id=session.id
    )
    ChatMessage.objects.create(
        session=session, role="assistant", content="Here.", parent=question, run_id=run.id
    )
    RunEvent.objects.create(
        run=run, seq=1, type="run.queued", data={"kind": "chat"}, ts=run.created_at
    )
    delivery = WebhookDelivery.objects.create(
        session=session, run_id=run.id, url=session.webhook_url, payload={"run_id": str(run.id)}
    )
    call = LlmCall.objects.create(
        client_id="client-1", plan="anonymous", feature="chat", model="m", cost_usd=Decimal("1")
    )
    event = GuardEvent.objects.create(kind=GuardEvent.Kind.SOFT_LIMIT, bucket="client")
    return {
        "chat.chatsession": session,
        "chat.chatmessage": question,
        "chat.webhookdelivery": delivery,
        "runs.run": run,
        "runs.runevent": run.events.get(),
        "guard.llmcall": call,
        "guard.guardevent": event,
    }


@pytest.fixture
def staff(db) -> Client:
    """A staff member (not a superuser) allowed to view and change these models: still no
    edits, because the admin pages themselves allow none."""
    user = get_user_model().objects.create_user(
        username="operator", password="pw-operator-0123", is_staff=True
    )
    for label in MODELS:
        app, model = label.split(".")
        user.user_permissions.add(
            *Permission.objects.filter(content_type__app_label=app, content_type__model=model)
        )
    client = Client()
    client.force_login(user)
    return client


def admin_url(label: str, page: str = "changelist", *args: object) -> str:
    app, model = label.split(".")
    from django.urls import reverse

    return reverse(f"admin:{app}_{model}_{page}", args=args)


def test_anonymous_is_sent_to_the_login(client, records):
    response = client.get(admin_url("runs.run"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.parametrize("label", MODELS)
def test_staff_open_every_list_and_page_but_cannot_edit(staff, records, label):
    assert staff.get(admin_url(label)).status_code == 200
    record = records.get(label)
    if record is None:
        return
    change = admin_url(label, "change", record.pk)
    page = staff.get(change)
    assert page.status_code == 200
    assert b'name="_save"' not in page.content  # a view, not a form
    assert staff.get(admin_url(label, "add")).status_code == 403
    assert staff.post(change, {"client_id": "someone-else"}).status_code == 403
    assert staff.get(admin_url(label, "delete", record.pk)).status_code == 403
    assert staff.post(admin_url(label, "delete", record.pk), {"post": "yes"}).status_code == 403
    assert type(record).objects.filter(pk=record.pk).exists()


def test_list_filters_and_searches_an_operator_uses(staff, records):
    run = records["runs.run"]
    other = Run.objects.create(kind="factoid", client_id="client-2", model="offline")
    Run.objects.filter(pk=other.pk).update(status="failed")

    def listed(query: str) -> set[str]:
        response = staff.get(admin_url("runs.run") + query)
        assert response.status_code == 200
        return {str(r.pk) for r in response.context["cl"].result_list}

    assert listed("") == {str(run.pk), str(other.pk)}
    assert listed("?status__exact=failed") == {str(other.pk)}
    assert listed("?kind=chat") == {str(run.pk)}
    assert listed("?q=client-2") == {str(other.pk)}
    assert listed(f"?q={run.session_id}") == {str(run.pk)}
    assert listed(f"?q={other.pk}") == {str(other.pk)}
    assert listed(f"?q={uuid.uuid4()}") == set()
    day = "created_at__gte=2000-01-01+00:00:00%2B00:00&created_at__lt=2000-01-02+00:00:00%2B00:00"
    assert listed(f"?{day}") == set()
    events = staff.get(admin_url("runs.runevent") + f"?run__id__exact={run.pk}")
    assert [e.seq for e in events.context["cl"].result_list] == [1]
    messages = staff.get(admin_url("chat.chatmessage") + f"?q={run.id}")
    assert [m.role for m in messages.context["cl"].result_list] == ["assistant"]
    ledger = staff.get(admin_url("guard.llmcall") + "?plan=anonymous&q=client-1")
    assert len(ledger.context["cl"].result_list) == 1
    assert len(staff.get(admin_url("guard.llmcall") + "?plan=pro").context["cl"].result_list) == 0


def test_a_run_shows_its_events_and_session_and_the_secret_stays_hidden(staff, records):
    run, session = records["runs.run"], records["chat.chatsession"]
    page = staff.get(admin_url("runs.run", "change", run.pk)).content.decode()
    assert "run.queued" in page
    assert admin_url("chat.chatsession", "change", session.pk) in page
    session_page = staff.get(admin_url("chat.chatsession", "change", session.pk)).content
    assert b"Espresso" in session_page
    assert b"whsec-do-not-show" not in session_page
    assert b"ideas?" in session_page  # its messages, inline


def test_staff_may_cancel_runs_that_are_still_going(staff, records):
    queued = run_create(kind="chat", client_id="c", model="offline", input={}, enqueue=False)
    done = records["runs.run"]
    Run.objects.filter(pk=done.pk).update(status="completed")
    response = staff.post(
        admin_url("runs.run"),
        {"action": "cancel_runs", "_selected_action": [str(queued.pk), str(done.pk)]},
    )
    assert response.status_code == 302
    queued.refresh_from_db()
    assert queued.status == "cancelled"
    assert queued.events.filter(type="run.cancelled").exists()
    assert Run.objects.get(pk=done.pk).status == "completed"


def test_only_staff_who_may_change_runs_may_cancel_them(records):
    user = get_user_model().objects.create_user(username="viewer", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_run"))
    viewer = Client()
    viewer.force_login(user)
    run = run_create(kind="chat", client_id="c", model="offline", input={}, enqueue=False)
    assert viewer.get(admin_url("runs.run")).status_code == 200
    viewer.post(admin_url("runs.run"), {"action": "cancel_runs", "_selected_action": [str(run.pk)]})
    run.refresh_from_db()
    assert run.status == "queued"
