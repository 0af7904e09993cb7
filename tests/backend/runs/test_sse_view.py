"""What every SSE endpoint gets from ``sse_view``: 405 with ``Allow``, 401 without
credentials, one of the client's stream slots held while it streams, and the slot given
back when the view fails before the stream starts."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient

from backend.chat.models import ChatSession
from backend.clients.services import client_create
from backend.runs import stream_slots
from backend.runs.eventlog import reset_for_tests
from backend.runs.models import Run
from backend.runs.stream_slots import MemorySlotStore, slot_open

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh_log():
    reset_for_tests()
    yield
    reset_for_tests()


@pytest.fixture
def memory_slots(monkeypatch):
    store = MemorySlotStore()
    monkeypatch.setattr(stream_slots, "get_slot_store", lambda: store)
    return store


@pytest.fixture
def owner():
    client, token = client_create(ip_hash="t")
    client_id = str(client.id)
    session = ChatSession.objects.create(client_id=client_id, external_id="chat-1", model="offline")
    run = Run.objects.create(
        kind="chat", client_id=client_id, model="offline", session_id=session.id, status="running"
    )
    factoid = Run.objects.create(
        kind="factoid", client_id=client_id, model="offline", status="completed"
    )
    return {
        "client_id": client_id,
        "token": token,
        "streams": [
            f"/api/runs/{run.id}/stream/",
            f"/api/chat/sessions/{session.id}/stream/",
            f"/api/factoids/streams/{factoid.id}/",
            "/api/chat/chat-1/stream",
        ],
    }


def error_of(response) -> dict:
    body = json.loads(response.content)
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]


async def test_a_wrong_method_is_405_naming_the_allowed_one(owner):
    client = AsyncClient()
    auth = {"X-Client-Token": owner["token"]}
    for url in owner["streams"]:
        response = await client.post(url, headers=auth)
        assert response.status_code == 405, url
        assert response["Allow"] == "GET", url
        error = error_of(response)
        assert (error["code"], error["details"]["allowed"]) == ("METHOD_NOT_ALLOWED", ["GET"])
    response = await client.get("/api/chat", headers=auth)
    assert (response.status_code, response["Allow"]) == (405, "POST")
    assert error_of(response)["details"]["allowed"] == ["POST"]


async def test_no_credentials_is_401(owner):
    for url in owner["streams"]:
        response = await AsyncClient().get(url)
        assert response.status_code == 401, url
        assert error_of(response)["code"] == "UNAUTHORIZED"


async def test_every_stream_holds_one_of_the_clients_slots(owner, memory_slots, settings):
    settings.SSE_MAX_STREAMS_PER_CLIENT = 1
    taken = await slot_open(client_id=owner["client_id"])
    client = AsyncClient()
    auth = {"X-Client-Token": owner["token"]}
    for url in owner["streams"]:  # the factoid stream took none before
        response = await client.get(url, headers=auth)
        assert response.status_code == 429, url
        assert error_of(response)["details"] == {
            "limit": 1,
            "scope": "open_streams",
            "retry_after_s": 5,
        }
        assert response["Retry-After"] == "5"
    await stream_slots.slot_close(taken)

    # With the slot free the stream opens; read to its end (a finished run), it gives the
    # slot back.
    response = await client.get(owner["streams"][2], headers=auth)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    assert [chunk async for chunk in response.streaming_content] == []
    slot = await slot_open(client_id=owner["client_id"])
    await stream_slots.slot_close(slot)


async def test_a_view_that_fails_after_taking_its_slot_gives_it_back(owner, memory_slots, settings):
    settings.SSE_MAX_STREAMS_PER_CLIENT = 1
    client = AsyncClient()
    auth = {"X-Client-Token": owner["token"]}
    # POST /api/chat takes the slot before it reads the body (a client at its limit is
    # refused before any run): a bad body must not keep it.
    for _ in range(3):
        response = await client.post(
            "/api/chat", {"id": "c"}, content_type="application/json", headers=auth
        )
        assert response.status_code == 400
    # Nor must an answer that is no stream (resume of an idle chat: 204).
    await sync_to_async(Run.objects.filter(status="running").update)(status="completed")
    assert (await client.get("/api/chat/chat-1/stream", headers=auth)).status_code == 204
    slot = await slot_open(client_id=owner["client_id"])
    await stream_slots.slot_close(slot)
