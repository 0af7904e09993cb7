"""How an SSE endpoint is written: ``@sse_view`` on an async function returning an
``EventStream``.

The decorator answers a wrong method with 405, authenticates the caller (the usual
credentials, or the stream URL's signed token where the view names its scope), turns any
known error raised before the first byte into the JSON error body, and streams the body
holding one of the client's stream slots (``stream_slots``). A view does its lookups in
``released`` sections, so an open stream holds no database connection.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, Concatenate, Literal, ParamSpec

from django.http import HttpRequest, HttpResponseBase, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from backend.clients.identity import Identity
from backend.core.db import released
from backend.core.errors import MethodNotAllowedError, error_response, from_exception
from backend.runs import sse, stream_slots
from backend.runs.stream_auth import stream_caller

P = ParamSpec("P")


@dataclass(frozen=True)
class EventStream:
    """What an SSE view answers with: the body (``bytes`` chunks) and its headers."""

    body: AsyncIterator[bytes]
    headers: Mapping[str, str] = field(default_factory=sse.sse_headers)


@dataclass
class StreamReader:
    """Who opened the stream, and the stream slot the response holds once taken."""

    client_id: str
    # None when the caller came with the stream URL's token rather than credentials.
    identity: Identity | None
    slot: stream_slots.Slot | None = None

    async def take_slot(self) -> None:
        """Hold one of the client's stream slots from now on (429 ``RATE_LIMITED`` at the
        limit). The decorator takes it after the view returns; a view calls this itself to
        be refused before work it must not do at the limit (POST /api/chat starts a run)."""
        if self.slot is None:
            self.slot = await stream_slots.slot_open(client_id=self.client_id)

    async def give_back_slot(self) -> None:
        if self.slot is not None:
            slot, self.slot = self.slot, None
            await stream_slots.slot_close(slot)


StreamView = Callable[
    Concatenate[HttpRequest, StreamReader, P], Awaitable[EventStream | HttpResponseBase]
]
View = Callable[Concatenate[HttpRequest, P], Coroutine[Any, Any, HttpResponseBase]]


def sse_view(
    *, method: Literal["GET", "POST"] = "GET", scope: str | None = None
) -> Callable[[StreamView[P]], View[P]]:
    """Make ``view(request, reader, **url_kwargs)`` an SSE endpoint.

    ``scope`` (formatted with the URL's keyword arguments, e.g. ``"run:{run_id}"``) lets a
    stream token for that scope stand in for credentials; without it the caller must send
    credentials. The view returns an ``EventStream``, or a plain response (e.g. 204)
    that goes out as it is.
    """

    def decorate(view: StreamView[P]) -> View[P]:
        @functools.wraps(view)
        async def endpoint(
            request: HttpRequest, *args: P.args, **kwargs: P.kwargs
        ) -> HttpResponseBase:
            if request.method != method:
                return error_response(MethodNotAllowedError(details={"allowed": [method]}))
            token_scope = scope.format(**kwargs) if scope is not None else None
            reader: StreamReader | None = None
            try:
                caller = await released(stream_caller)(request, token_scope=token_scope)
                reader = StreamReader(client_id=caller.client_id, identity=caller.identity)
                answer = await view(request, reader, *args, **kwargs)
                if not isinstance(answer, EventStream):
                    await reader.give_back_slot()
                    return answer
                await reader.take_slot()
            except Exception as exc:
                if reader is not None:
                    await reader.give_back_slot()
                error = from_exception(exc)
                if error is None:
                    raise
                return error_response(error)
            return _streaming_response(answer, reader.slot)

        # As for the DRF views: the caller's credentials carry the CSRF defence (a cookie
        # caller must send the custom header, ``identity_required``), so a token or API key
        # caller needs no CSRF cookie.
        return csrf_exempt(endpoint)

    return decorate


def _streaming_response(
    stream: EventStream, slot: stream_slots.Slot | None
) -> StreamingHttpResponse:
    """The response holds ``slot`` while it streams; whatever connection the view's lookups
    left on the request's thread goes back to the pool before the first byte
    (``stream_slots.held``)."""
    response = StreamingHttpResponse(
        stream_slots.held(stream.body, slot), content_type="text/event-stream"
    )
    for name, value in stream.headers.items():
        response[name] = value
    return response
