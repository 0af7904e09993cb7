"""A run's SSE stream: its events from the event log, resumable with ``Last-Event-ID``."""

from __future__ import annotations

from django.http import HttpRequest

from backend.core.db import released
from backend.runs import selectors, sse
from backend.runs.sse_view import EventStream, StreamReader, sse_view


@sse_view(scope="run:{run_id}")
async def run_stream(request: HttpRequest, reader: StreamReader, run_id: str) -> EventStream:
    run = await released(selectors.run_get_for_client)(run_id=run_id, client_id=reader.client_id)
    after = sse.parse_run_cursor(sse.request_cursor(request))
    return EventStream(sse.run_stream_body(run_id=str(run.id), after_seq=after))
