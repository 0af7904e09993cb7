"""Approval before a step, end to end on the embedded runner: the run waits (no worker, no
lease) with ``approval.requested``, and goes on with the creator's answer — approved,
edited, denied, expired; a forged or replayed answer is refused."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from backend.chat.approvals import approvals_expire
from backend.chat.models import Approval, ChatMessage
from backend.clients.services import client_create
from backend.runs.eventlog import reset_for_tests
from backend.runs.models import Run
from tests.backend.runs.helpers import logged_events
from tests.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

REQUEST = "hashtags for a home espresso channel"


@pytest.fixture(autouse=True)
def embedded(settings):
    settings.TASK_RUNNER = "thread"
    reset_for_tests()
    yield
    reset_for_tests()


def _always_ask(client: APIClient) -> None:
    response = client.put("/api/clients/me/approvals/", {"mode": "always"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["mode"] == "always"


def _start(client: APIClient) -> tuple[str, str, Approval]:
    """A chat whose run now waits for its one approval."""
    _always_ask(client)
    session = client.post("/api/chat/sessions/", {}, format="json").json()
    response = client.post(
        f"/api/chat/sessions/{session['id']}/messages/", {"content": REQUEST}, format="json"
    )
    assert response.status_code == 202, response.content
    run_id = response.json()["run_id"]
    run = wait_for(lambda: Run.objects.filter(pk=run_id, status="waiting").first(), timeout=30)
    assert run is not None
    [approval] = Approval.objects.filter(run_id=run_id)
    return session["id"], run_id, approval


def _types(run_id: str) -> list[str]:
    return [event.type for event in logged_events(run_id)]


def _answer(client: APIClient, run_id: str, approval: Approval, **body):
    return client.post(f"/api/runs/{run_id}/approvals/{approval.id}/", body, format="json")


def _ended(run_id: str) -> Run:
    run = wait_for(
        lambda: Run.objects.filter(pk=run_id, status__in=Run.TERMINAL).first(), timeout=30
    )
    assert run is not None
    return run


def test_the_run_waits_with_the_call_and_its_estimate_and_holds_nothing(anon_client) -> None:
    _session_id, run_id, approval = _start(anon_client)

    run = Run.objects.get(pk=run_id)
    assert run.lease_owner == "" and run.lease_expires_at is None
    types = _types(run_id)
    assert types[-2:] == ["approval.requested", "run.waiting"]
    assert "tool.started" not in types  # nothing ran
    requested = next(e for e in logged_events(run_id) if e.type == "approval.requested").data
    assert requested["approval_id"] == str(approval.id)
    assert requested["name"] == "hashtags" and requested["args"]["topic"]
    assert set(requested["estimate"]) == {"model", "worst_case_usd", "youtube_units"}
    listed = anon_client.get(f"/api/runs/{run_id}/approvals/").json()["results"]
    assert [a["status"] for a in listed] == ["pending"]


def test_approved_the_run_goes_on_in_the_same_attempt_and_answers(anon_client) -> None:
    _session_id, run_id, approval = _start(anon_client)

    response = _answer(anon_client, run_id, approval, approved=True)

    assert response.status_code == 200, response.content
    run = _ended(run_id)
    assert run.status == "completed" and run.attempt == 1
    types = _types(run_id)
    assert "message.reset" not in types  # a resume is not a retry
    after = types[types.index("approval.resolved") :]
    assert "tool.completed" in after and after[-1] == "run.completed"
    answer = ChatMessage.objects.get(run_id=run_id, role="assistant")
    assert "[tool:hashtags]" in answer.content
    assert [r["name"] for r in answer.tool_results] == ["hashtags"]


def test_edited_arguments_are_checked_then_used(anon_client) -> None:
    _session_id, run_id, approval = _start(anon_client)

    bad = _answer(
        anon_client, run_id, approval, approved=True, args={**approval.args, "count": 500}
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "VALIDATION_ERROR"
    assert (
        "args" in bad.json()["error"]["details"]["fields"]
        and "count" in bad.json()["error"]["message"]
    )
    assert Approval.objects.get(pk=approval.id).status == "pending"  # still open

    edited = {**approval.args, "topic": "latte art"}
    assert _answer(anon_client, run_id, approval, approved=True, args=edited).status_code == 200
    assert _ended(run_id).status == "completed"
    [started] = [e for e in logged_events(run_id) if e.type == "tool.started"]
    assert started.data["args"]["topic"] == "latte art"


def test_denied_the_model_hears_why_and_the_tool_never_runs(anon_client) -> None:
    _session_id, run_id, approval = _start(anon_client)

    response = _answer(anon_client, run_id, approval, approved=False, reason="not now")

    assert response.status_code == 200
    run = _ended(run_id)
    assert run.status == "completed"
    types = _types(run_id)
    assert "tool.started" not in types and "tool.failed" in types
    failed = next(e for e in logged_events(run_id) if e.type == "tool.failed").data
    assert failed["error"]["code"] == "DENIED" and "not now" in failed["error"]["message"]
    resolved = next(e for e in logged_events(run_id) if e.type == "approval.resolved").data
    assert resolved["approved"] is False


def test_a_replayed_answer_is_a_conflict_and_another_clients_is_not_found(
    anon_client, api_client
) -> None:
    _session_id, run_id, approval = _start(anon_client)
    other = APIClient()
    _client, token = client_create(ip_hash="other")
    other.credentials(HTTP_X_CLIENT_TOKEN=token)

    forged = _answer(other, run_id, approval, approved=True)
    assert forged.status_code == 404 and forged.json()["error"]["code"] == "NOT_FOUND"
    assert other.get(f"/api/runs/{run_id}/approvals/").json()["results"] == []
    bogus = anon_client.post(
        f"/api/runs/{run_id}/approvals/nope/", {"approved": True}, format="json"
    )
    assert bogus.status_code == 404

    assert _answer(anon_client, run_id, approval, approved=True).status_code == 200
    replay = _answer(anon_client, run_id, approval, approved=False)
    assert replay.status_code == 409 and replay.json()["error"]["code"] == "CONFLICT"
    assert _ended(run_id).status == "completed"


def test_a_new_message_while_the_run_waits_is_refused(anon_client) -> None:
    session_id, run_id, _approval = _start(anon_client)

    response = anon_client.post(
        f"/api/chat/sessions/{session_id}/messages/", {"content": "hello?"}, format="json"
    )

    assert response.status_code == 409, response.content
    assert Run.objects.get(pk=run_id).status == "waiting"


def test_an_unanswered_approval_expires_and_the_run_ends_cancelled(anon_client) -> None:
    _session_id, run_id, approval = _start(anon_client)
    Approval.objects.filter(pk=approval.id).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert approvals_expire() == 1

    run = _ended(run_id)
    assert run.status == "cancelled"
    assert Approval.objects.get(pk=approval.id).status == "expired"
    cancelled = wait_for(
        lambda: [e for e in logged_events(run_id) if e.type == "run.cancelled"], timeout=10
    )
    assert "expired" in cancelled[0].data["reason"]
    assert _answer(anon_client, run_id, approval, approved=True).status_code == 409


def test_the_default_never_asks_with_the_offline_model(anon_client) -> None:
    session = anon_client.post("/api/chat/sessions/", {}, format="json").json()
    response = anon_client.post(
        f"/api/chat/sessions/{session['id']}/messages/", {"content": REQUEST}, format="json"
    )
    run = _ended(response.json()["run_id"])
    assert run.status == "completed"
    assert not Approval.objects.filter(run_id=run.id).exists()


def test_approval_settings_are_checked(anon_client) -> None:
    bad = anon_client.put("/api/clients/me/approvals/", {"mode": "sometimes"}, format="json")
    assert bad.status_code == 400 and "mode" in bad.json()["error"]["details"]["fields"]
    negative = anon_client.put("/api/clients/me/approvals/", {"threshold_usd": -1}, format="json")
    assert negative.status_code == 400
    ok = anon_client.put("/api/clients/me/approvals/", {"threshold_usd": "0.01"}, format="json")
    assert ok.json()["threshold_usd"] == "0.0100" and ok.json()["mode"] == "costly"


def test_an_attempt_stopped_before_it_recorded_its_approvals_asks_again(anon_client) -> None:
    """The soak's stuck run: a worker shut down between the graph's interrupt and the
    approval rows; the next attempt found the interrupt, no approval, and waited for ever
    (nothing to answer, nothing to expire)."""
    from backend.runs.services import run_enqueue

    _session_id, run_id, first = _start(anon_client)
    # As the attempt that stopped left it: the interrupt in the checkpoint, no rows.
    Approval.objects.filter(run_id=run_id).delete()
    Run.objects.filter(pk=run_id).update(status=Run.Status.QUEUED)
    before = len(logged_events(run_id))

    run_enqueue(run_id=run_id, kind="chat")

    again = wait_for(lambda: Approval.objects.filter(run_id=run_id).first(), timeout=30)
    assert again is not None and again.status == Approval.Status.PENDING
    assert again.id == first.id  # the same call, asked again
    wait_for(lambda: Run.objects.filter(pk=run_id, status="waiting").first(), timeout=30)
    assert [e.type for e in logged_events(run_id)[before:]][-2:] == [
        "approval.requested",
        "run.waiting",
    ]
    assert _answer(anon_client, run_id, again, approved=True).status_code == 200
    assert _ended(run_id).status == Run.Status.COMPLETED


def test_the_budget_check_before_a_step_rides_out_a_store_outage(monkeypatch) -> None:
    """Asked inside a run, the soft-limit check waits out a short outage of the budget
    store instead of failing the run AI_SERVICE_UNAVAILABLE (a Redis restart)."""
    from agents.guard import GuardUnavailableError, ModelPrice
    from agents.guard.interface import CallMeta
    from backend.chat import approvals

    class StoreAway:
        calls = 0

        async def soft_crossing(self, **_: object) -> None:
            self.calls += 1
            if self.calls < 3:
                raise GuardUnavailableError("store away", details={"store": "redis"})
            return None

    guard = StoreAway()
    monkeypatch.setattr(approvals, "get_guard", lambda: guard)
    monkeypatch.setattr("agents.guard.outage.STORE_OUTAGE_POLL_S", 0.01)
    price = ModelPrice(
        model_id="test/model",
        input_per_token=Decimal("0.000001"),
        output_per_token=Decimal("0.000001"),
    )
    policy = approvals.ApprovalPolicy(
        mode="costly", threshold_usd=Decimal("100"), price=price, youtube_units_limit=1000
    )
    meta = CallMeta(client_id="c", feature="respond", run_id="r")
    decision = asyncio.run(policy.check_model(meta=meta, prompt_tokens=10, max_tokens=10))
    assert decision is None and guard.calls == 3
