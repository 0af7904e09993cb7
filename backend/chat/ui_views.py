"""AI SDK-compatible endpoints: ``useChat`` talks to these with no glue code."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse

from backend.chat import selectors, services, ui_stream
from backend.clients.authentication import CSRF_HEADER, IdentityError, resolve_identity
from backend.clients.identity import Identity
from backend.core.db import released
from backend.core.errors import (
    ApplicationError,
    ForbiddenError,
    MethodNotAllowedError,
    UnauthorizedError,
    UnsupportedMediaTypeError,
    ValidationError,
    error_response,
    from_exception,
)
from backend.llm.selectors import default_model_id, model_price
from backend.runs import stream_slots

MAX_CHAT_ID = 100


def _identity(request: HttpRequest) -> Identity:
    try:
        identity = resolve_identity(request)
    except IdentityError as exc:
        raise UnauthorizedError(exc.message) from None
    if identity is None:
        raise UnauthorizedError("Send a client token (POST /api/clients/) or an API key.")
    if identity.from_cookie and request.method == "POST" and not request.headers.get(CSRF_HEADER):
        raise ForbiddenError(f"Cookie-authenticated requests must send the {CSRF_HEADER} header.")
    return identity


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


def _ui_response(run_id: str, session_id: str, slot: stream_slots.Slot) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        stream_slots.held(ui_stream.ui_stream_body(run_id=run_id, session_id=session_id), slot),
        content_type="text/event-stream",
    )
    for name, value in ui_stream.HEADERS.items():
        response[name] = value
    return response


async def ui_chat(request: HttpRequest) -> HttpResponseBase:
    """POST /api/chat: the newest user message starts a run; the answer streams back.

    The client's stream slot is taken before the run is started: a client at its limit
    gets 429 and no run.
    """
    if request.method != "POST":
        return error_response(MethodNotAllowedError(details={"allowed": ["POST"]}))
    slot = None
    try:
        identity = await released(_identity)(request)
        slot = await stream_slots.slot_open(client_id=identity.client_id)
        run_id, session_id = await _start(request, identity)
    except Exception as exc:
        if slot is not None:
            await stream_slots.slot_close(slot)
        mapped = from_exception(exc)
        if mapped is None:
            raise
        return error_response(mapped)
    return _ui_response(run_id, session_id, slot)


@released
def _active(request: HttpRequest, chat_id: str) -> tuple[str, str, str] | None:
    identity = _identity(request)
    session = selectors.session_find_for_client(client_id=identity.client_id, chat_id=chat_id)
    if session is None:
        return None
    run = selectors.session_active_run(session_id=str(session.id))
    return (identity.client_id, str(run.id), str(session.id)) if run else None


async def ui_chat_resume(request: HttpRequest, chat_id: str) -> HttpResponseBase:
    """GET /api/chat/{id}/stream: the active run's stream from its start; 204 when idle."""
    if request.method != "GET":
        return error_response(MethodNotAllowedError(details={"allowed": ["GET"]}))
    try:
        active = await _active(request, chat_id)
        if active is None:
            return HttpResponse(status=204)
        client_id, run_id, session_id = active
        slot = await stream_slots.slot_open(client_id=client_id)
    except ApplicationError as error:
        return error_response(error)
    return _ui_response(run_id, session_id, slot)
