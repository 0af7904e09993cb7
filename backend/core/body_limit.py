"""Request body caps at the ASGI level, before Django reads a byte of the body.

Django's handler reads the whole body into memory (or a temporary file) before any
middleware runs, so a cap checked there comes too late, and a chunked body (no
``Content-Length``) was not checked at all. This wraps the ASGI application:

- a ``Content-Length`` above the cap is answered 413 at once, the body never read;
- a body without one is counted as it arrives, and once it passes the cap the client
  gets the 413 and the application sees the request aborted (nothing more is read).

The answer is the DESIGN.md error body (``PAYLOAD_TOO_LARGE``, ``details.limit_bytes``)
with ``X-Request-ID``, and closes the connection (the rest of the body is not read).
The cap is ``MAX_REQUEST_BODY_BYTES``; ``REQUEST_BODY_LIMITS`` gives a path its own
(the CSV import takes larger files).
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import structlog
from django.conf import settings

from backend.core.errors import (
    ApplicationError,
    PayloadTooLargeError,
    ValidationError,
    error_body,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
# Loose on purpose: servers and apps type their scopes and messages each their own way.
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]

logger = structlog.get_logger("backend.request")


def limit_for(path: str) -> int:
    """The body cap for a request to ``path`` (bytes)."""
    limits: dict[str, int] = getattr(settings, "REQUEST_BODY_LIMITS", {})
    return int(limits.get(path, settings.MAX_REQUEST_BODY_BYTES))


def too_large_message(*, limit: int, length: int | None) -> str:
    size = f"{length} bytes" if length is not None else "larger than the limit"
    return f"The request body is {size}; the limit is {limit} bytes."


class BodySizeLimit:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope.get("path", ""))
        raw_length = _header(scope, b"content-length")
        if raw_length is not None:
            try:
                length = int(raw_length)
            except ValueError:
                length = -1
            if length < 0:
                await _refuse(
                    scope,
                    send,
                    ValidationError.for_field("Content-Length", "must be a whole number of bytes"),
                )
                return
            if length > limit:
                await _refuse_too_large(scope, send, limit=limit, length=length)
                return
            # The server delivers no more than the declared length.
            await self.app(scope, receive, send)
            return
        await self._counted(scope, receive, send, limit=limit)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, *, limit: int) -> None:
        """A body of unknown length (chunked): counted as the application reads it."""
        seen = 0
        refused = False
        response_started = False

        async def counted_receive() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    refused = True
                    if not response_started:
                        await _refuse_too_large(scope, send, limit=limit, length=None)
                    # The application stops reading: Django treats it as the client gone.
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if refused:
                return  # the 413 already went out; the application's answer is dropped
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        await self.app(scope, counted_receive, guarded_send)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1").strip()
    return None


async def _refuse_too_large(scope: Scope, send: Send, *, limit: int, length: int | None) -> None:
    await _refuse(
        scope,
        send,
        PayloadTooLargeError(
            too_large_message(limit=limit, length=length), details={"limit_bytes": limit}
        ),
    )


async def _refuse(scope: Scope, send: Send, error: ApplicationError) -> None:
    from backend.core.middleware import request_id_from

    started = time.perf_counter()
    request_id = request_id_from(_header(scope, b"x-request-id") or "")
    body = json.dumps(error_body(error.code, error.message, error.details)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", request_id.encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
    logger.info(
        "request",
        request_id=request_id,
        method=scope.get("method"),
        path=scope.get("path"),
        status=error.status,
        duration_ms=round((time.perf_counter() - started) * 1000, 2),
        streaming=False,
        refused_before_body=True,
    )
