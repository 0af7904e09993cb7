"""A chat session's SSE stream: every run of the session, in order, live."""

from __future__ import annotations

from django.http import HttpRequest

from backend.chat import selectors
from backend.core.db import released
from backend.runs import sse
from backend.runs.selectors import session_runs_from
from backend.runs.sse_view import EventStream, StreamReader, sse_view

_session_get = released(selectors.session_get_for_client)
_runs_from = released(session_runs_from)


@sse_view(scope="session:{session_id}")
async def session_stream(
    request: HttpRequest, reader: StreamReader, session_id: str
) -> EventStream:
    """Cursor ``<run ordinal>-<seq>``; the stream never ends on its own."""
    session = await _session_get(session_id=session_id, client_id=reader.client_id)
    sid = str(session.id)
    ordinal, after = sse.parse_session_cursor(sse.request_cursor(request))

    async def runs_from(n: int) -> list[tuple[int, str]]:
        return await _runs_from(session_id=sid, ordinal=n)

    return EventStream(
        sse.session_stream_body(
            session_id=sid, runs_from=runs_from, ordinal=ordinal, after_seq=after
        )
    )
