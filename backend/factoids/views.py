"""The factoid request's SSE stream: the run's events, resumable with Last-Event-ID."""

from __future__ import annotations

from django.http import HttpRequest

from backend.core.db import released
from backend.factoids import selectors
from backend.runs import sse
from backend.runs.sse_view import EventStream, StreamReader, sse_view


@sse_view(scope="run:{request_id}")
async def factoid_stream(
    request: HttpRequest, reader: StreamReader, request_id: str
) -> EventStream:
    run = await released(selectors.factoid_request_get_for_client)(
        request_id=request_id, client_id=reader.client_id
    )
    after = sse.parse_run_cursor(sse.request_cursor(request))
    return EventStream(sse.run_stream_body(run_id=str(run.id), after_seq=after))
