"""Account export (everything stored about it) and deletion (everything, including its
checkpoint threads and event logs, plus a PostHog person deletion request)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync
from rest_framework.test import APIClient

from backend.accounts.models import Account, PosthogDeletionRequest
from backend.channels.models import Channel
from backend.chat.models import ChatMessage, ChatSession
from backend.clients.models import ApiKey, Client
from backend.factoids.models import Factoid, FactoidVote
from backend.guard.models import LlmCall
from backend.payments.models import CreditEntry, Subscription
from backend.runs.emitter import RunEmitter
from backend.runs.eventlog import get_event_log, reset_for_tests
from backend.runs.models import Run, RunEvent
from backend.tools.models import HistoryEntry
from tests.backend.accounts.conftest import PASSWORD
from tests.backend.factoids.conftest import make_factoid

pytestmark = pytest.mark.django_db(transaction=True)


def write_checkpoint(thread_id: str) -> None:
    from langgraph.checkpoint.base import empty_checkpoint

    from backend.runs.checkpoints import open_checkpointer

    async def put() -> None:
        async with open_checkpointer() as saver:
            config = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}
            await saver.aput(config, empty_checkpoint(), {"source": "input", "step": -1}, {})

    async_to_sync(put)()


def has_checkpoint(thread_id: str) -> bool:
    from backend.runs.checkpoints import open_checkpointer

    async def get() -> bool:
        async with open_checkpointer() as saver:
            found = await saver.aget_tuple({"configurable": {"thread_id": thread_id}})
            return found is not None

    return async_to_sync(get)()


@pytest.fixture
def stored(account_client):
    """An account with something of every kind stored under it."""
    reset_for_tests()
    account = account_client.account
    client_id = str(account.client_id)
    session = ChatSession.objects.create(client_id=client_id, model="offline", title="espresso")
    ChatMessage.objects.create(session=session, role="user", content="ideas please")
    chat_run = Run.objects.create(
        kind="chat", client_id=client_id, model="offline", session_id=session.id, status="completed"
    )
    factoid_run = Run.objects.create(
        kind="factoid", client_id=client_id, model="offline", status="completed"
    )
    for run in (chat_run, factoid_run):
        RunEmitter(run_id=str(run.id), attempt=1).emit("run.queued", {})
    write_checkpoint(str(session.id))
    HistoryEntry.objects.create(client_id=client_id, tool="hashtags", input={}, result={})
    Channel.objects.create(
        client_id=client_id,
        external_id="UC1",
        title="Home Espresso",
        display_name="My espresso",
        role="own",
        is_primary=True,
        source="import",
        fetched_at=datetime.now(UTC),
    )
    voted = make_factoid(text="Honey never spoils when sealed.", up=2)
    FactoidVote.objects.create(factoid=voted, client_id=client_id, value=1)
    authored = make_factoid(text="Octopuses have three hearts.", client_id=client_id)
    LlmCall.objects.create(
        client_id=client_id, plan="free", feature="respond", model="m", cost_usd=Decimal("0.01")
    )
    CreditEntry.objects.create(
        account=account, kind="adjustment", amount_usd=Decimal("2"), reference="gift"
    )
    key = account_client.post("/api/accounts/api-keys/", {"name": "ci"}, format="json").json()
    return {
        "session": session,
        "runs": [chat_run, factoid_run],
        "voted": voted,
        "authored": authored,
        "key": key,
    }


def test_export_holds_everything_stored_about_the_account(account_client, stored, make_account):
    _, other_tokens = make_account("bob@example.com")
    response = account_client.get("/api/accounts/export/")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    body = response.json()
    assert body["account"]["email"] == "ada@example.com"
    assert [s["title"] for s in body["chat_sessions"]] == ["espresso"]
    assert body["chat_sessions"][0]["messages"][0]["content"] == "ideas please"
    assert {r["kind"] for r in body["runs"]} == {"chat", "factoid"}
    assert [h["tool"] for h in body["tool_history"]] == ["hashtags"]
    assert [c["title"] for c in body["channels"]] == ["Home Espresso"]
    assert {k: body["channels"][0][k] for k in ("role", "primary", "display_name")} == {
        "role": "own",
        "primary": True,
        "display_name": "My espresso",
    }
    assert body["factoid_votes"] == [{"factoid": str(stored["voted"].uuid), "vote": "up"}]
    assert [f["text"] for f in body["factoids_created"]] == ["Octopuses have three hearts."]
    assert body["credits"]["balance_usd"] == "2.000000"
    assert [k["name"] for k in body["api_keys"]] == ["ci"]
    assert len(body["model_calls"]) == 1
    assert "key_hash" not in str(body)
    # Someone else's export holds none of it.
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {other_tokens['access']}")
    theirs = other.get("/api/accounts/export/").json()
    assert theirs["chat_sessions"] == [] and theirs["runs"] == []


def test_deletion_needs_the_password(account_client, stored):
    response = account_client.delete("/api/accounts/me/", {"password": "wrong"}, format="json")
    assert "password" in response.json()["error"]["details"]["fields"]
    assert account_client.delete("/api/accounts/me/", {}, format="json").status_code == 400
    assert Account.objects.exists()


def test_deletion_waits_for_a_live_subscription_to_be_cancelled(account_client):
    Subscription.objects.create(
        stripe_subscription_id="sub_1", account=account_client.account, status="active"
    )
    response = account_client.delete("/api/accounts/me/", {"password": PASSWORD}, format="json")
    assert response.status_code == 409
    assert "portal" in response.json()["error"]["message"]


def test_deletion_removes_everything_with_threads_logs_and_a_posthog_request(
    account_client, stored
):
    account = account_client.account
    client_id = str(account.client_id)
    run_ids = [str(r.id) for r in stored["runs"]]
    assert has_checkpoint(str(stored["session"].id))
    response = account_client.delete("/api/accounts/me/", {"password": PASSWORD}, format="json")
    assert response.status_code == 204, response.content

    assert not Account.objects.exists()
    assert not Client.objects.filter(pk=client_id).exists()
    assert not ApiKey.objects.exists() and not Client.objects.filter(kind="api_key").exists()
    assert not ChatSession.objects.exists() and not ChatMessage.objects.exists()
    assert not Run.objects.exists() and not RunEvent.objects.exists()
    assert all(get_event_log().last_seq(run_id=run_id) == 0 for run_id in run_ids)
    assert not has_checkpoint(str(stored["session"].id))
    assert not HistoryEntry.objects.exists() and not Channel.objects.exists()
    assert not FactoidVote.objects.exists()
    stored["voted"].refresh_from_db()
    assert stored["voted"].up == 1  # the account's vote is withdrawn from the count
    assert Factoid.objects.get(pk=stored["authored"].pk).client_id == ""
    assert LlmCall.objects.get().client_id == ""
    assert not CreditEntry.objects.exists()
    request = PosthogDeletionRequest.objects.get()
    assert request.distinct_ids == [client_id]
    # Its tokens and keys are refused from now on.
    assert account_client.get("/api/accounts/me/").status_code == 401
    key_client = APIClient()
    key_client.credentials(HTTP_AUTHORIZATION=f"Bearer {stored['key']['key']}")
    assert key_client.get("/api/clients/me/").status_code == 401
