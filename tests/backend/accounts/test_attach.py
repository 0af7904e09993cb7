"""Signing up or logging in brings the anonymous client's history, votes, channels and
today's spend to the account; where the account already voted, its vote wins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync
from rest_framework.test import APIClient

from agents.guard import CallMeta, CallUsage, ModelPrice
from agents.guard.buckets import utc_day
from backend.accounts.models import Account, AttachedClient
from backend.channels.models import Channel
from backend.chat.models import ChatSession
from backend.clients.services import client_create
from backend.factoids.models import Factoid
from backend.guard.instance import get_guard, get_store
from backend.guard.models import LlmCall
from backend.runs.models import Run
from backend.tools.models import HistoryEntry
from tests.backend.accounts.conftest import PASSWORD, register, signed_in
from tests.backend.factoids.conftest import make_factoid

pytestmark = pytest.mark.django_db

PRICED = ModelPrice(
    model_id="test/priced",
    input_per_token=Decimal("0.000001"),
    output_per_token=Decimal("0.000002"),
)


def anonymous_browser() -> tuple[APIClient, str]:
    client, token = client_create(ip_hash="anon")
    browser = APIClient()
    browser.credentials(HTTP_X_CLIENT_TOKEN=token)
    return browser, str(client.id)


def spend(client_id: str, usd: str) -> None:
    """A real reservation and settle through the guard, as a model call would make."""

    async def call() -> None:
        guard = get_guard()
        reservation = await guard.reserve(
            meta=CallMeta(client_id=client_id, feature="test", plan="anonymous"),
            model=PRICED,
            prompt_tokens_upper_bound=10,
            max_tokens=10,
        )
        await guard.settle(reservation, CallUsage(reported_cost_usd=Decimal(usd)))

    async_to_sync(call)()


def spent_today(client_id: str) -> int:
    key = f"client:{client_id}:day:{utc_day(datetime.now(UTC).timestamp())}"

    async def read() -> int:
        return (await get_store().usage([key]))[key].spent

    return async_to_sync(read)()


def vote(client: APIClient, factoid: Factoid, value: str) -> None:
    response = client.post(f"/api/factoids/{factoid.uuid}/vote/", {"vote": value}, format="json")
    assert response.status_code == 200, response.content


def test_signing_up_attaches_the_anonymous_history_channels_and_todays_spend(env):
    env(GUARD_ANON_MAX_CALL_USD="1", GUARD_ANON_CLIENT_DAILY_USD="1", GUARD_IP_DAILY_USD="1")
    browser, anon_id = anonymous_browser()
    session = browser.post("/api/chat/sessions/", {"title": "espresso"}, format="json").json()
    Run.objects.create(kind="factoid", client_id=anon_id, model="offline")
    HistoryEntry.objects.create(client_id=anon_id, tool="hashtags", input={}, result={"a": 1})
    Channel.objects.create(
        client_id=anon_id,
        external_id="UC1",
        title="Home Espresso",
        source="import",
        fetched_at=datetime.now(UTC),
    )
    LlmCall.objects.create(client_id=anon_id, plan="anonymous", feature="t", model="m")
    spend(anon_id, "0.03")
    assert spent_today(anon_id) == 30_000
    ledger_rows = LlmCall.objects.filter(client_id=anon_id).count()  # with spend's estimate

    response = register(browser, "ada@example.com")
    assert response.status_code == 201, response.content
    account = Account.objects.get()
    tokens = response.json()["tokens"]
    mine = signed_in(tokens)

    sessions = mine.get("/api/chat/sessions/").json()["results"]
    assert [s["id"] for s in sessions] == [session["id"]]
    assert mine.get(f"/api/chat/sessions/{session['id']}/").status_code == 200
    assert [h["tool"] for h in mine.get("/api/history/").json()["results"]] == ["hashtags"]
    assert [c["title"] for c in mine.get("/api/channels/").json()["results"]] == ["Home Espresso"]
    assert Run.objects.filter(client_id=str(account.client_id)).count() == 1
    assert LlmCall.objects.filter(client_id=str(account.client_id)).count() == ledger_rows
    assert not LlmCall.objects.filter(client_id=anon_id).exists()
    # Today's spend counts against the account from now on.
    assert spent_today(str(account.client_id)) == 30_000
    attached = AttachedClient.objects.get()
    assert attached.client_id == anon_id
    assert attached.moved["sessions"] == 1
    # The anonymous token no longer sees the history (it moved), but still works.
    assert browser.get("/api/chat/sessions/").json()["results"] == []
    assert browser.get(f"/api/chat/sessions/{session['id']}/").status_code == 404


def test_logging_in_attaches_too_and_the_accounts_own_vote_wins(make_account):
    account, tokens = make_account("ada@example.com")
    mine = signed_in(tokens)
    contested = make_factoid(text="Honey never spoils when sealed.")
    only_anonymous = make_factoid(text="Octopuses have three hearts.", subject="oceans")
    vote(mine, contested, "up")

    browser, _ = anonymous_browser()
    vote(browser, contested, "down")
    vote(browser, only_anonymous, "up")
    contested.refresh_from_db()
    assert (contested.up, contested.down) == (1, 1)

    login = browser.post(
        "/api/accounts/login/", {"email": account.email, "password": PASSWORD}, format="json"
    )
    assert login.status_code == 200, login.content
    contested.refresh_from_db()
    only_anonymous.refresh_from_db()
    assert (contested.up, contested.down) == (1, 0)
    assert (only_anonymous.up, only_anonymous.down) == (1, 0)
    feed = {f["uuid"]: f["my_vote"] for f in mine.get("/api/factoids/").json()["results"]}
    assert feed == {str(contested.uuid): "up", str(only_anonymous.uuid): "up"}


def test_the_same_channel_on_both_sides_keeps_the_newer_snapshot(make_account):
    account, _ = make_account()
    browser, anon_id = anonymous_browser()
    now = datetime.now(UTC)
    older = Channel.objects.create(
        client_id=str(account.client_id),
        external_id="UC1",
        title="old",
        source="import",
        fetched_at=now - timedelta(days=3),
    )
    Channel.objects.create(
        client_id=anon_id, external_id="UC1", title="new", source="import", fetched_at=now
    )
    browser.post(
        "/api/accounts/login/", {"email": account.email, "password": PASSWORD}, format="json"
    )
    kept = Channel.objects.get(client_id=str(account.client_id), external_id="UC1")
    assert kept.title == "new"
    # The account's row stays (its id, role and name) and takes the newer statistics.
    assert kept.pk == older.pk
    assert Channel.objects.filter(external_id="UC1").count() == 1


def test_chat_ids_stay_unique_per_client_after_attaching(make_account):
    account, _ = make_account()
    _, anon_id = anonymous_browser()
    ChatSession.objects.create(client_id=str(account.client_id), external_id="chat-1", model="m")
    clash = ChatSession.objects.create(client_id=anon_id, external_id="chat-1", model="m")
    from backend.accounts.services.attach import account_attach_client

    moved = account_attach_client(account=account, client_id=anon_id)
    clash.refresh_from_db()
    assert moved["sessions"] == 1
    assert (clash.client_id, clash.external_id) == (str(account.client_id), "")


def test_an_unknown_or_tampered_client_token_attaches_nothing(api_client):
    api_client.credentials(HTTP_X_CLIENT_TOKEN="forged-token")
    assert register(api_client, "ada@example.com").status_code == 201
    assert not AttachedClient.objects.exists()
