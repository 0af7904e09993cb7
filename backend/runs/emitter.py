"""Writes a run's events: to the event log (live) and, except text deltas, to PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import structlog
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from backend.runs.eventlog import Event, get_event_log
from backend.runs.eventlog.base import TERMINAL_TYPES
from backend.runs.models import Run, RunEvent
from backend.runs.worker_loop import is_draining, is_process_loop

# Deltas are many and only matter live; a replay after the log expires gets the final
# message instead (message.completed is stored).
NOT_STORED = frozenset({"message.delta", "tool.progress"})


# On a worker, the stored copy is written in batches: these events write it at once (with
# what is pending), others wait for the next of these or for FLUSH_AT pending events.
FLUSH_ON = frozenset(
    {
        "tool.completed",
        "tool.failed",
        "message.completed",
        "message.reset",
        "run.waiting",  # the attempt ends there: nothing of it may stay pending
        *TERMINAL_TYPES,
    }
)
FLUSH_AT = 16

# A Redis restart (a few seconds; longer while it loads its append-only file) is ridden out:
# an append is retried after each of these waits (~16 s in all) before the run gives up.
APPEND_RETRY_S = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0)
LOG_DOWN = (RedisConnectionError, RedisTimeoutError)

logger = structlog.get_logger(__name__)


def end_event(run: Run) -> tuple[str, dict[str, Any]]:
    """The terminal event of an ended run, from its stored outcome (the worker that ended
    it sends it; the reaper sends it again from here if that one never got out)."""
    if run.status == Run.Status.COMPLETED:
        usage = {
            "input_tokens": run.input_tokens,
            "output_tokens": run.output_tokens,
            "cost_usd": str(run.cost_usd),
        }
        message_id = (run.result or {}).get("message_id")
        return "run.completed", {"message_id": message_id, "usage": usage, "result": run.result}
    if run.status == Run.Status.CANCELLED:
        return "run.cancelled", {"reason": run.error_message or "cancelled"}
    code = run.error_code or "INTERNAL_ERROR"
    return "run.failed", {"error": {"code": code, "message": run.error_message}}


class RunEmitter:
    """One run attempt's events.

    ``buffered`` (the worker's run loop): stored events are kept and written to PostgreSQL
    in one batch at the next flush point instead of one INSERT each; the terminal event's
    flush also copies whatever the log holds that the store lacks (a dead attempt's
    pending events). The log (Redis) gets every event at once either way, so live readers
    see no difference; the store serves replays after the log expires.
    """

    def __init__(self, *, run_id: str, attempt: int, buffered: bool = False) -> None:
        self.run_id = run_id
        self.attempt = attempt
        self.buffered = buffered
        self._pending: list[Event] = []
        self.last_seq = 0  # the newest seq this attempt got from the log

    def emit(self, type: str, data: dict[str, Any] | None = None) -> Event:
        event = get_event_log().append(
            run_id=self.run_id, type=type, attempt=self.attempt, data=data or {}
        )
        if type in NOT_STORED:
            return event
        if not event.is_terminal:
            RunEvent.objects.create(**_fields(event))
            return event
        # The run's end: also store what a worker's buffered emitter logged but did not
        # get to store (it died before its next flush).
        logged = [e for e in get_event_log().range(run_id=self.run_id) if e.type not in NOT_STORED]
        RunEvent.objects.bulk_create(
            [RunEvent(**_fields(e)) for e in logged or [event]], ignore_conflicts=True
        )
        return event

    async def aemit(self, type: str, data: dict[str, Any] | None = None) -> Event:
        """``emit`` from the run's event loop.

        On a worker's long-lived loop with PostgreSQL both writes happen on the loop (the
        Redis append, then the INSERT on the process pool), without a thread hop per
        event; elsewhere ``emit`` runs in the ORM thread as before. Unbuffered, the stored
        copy is written before ``aemit`` returns; buffered, by the next flush point, and a
        terminal event's copy always before ``aemit`` returns, so it precedes the run's end.
        """
        from backend.core.db import released
        from backend.runs.checkpoints import postgres_dsn

        dsn = postgres_dsn() if is_process_loop() else None
        if dsn is None:
            return await released(self.emit)(type, data)
        try:
            event = await self._aappend(type, data or {})
        except LOG_DOWN:
            if type not in TERMINAL_TYPES:
                raise
            # The log stayed down: the run's end still reaches the store, where readers
            # find it once the run is finished (``sse.Tail`` replays from the store).
            event = await self._store_terminal(type, data or {}, dsn=dsn)
            logger.warning("run_end_stored_without_log", run_id=self.run_id, type=type)
            return event
        self.last_seq = max(self.last_seq, event.seq)
        if type in NOT_STORED:
            return event
        self._pending.append(event)
        if not self.buffered or type in FLUSH_ON or len(self._pending) >= FLUSH_AT:
            # Only a later attempt can find events an earlier one logged and never stored
            # (a first attempt's are all its own, pending here; a resumed wait flushed its
            # own at ``run.waiting``).
            backfill = event.is_terminal and self.buffered and self.attempt > 1
            await self.aflush(dsn=dsn, backfill=backfill)
        return event

    async def _aappend(self, type: str, data: dict[str, Any]) -> Event:
        for wait in (*APPEND_RETRY_S, None):
            try:
                return await get_event_log().aappend(
                    run_id=self.run_id, type=type, attempt=self.attempt, data=data
                )
            except LOG_DOWN:
                # Shutting down, a run's end goes to the store at once; any other event
                # keeps waiting for Redis until the drain gives the run back (failing it
                # here failed 102 runs at a Redis restart that stopped the worker).
                if wait is None or (is_draining() and type in TERMINAL_TYPES):
                    raise
                logger.warning("event_log_unavailable", run_id=self.run_id, retry_in_s=wait)
                await asyncio.sleep(wait)
        raise AssertionError("unreachable")

    async def _store_terminal(self, type: str, data: dict[str, Any], *, dsn: str) -> Event:
        """The terminal event, numbered after everything stored or logged, in the store."""
        from backend.runs.checkpoints import multi_row, process_pool

        pool = await process_pool(dsn)
        pending, self._pending = self._pending, []
        async with pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            if pending:
                await cursor.execute(*multi_row(_INSERT, [_row(event) for event in pending]))
            await cursor.execute(_LAST_STORED, (self.run_id,))
            row = await cursor.fetchone()
            stored = int((row or {}).get("seq") or 0)
            event = Event(
                run_id=self.run_id,
                seq=max(stored, self.last_seq) + 1,
                type=type,
                attempt=self.attempt,
                ts=datetime.now(UTC).isoformat(),
                data=data,
            )
            await cursor.execute(_INSERT, _row(event))
        return event

    async def aflush(self, *, dsn: str | None = None, backfill: bool = False) -> None:
        """Write the pending stored events (and, with ``backfill``, every stored-type event
        the log has) in one transaction; rows already stored are left as they are."""
        from backend.runs.checkpoints import multi_row, postgres_dsn, process_pool

        events, self._pending = self._pending, []
        if backfill:
            try:
                logged = await get_event_log().arange(run_id=self.run_id)
            except LOG_DOWN:
                # The log went away just after the run's end was appended: the end and
                # this attempt's own events still reach the store (an earlier attempt's
                # unstored ones stay in the log only).
                logger.warning("run_events_backfill_skipped", run_id=self.run_id)
            else:
                events = [event for event in logged if event.type not in NOT_STORED] or events
        if not events:
            return
        dsn = dsn or postgres_dsn()
        if dsn is None:
            return
        pool = await process_pool(dsn)
        async with pool.connection() as conn, conn.cursor() as cursor:
            # One statement (one parse, plan and commit) for the batch, not one per event.
            await cursor.execute(*multi_row(_INSERT, [_row(event) for event in events]))


# RunEvent's table, written by the worker loop without the ORM (see aemit).
_INSERT = (
    "INSERT INTO runs_runevent (run_id, seq, type, attempt, data, ts) "
    "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (run_id, seq) DO NOTHING"
)

_LAST_STORED = "SELECT max(seq) AS seq FROM runs_runevent WHERE run_id = %s"


def _fields(event: Event) -> dict[str, Any]:
    return {
        "run_id": event.run_id,
        "seq": event.seq,
        "type": event.type,
        "attempt": event.attempt,
        "data": event.data,
        "ts": datetime.fromisoformat(event.ts),
    }


def _row(event: Event) -> tuple[Any, ...]:
    from psycopg.types.json import Jsonb

    return (
        event.run_id,
        event.seq,
        event.type,
        event.attempt,
        Jsonb(event.data, dumps=_dumps),
        datetime.fromisoformat(event.ts),
    )


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str)
