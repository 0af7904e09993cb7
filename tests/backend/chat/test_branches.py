"""Edit and regenerate on the right checkpoint: the transcript is a tree, a new version of a
message forks the agent's state before it, and the model's input is the branch's history.

On a thread of 30 messages (longer than the history the model is sent: trimming applies on
top of the branch, never across branches)."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from rest_framework.test import APIClient

from backend.chat.models import ChatMessage, ChatSession
from backend.runs.checkpoints import open_graph
from backend.runs.eventlog import reset_for_tests
from backend.runs.models import Run
from tests.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def embedded(settings):
    settings.TASK_RUNNER = "thread"
    reset_for_tests()
    yield
    reset_for_tests()


def _done(response) -> dict[str, Any]:
    assert response.status_code == 202, response.content
    body = response.json()
    run = wait_for(
        lambda: Run.objects.filter(pk=body["run_id"], status__in=Run.TERMINAL).first(), timeout=30
    )
    assert run is not None and run.status == "completed", run and run.error_message
    return body


def _say(client: APIClient, session_id: str, content: str, **extra: Any) -> dict[str, Any]:
    return _done(
        client.post(
            f"/api/chat/sessions/{session_id}/messages/",
            {"content": content, **extra},
            format="json",
        )
    )


def _transcript(client: APIClient, session_id: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = client.get(f"/api/chat/sessions/{session_id}/").json()[
        "messages"
    ]
    return messages


def _history_after(answer_id: str) -> list[str]:
    """The questions in the agent's state after this answer, by run (what a message sent
    under it gives the model, before trimming)."""
    answer = ChatMessage.objects.get(pk=answer_id)
    assert answer.checkpoint_id, "the answer records its checkpoint"
    config: Any = {
        "configurable": {
            "thread_id": answer.thread_id,
            "checkpoint_ns": "",
            "checkpoint_id": answer.checkpoint_id,
        }
    }

    async def read() -> list[str]:
        async with open_graph() as graph:
            state = await graph.aget_state(config)
            return [
                str(message.id).removeprefix("human-")
                for message in state.values.get("messages", [])
                if message.type == "human"
            ]

    return async_to_sync(read)()


def _answer_of(client: APIClient, session_id: str) -> str:
    last = _transcript(client, session_id)[-1]
    assert last["role"] == "assistant"
    return str(last["id"])


def test_regenerate_edit_and_switch_on_a_thirty_message_thread(anon_client, env) -> None:
    env(GUARD_REQUESTS_PER_MINUTE=1_000_000)  # 36 model calls in a few seconds
    session_id = anon_client.post("/api/chat/sessions/", {}, format="json").json()["id"]
    runs = [
        _say(anon_client, session_id, f"hashtags for topic number {n}")["run_id"]
        for n in range(1, 16)
    ]
    transcript = _transcript(anon_client, session_id)
    assert len(transcript) == 30
    assert [m["role"] for m in transcript[:2]] == ["user", "assistant"]
    assert transcript[1]["parent_id"] == transcript[0]["id"]
    assert all(m["siblings"]["count"] == 1 for m in transcript)
    assert _history_after(transcript[-1]["id"]) == runs

    # Regenerate the 5th answer: the run starts from the state before its question.
    fifth = transcript[9]
    again = _done(
        anon_client.post(
            f"/api/chat/sessions/{session_id}/messages/{fifth['id']}/regenerate/", {}, format="json"
        )
    )
    assert again["message_id"] == transcript[8]["id"]  # the same question
    branch = _transcript(anon_client, session_id)
    assert len(branch) == 10
    assert branch[9]["siblings"] == {"index": 2, "count": 2, "ids": [fifth["id"], branch[9]["id"]]}
    assert _history_after(branch[9]["id"]) == [*runs[:4], again["run_id"]]
    assert Run.objects.get(pk=again["run_id"]).input["content"] == "hashtags for topic number 5"

    # Edit the 3rd question: a sibling of it, forked after the 2nd answer.
    third = branch[4]
    edited = _say(anon_client, session_id, "hashtags for latte art", edit_of=third["id"])
    branch = _transcript(anon_client, session_id)
    assert [m["content"] for m in branch if m["role"] == "user"] == [
        "hashtags for topic number 1",
        "hashtags for topic number 2",
        "hashtags for latte art",
    ]
    assert branch[4]["siblings"]["index"] == 2 and branch[4]["siblings"]["count"] == 2
    assert _history_after(branch[5]["id"]) == [*runs[:2], edited["run_id"]]

    # Back to the original 3rd question: its newest line (with the regenerated 5th answer).
    switched = anon_client.put(
        f"/api/chat/sessions/{session_id}/branch/", {"message_id": third["id"]}, format="json"
    )
    assert switched.status_code == 200
    assert len(switched.json()["messages"]) == 10
    assert _transcript(anon_client, session_id)[-1]["id"] == branch_leaf(session_id)
    nxt = _say(anon_client, session_id, "and ideas for topic number 6")
    assert _history_after(_answer_of(anon_client, session_id)) == [
        *runs[:4],
        again["run_id"],
        nxt["run_id"],
    ]


def branch_leaf(session_id: str) -> str:
    return str(ChatSession.objects.get(pk=session_id).current_leaf_id)


def test_editing_the_first_message_starts_a_branch_with_no_history(anon_client) -> None:
    session_id = anon_client.post("/api/chat/sessions/", {}, format="json").json()["id"]
    first = _say(anon_client, session_id, "hashtags for espresso")
    _say(anon_client, session_id, "hashtags for latte art")

    edited = _say(anon_client, session_id, "ideas for tea", edit_of=first["message_id"])

    branch = _transcript(anon_client, session_id)
    assert [m["content"] for m in branch if m["role"] == "user"] == ["ideas for tea"]
    assert branch[0]["siblings"]["count"] == 2 and branch[0]["parent_id"] is None
    assert _history_after(branch[1]["id"]) == [edited["run_id"]]
    answer = ChatMessage.objects.get(pk=branch[1]["id"])
    assert answer.thread_id != session_id  # a thread of its own, deleted with the session

    assert anon_client.delete(f"/api/chat/sessions/{session_id}/").status_code == 204

    async def gone() -> bool:
        async with open_graph() as graph:
            state = await graph.aget_state({"configurable": {"thread_id": answer.thread_id}})
            return not state.values

    assert async_to_sync(gone)()


def test_bad_versions_name_the_field(anon_client) -> None:
    session_id = anon_client.post("/api/chat/sessions/", {}, format="json").json()["id"]
    body = _say(anon_client, session_id, "hashtags for espresso")
    answer = _answer_of(anon_client, session_id)

    wrong_role = anon_client.post(
        f"/api/chat/sessions/{session_id}/messages/",
        {"content": "x", "edit_of": answer},
        format="json",
    )
    assert (
        wrong_role.status_code == 400
        and "edit_of" in wrong_role.json()["error"]["details"]["fields"]
    )
    unknown = anon_client.post(
        f"/api/chat/sessions/{session_id}/messages/00000000-0000-0000-0000-000000000000/regenerate/",
        {},
        format="json",
    )
    assert (
        unknown.status_code == 400 and "messageId" in unknown.json()["error"]["details"]["fields"]
    )
    bad_switch = anon_client.put(
        f"/api/chat/sessions/{session_id}/branch/", {"message_id": "nope"}, format="json"
    )
    assert bad_switch.status_code == 400
    # Another client's session is not found.
    other = APIClient()
    from backend.clients.services import client_create

    _client, token = client_create(ip_hash="other")
    other.credentials(HTTP_X_CLIENT_TOKEN=token)
    foreign = other.post(
        f"/api/chat/sessions/{session_id}/messages/{body['message_id']}/regenerate/",
        {},
        format="json",
    )
    assert foreign.status_code == 404


async def test_regenerate_through_use_chat_answers_the_named_answer_again(anon_client) -> None:
    import json

    from asgiref.sync import sync_to_async
    from django.test import AsyncClient

    from tests.backend.chat.test_ui_stream import read_ui

    token = anon_client._credentials["HTTP_X_CLIENT_TOKEN"]
    question = {"id": "u1", "role": "user", "parts": [{"type": "text", "text": "hashtags for tea"}]}

    async def post(body: dict) -> list[dict]:
        response = await AsyncClient().post(
            "/api/chat", data=json.dumps(body), content_type="application/json",
            headers={"X-Client-Token": token},
        )  # fmt: skip
        assert response.status_code == 200, response.content
        lines = await read_ui(response)
        return [json.loads(x.removeprefix("data: ")) for x in lines[:-1] if x.startswith("data: ")]

    first = await post({"id": "chat-regen", "messages": [question]})
    answer_id = first[0]["messageId"]  # the server's id of the answer
    again = await post(
        {"id": "chat-regen", "trigger": "regenerate-message", "messageId": answer_id,
         "messages": [question]}
    )  # fmt: skip

    assert again[0]["messageId"] != answer_id and again[-1]["type"] == "finish"
    session = await sync_to_async(ChatSession.objects.get)(external_id="chat-regen")
    branch = await sync_to_async(_transcript)(anon_client, str(session.id))
    assert [m["role"] for m in branch] == ["user", "assistant"]
    assert branch[1]["id"] == again[0]["messageId"]
    assert branch[1]["siblings"]["count"] == 2 and answer_id in branch[1]["siblings"]["ids"]


def test_rollback_cancels_the_active_run_and_continues_from_before_it(anon_client, env) -> None:
    env(OFFLINE_TOKEN_DELAY_MS=30, RUN_HEARTBEAT_S=0.2, GUARD_REQUESTS_PER_MINUTE=1_000_000)
    session_id = anon_client.post("/api/chat/sessions/", {}, format="json").json()["id"]
    first = _say(anon_client, session_id, "hashtags for espresso")
    slow = anon_client.post(
        f"/api/chat/sessions/{session_id}/messages/",
        {"content": "hashtags for latte art"},
        format="json",
    ).json()
    wait_for(lambda: Run.objects.filter(pk=slow["run_id"], status="running").first(), timeout=20)

    rolled = _say(anon_client, session_id, "hashtags for cold brew", multitask="rollback")

    assert Run.objects.get(pk=slow["run_id"]).status == "cancelled"
    branch = _transcript(anon_client, session_id)
    assert [m["content"] for m in branch if m["role"] == "user"] == [
        "hashtags for espresso",
        "hashtags for cold brew",
    ]
    assert branch[2]["siblings"]["count"] == 2  # the rolled-back question is a version
    # The model never saw the rolled-back question.
    assert _history_after(branch[3]["id"]) == [first["run_id"], rolled["run_id"]]
