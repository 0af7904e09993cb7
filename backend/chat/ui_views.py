"""AI SDK-compatible endpoints: ``useChat`` talks to these with no glue code."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from rest_framework import serializers

from backend.chat import approvals, selectors, services, ui_stream
from backend.clients.identity import Identity
from backend.core.db import released
from backend.core.errors import (
    ConflictError,
    NotFoundError,
    UnsupportedMediaTypeError,
    ValidationError,
)
from backend.llm.selectors import default_model_id, model_price
from backend.runs.models import Run
from backend.runs.sse_view import EventStream, StreamReader, sse_view

MAX_CHAT_ID = 100
TRIGGERS = ("submit-message", "regenerate-message")


class ChatIdField(serializers.Field):
    """The AI SDK chat id: our session's uuid or the client's own id (stored stripped)."""

    rule = f"must be a chat id of 1-{MAX_CHAT_ID} characters"
    default_error_messages = {"required": rule, "null": rule}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str) or not data.strip() or len(data) > MAX_CHAT_ID:
            raise serializers.ValidationError(self.rule)
        return data.strip()

    def to_representation(self, value: str) -> str:
        return value


class ModelIdField(serializers.Field):
    """A declared model with a known price (null: the default model)."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str) or model_price(model_id=data) is None:
            raise serializers.ValidationError(f"unknown model or no known price: {data!r}")
        return data

    def to_representation(self, value: str) -> str:
        return value


class UiMessagePartSerializer(serializers.Serializer):
    """One part of a UI message; ``text`` parts are read, and tool parts the creator
    answered (``state: approval-responded``, with ``approval: {id, approved, reason}``)."""

    type = serializers.CharField()
    text = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    state = serializers.CharField(required=False)
    toolCallId = serializers.CharField(required=False)
    approval = serializers.DictField(required=False)


class UiMessageSerializer(serializers.Serializer):
    """A UI message: ``parts`` as ``useChat`` sends them, or a plain ``content`` string."""

    id = serializers.CharField(required=False, allow_blank=True)
    role = serializers.ChoiceField(choices=["system", "user", "assistant"])
    parts = serializers.ListField(child=UiMessagePartSerializer(), required=False)
    content = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)


