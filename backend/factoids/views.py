"""The factoid request's SSE stream: the run's events, resumable with Last-Event-ID."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseBase

from backend.core.db import released
from backend.core.errors import ApplicationError, MethodNotAllowedError, error_response
from backend.factoids import selectors
from backend.runs import sse
from backend.runs.stream_auth import stream_client_id
from backend.runs.views import event_stream_response


async def factoid_stream(request: HttpRequest, request_id: str) -> HttpResponseBase:
    if request.method != "GET":
        return error_response(MethodNotAllowedError(details={"allowed": ["GET"]}))
    try:
        client_id = await released(stream_client_id)(request, scope=f"run:{request_id}")
        run = await released(selectors.factoid_request_get_for_client)(
            request_id=request_id, client_id=client_id
        )
        after = sse.parse_run_cursor(
            request.headers.get("Last-Event-ID") or request.GET.get("last_event_id")
        )
    except ApplicationError as error:
        return error_response(error)
    return event_stream_response(sse.run_stream_body(run_id=str(run.id), after_seq=after))
