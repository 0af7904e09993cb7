from __future__ import annotations

from django.http import HttpRequest, HttpResponseBase

from backend.chat import selectors
from backend.core.db import released
from backend.core.errors import ApplicationError, MethodNotAllowedError, error_response
from backend.runs import sse, stream_slots
from backend.runs.selectors import session_runs_from
from backend.runs.stream_auth import stream_client_id
from backend.runs.views import event_stream_response


@released
def _readable_session(request: HttpRequest, session_id: str) -> tuple[str, str]:
    client_id = stream_client_id(request, scope=f"session:{session_id}")
    session = selectors.session_get_for_client(session_id=session_id, client_id=client_id)
    return client_id, str(session.id)


_runs_from = released(session_runs_from)


async def session_stream(request: HttpRequest, session_id: str) -> HttpResponseBase:
    """Every run of the session, in order, live; cursor ``<run ordinal>-<seq>``."""
    if request.method != "GET":
        return error_response(MethodNotAllowedError(details={"allowed": ["GET"]}))
    try:
        client_id, sid = await _readable_session(request, session_id)
        ordinal, after = sse.parse_session_cursor(
            request.headers.get("Last-Event-ID") or request.GET.get("last_event_id")
        )
        slot = await stream_slots.slot_open(client_id=client_id)
    except ApplicationError as error:
        return error_response(error)

    async def runs_from(n: int) -> list[tuple[int, str]]:
        return await _runs_from(session_id=sid, ordinal=n)

    return event_stream_response(
        sse.session_stream_body(
            session_id=sid, runs_from=runs_from, ordinal=ordinal, after_seq=after
        ),
        slot=slot,
    )
