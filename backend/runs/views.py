"""SSE endpoints: plain async Django views streaming from the event log.

Every database lookup is done before the stream starts, in one short section that hands
the connection back (``released``); an open stream holds one of its client's stream
slots (``stream_slots``), never a database connection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from django.http import HttpRequest, HttpResponseBase, StreamingHttpResponse

from backend.core.db import released
from backend.core.errors import ApplicationError, MethodNotAllowedError, error_response
from backend.runs import selectors, sse, stream_slots
from backend.runs.models import Run
from backend.runs.stream_auth import stream_client_id


def _cursor(request: HttpRequest) -> str | None:
    return request.headers.get("Last-Event-ID") or request.GET.get("last_event_id")


def event_stream_response(
    body: AsyncIterator[bytes], *, slot: stream_slots.Slot | None = None
) -> StreamingHttpResponse:
    """The SSE response; it holds ``slot`` (if given) while it streams.

    Whatever connection the view's lookups left on the request's thread goes back to the
    pool before the first byte (``stream_slots.held``).
    """
    response = StreamingHttpResponse(
        stream_slots.held(body, slot), content_type="text/event-stream"
    )
    for name, value in sse.sse_headers().items():
        response[name] = value
    return response


@released
def _readable_run(request: HttpRequest, run_id: str) -> tuple[str, Run]:
    client_id = stream_client_id(request, scope=f"run:{run_id}")
    return client_id, selectors.run_get_for_client(run_id=run_id, client_id=client_id)


async def run_stream(request: HttpRequest, run_id: str) -> HttpResponseBase:
    if request.method != "GET":
        return error_response(MethodNotAllowedError(details={"allowed": ["GET"]}))
    try:
        client_id, run = await _readable_run(request, run_id)
        after = sse.parse_run_cursor(_cursor(request))
        slot = await stream_slots.slot_open(client_id=client_id)
    except ApplicationError as error:
        return error_response(error)
    return event_stream_response(
        sse.run_stream_body(run_id=str(run.id), after_seq=after), slot=slot
    )
