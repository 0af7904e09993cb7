"""HTTP entry points that can call a model answer 402/429 before any work is queued."""

from __future__ import annotations

import pytest

from backend.chat.models import ChatSession
from backend.clients.services import api_key_create
from backend.runs.models import Run

pytestmark = pytest.mark.django_db(transaction=True)

PRICED = [{"id": "test/priced", "input_per_million": "1", "output_per_million": "2"}]


@pytest.fixture
def priced(env):
    env(DECLARED_MODELS=PRICED)


def post_chat_message(client, session_id: str):
    return client.post(
        f"/api/chat/sessions/{session_id}/messages/",
        {"content": "ideas for my espresso channel", "model": "test/priced"},
        format="json",
    )


def post_ui_chat(client, session_id: str):
    return client.post(
        "/api/chat",
        {
            "id": session_id,
            "model": "test/priced",
            "trigger": "submit-message",
            "messages": [
                {"id": "u1", "role": "user", "parts": [{"type": "text", "text": "ideas"}]}
            ],
        },
        format="json",
    )


def post_tool(path: str, body: dict):
    def entry(client, session_id: str):
        return client.post(f"/api/tools/{path}/", {**body, "model": "test/priced"}, format="json")

    entry.__name__ = f"post_tool_{path}"
    return entry


def post_factoid_generate(client, session_id: str):
    return client.post(
        "/api/factoids/generate/", {"subject": "coffee", "model": "test/priced"}, format="json"
    )


# Every entry point that can call a model; later issues add theirs.
ENTRY_POINTS = [
    post_chat_message,
    post_ui_chat,
    post_tool("content-ideas", {"topic": "espresso"}),
    post_tool("keywords", {"topic": "espresso"}),
    post_tool("hashtags", {"topic": "espresso"}),
    post_tool("viral-score", {"text": "I tried espresso for 30 days"}),
    post_factoid_generate,
]


@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=lambda f: f.__name__)
def test_zero_budget_refuses_with_402_and_queues_nothing(anon_client, priced, env, entry):
    env(GUARD_ANON_CLIENT_DAILY_USD=0)
    session = ChatSession.objects.create(client_id=anon_client.client_id, model="test/priced")
    response = entry(anon_client, str(session.id))
    assert response.status_code == 402
    error = response.json()["error"]
    assert error["code"] == "BUDGET_EXCEEDED"
    assert "API key" in error["message"] or "upgrade" in error["message"]
    assert error["details"]["bucket"]
    assert not Run.objects.exists()


@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=lambda f: f.__name__)
def test_rate_limit_answers_429_with_retry_after(anon_client, priced, env, entry):
    env(GUARD_REQUESTS_PER_MINUTE=2)
    session = ChatSession.objects.create(client_id=anon_client.client_id, model="offline")
    codes = []
    for _ in range(3):
        response = entry(anon_client, str(session.id))
        codes.append(response.status_code)
        Run.objects.update(status="completed")  # no 409 from an active run
    assert codes[:2] != [429, 429]
    assert codes[2] == 429
    assert int(response["Retry-After"]) >= 1
    assert response.json()["error"]["code"] == "RATE_LIMITED"


def test_unknown_model_is_refused_not_free(anon_client):
    session = ChatSession.objects.create(client_id=anon_client.client_id, model="offline")
    response = anon_client.post(
        f"/api/chat/sessions/{session.id}/messages/",
        {"content": "hi", "model": "nobody/knows-this"},
        format="json",
    )
    assert response.status_code == 400
    assert "model" in response.json()["error"]["details"]["fields"]


def test_offline_model_works_with_zero_budget(anon_client, env):
    env(GUARD_ANON_CLIENT_DAILY_USD=0, GUARD_GLOBAL_DAILY_USD=0)
    session = ChatSession.objects.create(client_id=anon_client.client_id, model="offline")
    response = anon_client.post(
        f"/api/chat/sessions/{session.id}/messages/", {"content": "hi"}, format="json"
    )
    assert response.status_code == 202


def test_minting_tokens_from_one_ip_does_not_escape_the_ip_budget(api_client, priced, env):
    """The IP-hash budget holds across every client token minted from the same address."""
    from asgiref.sync import async_to_sync

    from agents.guard import CallMeta, CallUsage
    from backend.guard.instance import get_guard
    from backend.llm.selectors import model_price

    env(
        GUARD_IP_DAILY_USD="0.01",
        GUARD_ANON_CLIENT_DAILY_USD="1",
        GUARD_ANON_SESSION_USD="1",
        GUARD_ANON_MAX_CALL_USD="1",
    )
    first = api_client.post("/api/clients/").json()
    price = model_price(model_id="test/priced")
    from django.test import RequestFactory

    from backend.clients.identity import ip_hash

    hashed = ip_hash(RequestFactory().get("/", REMOTE_ADDR="127.0.0.1"))

    async def spend() -> None:
        meta = CallMeta(client_id=first["client_id"], feature="chat", ip_hash=hashed)
        guard = get_guard()
        reservation = await guard.reserve(
            meta=meta, model=price, prompt_tokens_upper_bound=10, max_tokens=10
        )
        await guard.settle(
            reservation,
            CallUsage(
                input_tokens=10,
                output_tokens=10,
                reported_cost_usd=__import__("decimal").Decimal("0.01"),
            ),
        )

    async_to_sync(spend)()
    # A brand-new token from the same IP and user agent is still out of IP budget.
    second = api_client.post("/api/clients/").json()
    api_client.credentials(HTTP_X_CLIENT_TOKEN=second["token"])
    session = ChatSession.objects.create(client_id=second["client_id"], model="test/priced")
    response = post_chat_message(api_client, str(session.id))
    assert response.status_code == 402
    assert response.json()["error"]["details"]["bucket"].startswith("ip")


def test_api_key_plan_has_its_own_budget(api_client, priced, env):
    env(GUARD_ANON_CLIENT_DAILY_USD=0, GUARD_IP_DAILY_USD=0)
    _, raw = api_key_create(name="paid", plan="paid")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    me = api_client.get("/api/clients/me/").json()
    session = ChatSession.objects.create(client_id=me["client_id"], model="test/priced")
    assert post_chat_message(api_client, str(session.id)).status_code == 202
