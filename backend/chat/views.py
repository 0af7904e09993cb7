from __future__ import annotations

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponseBase

from backend.chat import selectors
from backend.core.errors import ApplicationError, MethodNotAllowedError, error_response
from backend.runs import sse
from backend.runs.selectors import session_runs_from
from backend.runs.stream_auth import stream_client_id
from backend.runs.views import event_stream_response


async def session_stream(request: HttpRequest, session_id: str) -> HttpResponseBase:
    """Every run of the session, in order, live; cursor ``<run ordinal>-<seq>``."""
    if request.method != "GET":
        return error_response(MethodNotAllowedError(details={"allowed": ["GET"]}))
    try:
        client_id = await sync_to_async(stream_client_id)(request, scope=f"session:{session_id}")
        session = await sync_to_async(selectors.session_get_for_client)(
            session_id=session_id, client_id=client_id
        )
        ordinal, after = sse.parse_session_cursor(
            request.headers.get("Last-Event-ID") or request.GET.get("last_event_id")
        )
    except ApplicationError as error:
        return error_response(error)
    sid = str(session.id)

    async def runs_from(n: int) -> list[tuple[int, str]]:
        return await sync_to_async(session_runs_from)(session_id=sid, ordinal=n)

    return event_stream_response(
        sse.session_stream_body(runs_from=runs_from, ordinal=ordinal, after_seq=after)
    )
