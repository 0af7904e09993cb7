"""SSE endpoints: plain async Django views streaming from the event log."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponseBase, StreamingHttpResponse

from backend.core.errors import ApplicationError, MethodNotAllowedError, error_response
from backend.runs import selectors, sse
from backend.runs.stream_auth import stream_client_id


def _cursor(request: HttpRequest) -> str | None:
    return request.headers.get("Last-Event-ID") or request.GET.get("last_event_id")


def event_stream_response(body) -> StreamingHttpResponse:  # type: ignore[no-untyped-def]
    response = StreamingHttpResponse(body, content_type="text/event-stream")
    for name, value in sse.sse_headers().items():
        response[name] = value
    return response


async def run_stream(request: HttpRequest, run_id: str) -> HttpResponseBase:
    if request.method != "GET":
        return error_response(MethodNotAllowedError(details={"allowed": ["GET"]}))
    try:
        client_id = await sync_to_async(stream_client_id)(request, scope=f"run:{run_id}")
        run = await sync_to_async(selectors.run_get_for_client)(run_id=run_id, client_id=client_id)
        after = sse.parse_run_cursor(_cursor(request))
    except ApplicationError as error:
        return error_response(error)
    return event_stream_response(sse.run_stream_body(run_id=str(run.id), after_seq=after))
