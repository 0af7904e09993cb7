"""The AI SDK 6 UI message stream: parts validate against the SDK's chunk shapes."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient

from backend.runs.eventlog import reset_for_tests
from backend.runs.models import Run
from tests.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

# Keys each chunk type may carry (the SDK's schemas are strict objects).
ALLOWED = {
    "start": ({"type"}, {"messageId", "messageMetadata"}),
    "start-step": ({"type"}, set()),
    "text-start": ({"type", "id"}, {"providerMetadata"}),
    "text-delta": ({"type", "id", "delta"}, {"providerMetadata"}),
    "text-end": ({"type", "id"}, {"providerMetadata"}),
    "tool-input-available": (
        {"type", "toolCallId", "toolName", "input"},
        {"providerExecuted", "providerMetadata", "dynamic", "title"},
    ),
    "tool-output-available": (
        {"type", "toolCallId", "output"},
        {"providerExecuted", "dynamic", "preliminary"},
    ),
    "tool-output-error": ({"type", "toolCallId", "errorText"}, {"providerExecuted", "dynamic"}),
    "tool-approval-request": ({"type", "approvalId", "toolCallId"}, set()),
    "tool-output-denied": ({"type", "toolCallId"}, set()),
    "finish-step": ({"type"}, set()),
    "finish": ({"type"}, {"finishReason", "messageMetadata"}),
    "error": ({"type", "errorText"}, set()),
    "abort": ({"type"}, {"reason"}),
}


def validate_part(part: dict) -> None:
    kind = part["type"]
    if kind.startswith("data-"):
        assert {"type", "data"} <= set(part) <= {"type", "data", "id", "transient"}, part
        return
    required, optional = ALLOWED[kind]
    assert required <= set(part) <= required | optional, part


def ui_body(chat_id: str, text: str = "ideas and hashtags for a home espresso channel") -> dict:
    return {
        "id": chat_id,
        "trigger": "submit-message",
        "messageId": "m-1",
        "messages": [
            {"id": "old", "role": "user", "parts": [{"type": "text", "text": "earlier"}]},
            {"id": "m-1", "role": "user", "parts": [{"type": "text", "text": text}]},
        ],
    }


@pytest.fixture(autouse=True)
def embedded(settings):
    settings.TASK_RUNNER = "thread"
    reset_for_tests()
    yield
    reset_for_tests()


async def read_ui(response) -> list:
    lines = []

    async def read():
        async for chunk in response.streaming_content:
            lines.extend(line for line in chunk.decode().split("\n\n") if line.strip())

    await asyncio.wait_for(read(), timeout=30)
    return lines


@pytest.mark.parametrize("path", ["/api/chat", "/api/chat/"])
async def test_post_streams_valid_ui_parts(anon_client, path):
    token = anon_client._credentials["HTTP_X_CLIENT_TOKEN"]
    response = await AsyncClient().post(
        path,
        data=json.dumps(ui_body("chat-abc")),
        content_type="application/json",
        headers={"X-Client-Token": token},
    )
    assert response.status_code == 200
    assert response["x-vercel-ai-ui-message-stream"] == "v1"
    assert response["Content-Type"].startswith("text/event-stream")
    lines = await read_ui(response)
    assert lines[-1] == "data: [DONE]"
    parts = [
        json.loads(line.removeprefix("data: ")) for line in lines[:-1] if line.startswith("data: ")
    ]
    for part in parts:
        validate_part(part)
    kinds = [p["type"] for p in parts]
    assert kinds[0] == "start" and parts[0]["messageMetadata"]["run_id"]
    assert kinds[-1] == "finish"
    for needed in (
        "start-step",
        "data-plan",
        "tool-input-available",
        "tool-output-available",
        "text-start",
        "text-delta",
        "text-end",
        "finish-step",
        "data-usage",
    ):
        assert needed in kinds, needed
    text_ids = {p["id"] for p in parts if p["type"] == "text-delta"}
    started = {p["id"] for p in parts if p["type"] == "text-start"}
    assert text_ids <= started
    # Only the newest user message was used: the server owns the history.
    run = await sync_to_async(Run.objects.get)(pk=parts[0]["messageMetadata"]["run_id"])
    assert run.input["content"].startswith("ideas and hashtags")


async def test_same_chat_id_continues_the_same_session(anon_client):
    token = anon_client._credentials["HTTP_X_CLIENT_TOKEN"]
    for text in ("ideas for espresso", "hashtags for latte art"):
        response = await AsyncClient().post(
            "/api/chat",
            data=json.dumps(ui_body("chat-xyz", text)),
            content_type="application/json",
            headers={"X-Client-Token": token},
        )
        await read_ui(response)
    runs = await sync_to_async(list)(
        Run.objects.order_by("ordinal").values_list("session_id", "ordinal")
    )
    assert len({sid for sid, _ in runs}) == 1 and [o for _, o in runs] == [1, 2]


def test_resume_is_204_when_idle_and_streams_when_active(anon_client, env):
    assert anon_client.get("/api/chat/never-seen/stream").status_code == 204
    env(OFFLINE_TOKEN_DELAY_MS=30)
    response = anon_client.post("/api/chat", ui_body("chat-r"), format="json")
    assert response.status_code == 200
    run_id = Run.objects.get().pk
    wait_for(lambda: Run.objects.get(pk=run_id).status == "running", timeout=20)
    resumed = anon_client.get("/api/chat/chat-r/stream")
    assert resumed.status_code == 200
    assert resumed["x-vercel-ai-ui-message-stream"] == "v1"
    wait_for(lambda: Run.objects.get(pk=run_id).is_finished, timeout=60)
    assert anon_client.get("/api/chat/chat-r/stream/").status_code == 204


USER = {"id": "u1", "role": "user", "parts": [{"type": "text", "text": "ideas"}]}


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"messages": [USER]}, "id", "id: must be a chat id of 1-100 characters"),
        ({"id": 7, "messages": [USER]}, "id", "id: must be a chat id of 1-100 characters"),
        ({"id": "  ", "messages": [USER]}, "id", "id: must be a chat id of 1-100 characters"),
        ({"id": "x" * 101, "messages": [USER]}, "id", "id: must be a chat id of 1-100 characters"),
        ({"id": "c"}, "messages", "messages: must be a non-empty list"),
        ({"id": "c", "messages": []}, "messages", "messages: must be a non-empty list"),
        ({"id": "c", "messages": "hi"}, "messages", "messages: must be a non-empty list"),
        (
            {"id": "c", "messages": {"role": "user"}},
            "messages",
            "messages: must be a non-empty list",
        ),
        (
            {"id": "c", "messages": [{"role": "assistant", "parts": []}]},
            "messages",
            "messages: contains no user message",
        ),
        (
            {"id": "c", "messages": [{"role": "user"}]},
            "messages",
            "messages: the user message has no text parts",
        ),
        (
            {"id": "c", "messages": [USER, "hi"]},
            "messages",
            "messages[1]: Invalid data. Expected a dictionary, but got str.",
        ),
        (
            {"id": "c", "messages": [{**USER, "role": "bot"}]},
            "messages",
            'messages[0].role: "bot" is not a valid choice.',
        ),
        (
            {"id": "c", "messages": [{**USER, "parts": "ideas"}]},
            "messages",
            'messages[0].parts: Expected a list of items but got type "str".',
        ),
        (
            {"id": "c", "messages": [{**USER, "parts": [{"text": "ideas"}]}]},
            "messages",
            "messages[0].parts[0].type: This field is required.",
        ),
        (
            {"id": "c", "trigger": "explode", "messages": [USER]},
            "trigger",
            "trigger: must be submit-message or regenerate-message",
        ),
        (
            {"id": "c", "trigger": None, "messages": [USER]},
            "trigger",
            "trigger: must be submit-message or regenerate-message",
        ),
        (
            {"id": "c", "model": "no/such", "messages": [USER]},
            "model",
            "model: unknown model or no known price: 'no/such'",
        ),
        (
            {"id": "c", "model": 3, "messages": [USER]},
            "model",
            "model: unknown model or no known price: 3",
        ),
    ],
)
def test_bad_bodies_name_the_field(anon_client, body, field, message):
    response = anon_client.post("/api/chat", body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert field in error["details"]["fields"]
    assert error["message"] == message
    assert not Run.objects.exists()


def test_every_bad_field_is_named(anon_client):
    response = anon_client.post(
        "/api/chat", {"id": "", "trigger": "x", "messages": []}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert set(error["details"]["fields"]) == {"id", "trigger", "messages"}
    assert error["message"] == "id: must be a chat id of 1-100 characters"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{not json", "Malformed JSON body."),
        (b"[1, 2]", "The body must be a JSON object."),
        (b'"text"', "The body must be a JSON object."),
    ],
)
def test_a_body_that_is_no_json_object_is_400(anon_client, raw, message):
    response = anon_client.generic("POST", "/api/chat", raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["message"] == message


@pytest.mark.parametrize(
    ("body", "content"),
    [
        # What the app's transport sends (lib/chat-transport.ts): the newest message only.
        (
            {
                "id": " chat-1 ",
                "trigger": "submit-message",
                "messageId": "m-1",
                "model": "offline",
                "messages": [USER],
            },
            "ideas",
        ),
        # The SDK's default body: the whole history, regenerate, extra fields and parts.
        (
            {
                "id": "chat-1",
                "trigger": "regenerate-message",
                "messageId": None,
                "model": None,
                "metadata": {"source": "test"},
                "messages": [
                    {"id": "s", "role": "system", "parts": [{"type": "text", "text": "be brief"}]},
                    {
                        "id": "u0",
                        "role": "user",
                        "metadata": {"at": 1},
                        "parts": [
                            {"type": "text", "text": "espresso ", "state": "done"},
                            {"type": "file", "mediaType": "image/png", "url": "data:,"},
                            {"type": "text", "text": "hashtags"},
                        ],
                    },
                    {
                        "id": "a0",
                        "role": "assistant",
                        "parts": [
                            {"type": "step-start"},
                            {
                                "type": "tool-hashtags",
                                "toolCallId": "t",
                                "state": "output-available",
                            },
                            {"type": "data-plan", "data": {"tool_calls": []}},
                        ],
                    },
                ],
            },
            "espresso hashtags",
        ),
        # A plain {role, content} message (curl, the load bench).
        ({"id": "chat-1", "messages": [{"role": "user", "content": "hi"}]}, "hi"),
    ],
)
def test_what_use_chat_sends_is_accepted(body, content):
    from backend.chat.ui_views import UiChatInputSerializer

    parsed = UiChatInputSerializer(data=body)
    assert parsed.is_valid(), parsed.errors
    assert parsed.validated_data["id"] == "chat-1"
    assert parsed.validated_data["content"] == content
    assert parsed.validated_data["trigger"] in ("submit-message", "regenerate-message")


def test_wrong_content_type_and_anonymous(anon_client):
    from rest_framework.test import APIClient

    assert anon_client.post("/api/chat", "x", content_type="text/plain").status_code == 415
    assert APIClient().post("/api/chat", ui_body("c"), format="json").status_code == 401
    assert anon_client.get("/api/chat").status_code == 405


async def test_a_token_caller_needs_no_csrf_cookie_and_a_cookie_caller_needs_the_header(
    anon_client,
):
    from django.conf import settings
    from django.test import AsyncClient as DjangoClient

    # Django's CSRF checks on, as in the running service (its test client turns them off).
    token = anon_client._credentials["HTTP_X_CLIENT_TOKEN"]
    api = DjangoClient(enforce_csrf_checks=True)
    body = json.dumps(ui_body("csrf-1"))
    answered = await api.post(
        "/api/chat", body, content_type="application/json", headers={"X-Client-Token": token}
    )
    assert answered.status_code == 200, answered.content
    assert (await read_ui(answered))[-1] == "data: [DONE]"

    browser = DjangoClient(enforce_csrf_checks=True)
    browser.cookies[settings.ENV.CLIENT_TOKEN_COOKIE] = token
    refused = await browser.post("/api/chat", body, content_type="application/json")
    assert refused.status_code == 403
    assert "X-Requested-With" in refused.json()["error"]["message"]


async def test_multitask_rollback_through_use_chat_replaces_the_question_being_answered(
    anon_client, env
):
    env(OFFLINE_TOKEN_DELAY_MS=30, RUN_HEARTBEAT_S=0.2, GUARD_REQUESTS_PER_MINUTE=1_000_000)
    headers = {"X-Client-Token": anon_client._credentials["HTTP_X_CLIENT_TOKEN"]}

    async def post(body: dict):
        return await AsyncClient().post(
            "/api/chat", data=json.dumps(body), content_type="application/json", headers=headers
        )

    slow = await post(ui_body("chat-rollback", "hashtags for latte art"))  # left unread
    assert slow.status_code == 200
    # (polled from the loop: a blocking wait would hold the thread the run's queries use)
    find = sync_to_async(
        lambda: (
            Run.objects.filter(status="running", input__content="hashtags for latte art")
            .values_list("id", flat=True)
            .first()
        )
    )
    async with asyncio.timeout(20):
        while (running := await find()) is None:
            await asyncio.sleep(0.05)
    refused = await post(ui_body("chat-rollback", "hashtags for cold brew"))
    assert refused.status_code == 409  # the default, reject, as on the message post
    bad = await post({**ui_body("chat-rollback"), "multitask": "later"})
    assert bad.status_code == 400 and "multitask" in bad.json()["error"]["details"]["fields"]

    rolled = await post(
        {**ui_body("chat-rollback", "hashtags for cold brew"), "multitask": "rollback"}
    )
    assert rolled.status_code == 200, rolled.content
    lines = await read_ui(rolled)
    parts = [
        json.loads(line.removeprefix("data: ")) for line in lines if line.startswith("data: {")
    ]
    assert parts[-1]["type"] == "finish"

    assert (await sync_to_async(Run.objects.get)(pk=running)).status == "cancelled"
    new_run = await sync_to_async(Run.objects.get)(pk=parts[0]["messageMetadata"]["run_id"])
    assert new_run.status == "completed" and new_run.input["content"] == "hashtags for cold brew"
