"""Server-Sent Events for runs: the wire format, cursors, live tail and replay.

Run stream cursor: ``<seq>``. Session stream cursor: ``<run ordinal>-<seq>``.

A stream holds no database connection while it waits: its lookups are short sections that
hand the connection back (``backend.core.db.released``), and an idle session stream waits
on the event log for the session's next run, asking the database only every
``SESSION_RECHECK_S``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest
from redis.exceptions import RedisError

from backend.core.db import released
from backend.core.errors import ValidationError
from backend.runs.eventlog import Event, get_event_log
from backend.runs.models import Run, RunEvent

PING_INTERVAL_S = 15.0
END_GRACE_S = 2.0
READ_RETRY_BACKOFF_S = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0)  # ~16 s of Redis trouble is ridden out
# An idle session stream asks the database this often even with no announcement from the log
# (a run whose announcement was lost to a Redis outage is picked up by then).
SESSION_RECHECK_S = 120.0
# What a stream rides out, with a ping meanwhile: the log or the database briefly away (or
# the database's pool with no free connection in time).
TRANSIENT_ERRORS = (RedisError, OperationalError, InterfaceError)
_RUN_CURSOR = re.compile(r"^\d{1,9}$")
_SESSION_CURSOR = re.compile(r"^(\d{1,9})-(\d{1,9})$")


def frame(event: Event, *, cursor: str | None) -> bytes:
    lines = []
    if cursor is not None:
        lines.append(f"id: {cursor}")
    lines.append(f"event: {event.type}")
    lines.append(f"data: {event.to_json()}")
    return ("\n".join(lines) + "\n\n").encode()


PING = b": ping\n\n"


def request_cursor(request: HttpRequest) -> str | None:
    """The client's cursor: ``Last-Event-ID`` (an ``EventSource`` reconnecting), or
    ``?last_event_id=`` (a client starting where it left off)."""
    return request.headers.get("Last-Event-ID") or request.GET.get("last_event_id")


def parse_run_cursor(raw: str | None) -> int:
    if raw is None or raw == "":
        return 0
    if not _RUN_CURSOR.match(raw):
        raise ValidationError.for_field("Last-Event-ID", "must be an event id from this stream")
    return int(raw)


def parse_session_cursor(raw: str | None) -> tuple[int, int]:
    if raw is None or raw == "":
        return (0, 0)
    match = _SESSION_CURSOR.match(raw)
    if not match:
        raise ValidationError.for_field(
            "Last-Event-ID", "must be '<run ordinal>-<seq>' from this session's stream"
        )
    return int(match.group(1)), int(match.group(2))


def _reset_event(run_id: str) -> Event:
    return Event(
        run_id=run_id, seq=0, type="stream.reset", attempt=0, ts=datetime.now(UTC).isoformat()
    )


@released
def _stored_events(run_id: str) -> list[Event]:
    return [
        Event(
            run_id=run_id,
            seq=row.seq,
            type=row.type,
            attempt=row.attempt,
            ts=row.ts.isoformat(),
            data=row.data,
        )
        for row in RunEvent.objects.filter(run_id=run_id).order_by("seq")
    ]


@released
def _run_finished(run_id: str) -> bool:
    status = Run.objects.filter(pk=run_id).values_list("status", flat=True).first()
    return status is None or status in Run.TERMINAL


@dataclass
class Tail:
    """Events of one run after a cursor: live from the log, else replayed from PostgreSQL."""

    run_id: str
    after_seq: int
    ping_interval_s: float = PING_INTERVAL_S

    async def __aiter__(self) -> AsyncIterator[Event | None]:
        """Yields events in order, ``None`` for "send a ping", and ends after a terminal event."""
        async for batch in self.batches():
            if batch is None:
                yield None
                continue
            for event in batch:
                yield event

    async def batches(self) -> AsyncIterator[list[Event] | None]:
        """The same events, in the groups the log returned them (one SSE write each)."""
        log = get_event_log()
        after = self.after_seq
        verified = False  # the client's cursor is checked once; later reads follow ours
        check_finished = True  # at the start, and whenever the log has gone quiet
        settling = False
        failures = 0
        while True:
            try:
                # Once finished with nothing newer in the log, the store has the rest, if
                # anything (a run can end without its terminal event reaching an expired
                # log).
                # (The log first: while it has newer events, the database is not asked.)
                if check_finished:
                    last = await log.alast_seq(run_id=self.run_id)
                    if last <= after and await _run_finished(self.run_id):
                        if last == 0 or settling:
                            yield [event async for event in self._replay_from_store(after)]
                            return
                        # Ended, and the log is there without the end: the worker records
                        # the outcome just before it logs the terminal event. Wait briefly.
                        settling = True
                events = await log.read(
                    run_id=self.run_id,
                    after_seq=after,
                    timeout_s=END_GRACE_S if settling else self.ping_interval_s,
                    verify=not verified,
                )
            except TRANSIENT_ERRORS:
                # A dropped connection or a failover: the reader keeps its place and asks
                # again (a ping keeps the client's connection alive meanwhile); past the
                # retry budget the response ends and the client resumes by Last-Event-ID.
                failures += 1
                if failures > len(READ_RETRY_BACKOFF_S):
                    raise
                yield None
                await asyncio.sleep(READ_RETRY_BACKOFF_S[failures - 1])
                continue
            failures = 0
            if events is None:
                yield [event async for event in self._replay_from_store(after)]
                return
            verified = True
            check_finished = not events
            if not events:
                yield None
                continue
            for index, event in enumerate(events):
                if event.is_terminal:
                    yield events[: index + 1]
                    return
            after = events[-1].seq
            yield events

    async def _replay_from_store(self, after: int) -> AsyncIterator[Event]:
        stored = await _stored_events(self.run_id)
        seqs = {event.seq for event in stored}
        if after == 0 or after in seqs:
            for event in stored:
                if event.seq > after:
                    yield event
            return
        yield _reset_event(self.run_id)
        for event in stored:
            yield event


async def run_stream_body(*, run_id: str, after_seq: int) -> AsyncIterator[bytes]:
    async for batch in Tail(run_id=run_id, after_seq=after_seq).batches():
        if batch is None:
            yield PING
        elif batch:
            yield b"".join(
                frame(event, cursor=None if event.type == "stream.reset" else str(event.seq))
                for event in batch
            )


SessionRuns = Callable[[int], Awaitable[list[tuple[int, str]]]]


async def session_stream_body(
    *,
    session_id: str,
    runs_from: SessionRuns,
    ordinal: int,
    after_seq: int,
    recheck_s: float = SESSION_RECHECK_S,
    ping_interval_s: float = PING_INTERVAL_S,
) -> AsyncIterator[bytes]:
    """Every run of a session in order, then waits for new ones. Never ends on its own.

    ``runs_from(n)`` lists ``(ordinal, run_id)`` of the session's runs with ordinal >= n
    (a short database section). Between runs the stream waits on the event log, where a
    new run of the session is announced, and asks the database again when one is (or every
    ``recheck_s``); it pings every ``ping_interval_s`` meanwhile.
    """
    log = get_event_log()
    next_ordinal, resume_after = (ordinal, after_seq) if ordinal else (1, 0)
    failures = 0
    while True:
        try:
            # The mark first: a run created after the database read is announced after it.
            mark = await log.session_marker(session_id=session_id)
            runs = await runs_from(next_ordinal)
        except TRANSIENT_ERRORS:
            yield PING
            await asyncio.sleep(READ_RETRY_BACKOFF_S[min(failures, len(READ_RETRY_BACKOFF_S) - 1)])
            failures += 1
            continue
        failures = 0
        if not runs:
            async for ping in _wait_for_a_run(
                session_id=session_id,
                mark=mark,
                recheck_s=recheck_s,
                ping_interval_s=ping_interval_s,
            ):
                yield ping
            continue
        for run_ordinal, run_id in runs:
            start = resume_after if run_ordinal == next_ordinal else 0
            async for batch in Tail(run_id=run_id, after_seq=start).batches():
                if batch is None:
                    yield PING
                elif batch:
                    yield b"".join(
                        frame(
                            event,
                            cursor=None
                            if event.type == "stream.reset"
                            else f"{run_ordinal}-{event.seq}",
                        )
                        for event in batch
                    )
            next_ordinal, resume_after = run_ordinal + 1, 0


async def _wait_for_a_run(
    *, session_id: str, mark: str, recheck_s: float, ping_interval_s: float
) -> AsyncIterator[bytes]:
    """Pings until the log announces a run after ``mark`` or ``recheck_s`` has passed."""
    log = get_event_log()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + recheck_s
    while (left := deadline - loop.time()) > 0:
        try:
            if await log.wait_session(
                session_id=session_id, after=mark, timeout_s=min(ping_interval_s, left)
            ):
                return
        except RedisError:
            # The log is away: ask the database again after a pause (it has the runs).
            yield PING
            await asyncio.sleep(min(left, READ_RETRY_BACKOFF_S[-1]))
            return
        yield PING


def sse_headers() -> dict[str, str]:
    return {
        "Cache-Control": "no-cache",
        "X-Accel-Buffering": "no",
        "Content-Encoding": "identity",
    }
