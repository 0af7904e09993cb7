"""Writes a run's events: to the event log (live) and, except text deltas, to PostgreSQL."""

from __future__ import annotations

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
