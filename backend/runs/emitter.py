"""Writes a run's events: to the event log (live) and, except text deltas, to PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from backend.runs.eventlog import Event, get_event_log
from backend.runs.models import RunEvent

# Deltas are many and only matter live; a replay after the log expires gets the final
# message instead (message.completed is stored).
NOT_STORED = frozenset({"message.delta", "tool.progress"})


class RunEmitter:
    def __init__(self, *, run_id: str, attempt: int) -> None:
        self.run_id = run_id
        self.attempt = attempt

    def emit(self, type: str, data: dict[str, Any] | None = None) -> Event:
        event = get_event_log().append(
            run_id=self.run_id, type=type, attempt=self.attempt, data=data or {}
        )
        if type not in NOT_STORED:
            RunEvent.objects.create(
                run_id=self.run_id,
                seq=event.seq,
                type=type,
                attempt=self.attempt,
                data=event.data,
                ts=datetime.fromisoformat(event.ts),
            )
        return event

    async def aemit(self, type: str, data: dict[str, Any] | None = None) -> Event:
        """``emit`` from the run's event loop.

        On a worker's long-lived loop with PostgreSQL both writes happen on the loop (the
        Redis append, then the INSERT on the process pool), without a thread hop per
        event; elsewhere ``emit`` runs in the ORM thread as before. Either way the stored
        copy is written before ``aemit`` returns, so it precedes the run's end.
        """
        from asgiref.sync import sync_to_async

        from backend.runs.checkpoints import postgres_dsn, process_pool
        from backend.runs.worker_loop import is_process_loop

        dsn = postgres_dsn() if is_process_loop() else None
        if dsn is None:
            return await sync_to_async(self.emit)(type, data)
        event = await get_event_log().aappend(
            run_id=self.run_id, type=type, attempt=self.attempt, data=data or {}
        )
        if type not in NOT_STORED:
            pool = await process_pool(dsn)
            async with pool.connection() as conn:
                await conn.execute(_INSERT, _row(event))
        return event


# RunEvent's table, written by the worker loop without the ORM (see aemit).
_INSERT = (
    "INSERT INTO runs_runevent (run_id, seq, type, attempt, data, ts) "
    "VALUES (%s, %s, %s, %s, %s, %s)"
)


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
