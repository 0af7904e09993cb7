"""AI SDK-compatible endpoints: ``useChat`` talks to these with no glue code."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase

from backend.chat import selectors, services, ui_stream
from backend.clients.identity import Identity
from backend.core.db import released
from backend.core.errors import UnsupportedMediaTypeError, ValidationError
from backend.llm.selectors import default_model_id, model_price
from backend.runs.sse_view import EventStream, StreamReader, sse_view

MAX_CHAT_ID = 100


def _newest_user_text(messages: Any) -> str:
    if not isinstance(messages, list) or not messages:
        raise ValidationError.for_field("messages", "must be a non-empty list")
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            parts = message.get("parts")
            if isinstance(parts, list):
                texts = [
                    p.get("text", "")
                    for p in parts
                    if isinstance(p, dict) and p.get("type") == "text"
                ]
                return "".join(t for t in texts if isinstance(t, str))
            if isinstance(message.get("content"), str):
                return str(message["content"])
            raise ValidationError.for_field("messages", "the user message has no text parts")
    raise ValidationError.for_field("messages", "contains no user message")


def _parse(request: HttpRequest) -> dict[str, Any]:
    if not request.content_type or request.content_type != "application/json":
        raise UnsupportedMediaTypeError("Send the body as application/json.")
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        raise ValidationError("Malformed JSON body.", details={"fields": {}}) from None
    if not isinstance(body, dict):
        raise ValidationError("The body must be a JSON object.")
    chat_id = body.get("id")
    if not isinstance(chat_id, str) or not chat_id.strip() or len(chat_id) > MAX_CHAT_ID:
        raise ValidationError.for_field("id", f"must be a chat id of 1-{MAX_CHAT_ID} characters")
    trigger = body.get("trigger", "submit-message")
    if trigger not in ("submit-message", "regenerate-message"):
        raise ValidationError.for_field("trigger", "must be submit-message or regenerate-message")
    model = body.get("model")
    if model is not None and (not isinstance(model, str) or model_price(model_id=model) is None):
        raise ValidationError.for_field("model", f"unknown model or no known price: {model!r}")
    return {
        "chat_id": chat_id.strip(),
        "content": _newest_user_text(body.get("messages")),
        "model": model,
    }


@released
def _start(request: HttpRequest, identity: Identity) -> tuple[str, str]:
    parsed = _parse(request)
    session = services.session_for_ui_chat(
        client_id=identity.client_id,
        chat_id=parsed["chat_id"],
        model=parsed["model"] or default_model_id(),
    )
    run, _message = services.message_post(
        session=session, identity=identity, content=parsed["content"], model=parsed["model"]
    )
    return str(run.id), str(session.id)


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
    run_id, session_id = await _start(request, _identity(reader))
    return EventStream(
        ui_stream.ui_stream_body(run_id=run_id, session_id=session_id), headers=ui_stream.HEADERS
    )


@released
def _active_run(*, client_id: str, chat_id: str) -> tuple[str, str] | None:
    session = selectors.session_find_for_client(client_id=client_id, chat_id=chat_id)
    if session is None:
        return None
    run = selectors.session_active_run(session_id=str(session.id))
    return (str(run.id), str(session.id)) if run else None


@sse_view()
async def ui_chat_resume(
    request: HttpRequest, reader: StreamReader, chat_id: str
) -> EventStream | HttpResponseBase:
    """GET /api/chat/{id}/stream: the active run's stream from its start; 204 when idle."""
    active = await _active_run(client_id=reader.client_id, chat_id=chat_id)
    if active is None:
        return HttpResponse(status=204)
    run_id, session_id = active
    return EventStream(
        ui_stream.ui_stream_body(run_id=run_id, session_id=session_id), headers=ui_stream.HEADERS
    )