class UiChatInputSerializer(serializers.Serializer):
    """What the AI SDK 6 ``useChat`` default transport posts, plus the chosen ``model``.

    Only the newest user message is used (``content``): the server keeps the history.
    ``regenerate-message`` answers again: the answer ``messageId`` names (the server's id,
    from the stream's ``start`` part), else the newest answer of the branch on screen.
    """

    non_empty = "must be a non-empty list"

    id = ChatIdField()
    trigger = serializers.ChoiceField(
        choices=TRIGGERS,
        default="submit-message",
        error_messages=dict.fromkeys(
            ("invalid_choice", "null"), "must be submit-message or regenerate-message"
        ),
    )
    messageId = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    model = ModelIdField(required=False, allow_null=True, default=None)
    # Double-texting, as on the message post: what a message does while a run is active.
    multitask = serializers.ChoiceField(
        choices=services.MULTITASK_STRATEGIES, required=False, default="reject"
    )
    messages = serializers.ListField(
        child=UiMessageSerializer(),
        allow_empty=False,
        error_messages=dict.fromkeys(("required", "null", "not_a_list", "empty"), non_empty),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        answers = _approval_answers(attrs["messages"])
        if answers:  # the follow-up of addToolApprovalResponse: no new message
            return {**attrs, "content": "", "approvals": answers}
        return {**attrs, "content": _newest_user_text(attrs["messages"]), "approvals": []}


def _approval_answers(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The approvals answered in the newest message, when it is the assistant's."""
    last = messages[-1]
    if last["role"] != "assistant":
        return []
    answers = []
    for part in last.get("parts", []):
        approval = part.get("approval") or {}
        if part.get("state") != "approval-responded" or "approved" not in approval:
            continue
        if not isinstance(approval.get("id"), str) or not isinstance(approval["approved"], bool):
            raise serializers.ValidationError(
                {"messages": ["an approval response needs an id and approved: true or false"]}
            )
        reason = approval.get("reason")
        answers.append(
            {
                "approval_id": approval["id"],
                "approved": approval["approved"],
                "reason": reason if isinstance(reason, str) else "",
            }
        )
    return answers


def _newest_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message["role"] != "user":
            continue
        if "parts" in message:
            texts = [part.get("text", "") for part in message["parts"] if part["type"] == "text"]
            return "".join(texts)
        if "content" in message:
            return str(message["content"])
        raise serializers.ValidationError({"messages": ["the user message has no text parts"]})
    raise serializers.ValidationError({"messages": ["contains no user message"]})


def _json_object(request: HttpRequest) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise UnsupportedMediaTypeError("Send the body as application/json.")
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        raise ValidationError("Malformed JSON body.", details={"fields": {}}) from None
    if not isinstance(body, dict):
        raise ValidationError("The body must be a JSON object.")
    return body


@released
def _start(request: HttpRequest, identity: Identity) -> tuple[str, str, int]:
    """The run to stream, its session, and the seq to stream after (0: from its start)."""
    body = UiChatInputSerializer(data=_json_object(request))
    body.is_valid(raise_exception=True)
    if body.validated_data["approvals"]:
        return _answer_approvals(identity, body.validated_data)
    model = body.validated_data["model"]
    session = services.session_for_ui_chat(
        client_id=identity.client_id,
        chat_id=body.validated_data["id"],
        model=model or default_model_id(),
    )
    regenerate = None
    if body.validated_data["trigger"] == "regenerate-message":
        regenerate = services.answer_to_regenerate(
            session=session, message_id=body.validated_data.get("messageId")
        )
    run, _message = services.message_post(
        session=session,
        identity=identity,
        content=body.validated_data["content"],
        model=model,
        regenerate=regenerate,
        multitask=body.validated_data["multitask"],
        content_field="messages",
    )
    return str(run.id), str(session.id), 0


def _answer_approvals(identity: Identity, data: dict[str, Any]) -> tuple[str, str, int]:
    """Route the answers to their approvals; the run's stream goes on from where it
    stopped to wait (what came before is already on the creator's screen)."""
    session = selectors.session_find_for_client(client_id=identity.client_id, chat_id=data["id"])
    if session is None:
        raise NotFoundError("No such chat.")
    run_id = ""
    for answer in data["approvals"]:
        run_id = selectors.approval_run_id(
            approval_id=answer["approval_id"], client_id=identity.client_id
        )
        try:
            approvals.approval_resolve(
                identity=identity,
                run_id=run_id,
                approval_id=answer["approval_id"],
                approved=answer["approved"],
                reason=answer["reason"],
            )
        except ConflictError:
            pass  # answered already (through the REST endpoint): just stream the run
    return run_id, str(session.id), selectors.run_waited_at_seq(run_id=run_id)


def _identity(reader: StreamReader) -> Identity:
    # These views take no stream token, so the caller came with credentials.
    assert reader.identity is not None
    return reader.identity


@sse_view(method="POST")
async def ui_chat(request: HttpRequest, reader: StreamReader) -> EventStream:
    """POST /api/chat: the newest user message starts a run; the answer streams back.

    The client's stream slot is taken before the run is started: a client at its limit
    gets 429 and no run.
    """
    await reader.take_slot()
    run_id, session_id, after_seq = await _start(request, _identity(reader))
    return EventStream(
        ui_stream.ui_stream_body(run_id=run_id, session_id=session_id, after_seq=after_seq),
        headers=ui_stream.HEADERS,
    )


@released
def _active_run(*, client_id: str, chat_id: str) -> tuple[str, str, int] | None:
    """The session's active run, its session and the seq through which its waits are over
    (every ``run.waiting`` but a current one)."""
    session = selectors.session_find_for_client(client_id=client_id, chat_id=chat_id)
    if session is None:
        return None
    run = selectors.session_active_run(session_id=str(session.id))
    if run is None:
        return None
    waited = selectors.run_waited_at_seq(run_id=str(run.id))
    over = waited - 1 if run.status == Run.Status.WAITING else waited
    return str(run.id), str(session.id), max(0, over)


@sse_view()
async def ui_chat_resume(
    request: HttpRequest, reader: StreamReader, chat_id: str
) -> EventStream | HttpResponseBase:
    """GET /api/chat/{id}/stream: the active run's stream from its start (through the
    approvals it already got: ``resumeStream()`` after answering one over REST streams
    on); 204 when idle."""
    active = await _active_run(client_id=reader.client_id, chat_id=chat_id)
    if active is None:
        return HttpResponse(status=204)
    run_id, session_id, waits_over = active
    return EventStream(
        ui_stream.ui_stream_body(
            run_id=run_id, session_id=session_id, waits_over_through=waits_over
        ),
        headers=ui_stream.HEADERS,
    )
