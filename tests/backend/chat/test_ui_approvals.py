"""Approvals through the AI SDK endpoint: the stream shows the call with
``tool-approval-request`` and closes while the run waits; the follow-up ``POST /api/chat``
that carries the answered approval (what ``addToolApprovalResponse`` and
``sendAutomaticallyWhen`` send) is routed to the approval and streams the rest."""

from __future__ import annotations

import json

import pytest
from django.test import AsyncClient

from backend.chat.ui_stream import UiStreamTranslator
from backend.runs.eventlog import reset_for_tests
from backend.runs.eventlog.base import Event
from tests.backend.chat.test_ui_stream import read_ui, validate_part

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def embedded(settings):
    settings.TASK_RUNNER = "thread"
    reset_for_tests()
    yield
    reset_for_tests()


async def _post(token: str, body: dict) -> list[dict]:
    response = await AsyncClient().post(
        "/api/chat", data=json.dumps(body), content_type="application/json",
        headers={"X-Client-Token": token},
    )  # fmt: skip
    assert response.status_code == 200, response.content
    lines = await read_ui(response)
    assert lines[-1] == "data: [DONE]"
    parts = [
        json.loads(line.removeprefix("data: ")) for line in lines[:-1] if line.startswith("data: ")
    ]
    for part in parts:
        validate_part(part)
    return parts


def _question() -> dict:
    return {
        "id": "chat-approve",
        "trigger": "submit-message",
        "messages": [
            {
                "id": "u1",
                "role": "user",
                "parts": [{"type": "text", "text": "hashtags for latte art"}],
            }
        ],
    }


def _answered(question: dict, parts: list[dict], *, approved: bool, reason: str = "") -> dict:
    """The messages useChat sends once the approval is answered."""
    [request] = [p for p in parts if p["type"] == "tool-approval-request"]
    [call] = [p for p in parts if p["type"] == "tool-input-available"]
    assistant = {
        "id": "a1",
        "role": "assistant",
        "parts": [
            {"type": "step-start"},
            {
                "type": f"tool-{call['toolName']}",
                "toolCallId": request["toolCallId"],
                "state": "approval-responded",
                "input": call["input"],
                "approval": {"id": request["approvalId"], "approved": approved, "reason": reason},
            },
        ],
    }
    return {**question, "messages": [*question["messages"], assistant]}


async def _always_ask(anon_client) -> str:
    from asgiref.sync import sync_to_async

    response = await sync_to_async(anon_client.put)(
        "/api/clients/me/approvals/", {"mode": "always"}, format="json"
    )
    assert response.status_code == 200
    return anon_client._credentials["HTTP_X_CLIENT_TOKEN"]


async def test_approve_through_use_chat_streams_the_tool_and_the_answer(anon_client):
    token = await _always_ask(anon_client)
    question = _question()
    first = await _post(token, question)

    kinds = [p["type"] for p in first]
    assert kinds.index("tool-input-available") < kinds.index("tool-approval-request")
    assert kinds[-1] == "finish" and first[-1]["messageMetadata"]["waiting"]["reason"] == "approval"
    assert "tool-output-available" not in kinds and "text-delta" not in kinds

    rest = await _post(token, _answered(question, first, approved=True))

    kinds = [p["type"] for p in rest]
    assert "tool-output-available" in kinds and "text-delta" in kinds
    assert "tool-approval-request" not in kinds  # the stream goes on after the wait
    assert kinds[-1] == "finish" and "waiting" not in rest[-1]["messageMetadata"]


async def test_deny_through_use_chat_renders_denied_and_the_model_answers(anon_client):
    token = await _always_ask(anon_client)
    question = _question()
    first = await _post(token, question)

    rest = await _post(token, _answered(question, first, approved=False, reason="not today"))

    kinds = [p["type"] for p in rest]
    assert "tool-output-denied" in kinds
    assert "tool-output-error" not in kinds and "tool-output-available" not in kinds
    assert "text-delta" in kinds and kinds[-1] == "finish"


async def test_an_answer_for_an_unknown_approval_is_404(anon_client):
    token = await _always_ask(anon_client)
    question = _question()
    first = await _post(token, question)
    body = _answered(question, first, approved=True)
    body["messages"][-1]["parts"][1]["approval"]["id"] = "00000000-0000-0000-0000-000000000000"

    response = await AsyncClient().post(
        "/api/chat", data=json.dumps(body), content_type="application/json",
        headers={"X-Client-Token": token},
    )  # fmt: skip

    assert response.status_code == 404
    assert json.loads(response.content)["error"]["code"] == "NOT_FOUND"


def test_a_model_calls_approval_is_a_tool_part_of_its_own_that_ends_when_approved() -> None:
    translator = UiStreamTranslator(run_id="r", session_id="s")
    call = {"approval_id": "a1", "call_id": "model-plan-1", "name": "model_call"}
    requested = {**call, "args": {"feature": "plan", "model": "m"}, "estimate": {}}
    resolved = {**call, "approved": True, "args": None, "reason": ""}

    parts = translator.translate(
        Event(run_id="r", seq=1, type="approval.requested", attempt=1, ts="", data=requested)
    )
    parts += translator.translate(
        Event(run_id="r", seq=2, type="approval.resolved", attempt=1, ts="", data=resolved)
    )

    for part in parts:
        validate_part(part)
    tool_parts = [p for p in parts if p["type"].startswith("tool-")]
    assert [p["type"] for p in tool_parts] == [
        "tool-input-available",
        "tool-approval-request",
        "tool-output-available",
    ]
    assert {p["toolCallId"] for p in tool_parts} == {"model-plan-1"}
    assert tool_parts[0]["toolName"] == "model_call"
