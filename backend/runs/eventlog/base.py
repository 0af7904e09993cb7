from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

TERMINAL_TYPES = frozenset({"run.completed", "run.failed", "run.cancelled"})
# Appending a run's ``run.queued`` with a ``session_id`` also announces the run to that
# session's readers (``wait_session``), so an idle session stream waits on the log, not on
# the database.
ANNOUNCES_SESSION_RUN = "run.queued"


def announced_session(type: str, data: dict[str, Any]) -> str | None:
    """The session an appended event announces a new run to, if any."""
    if type != ANNOUNCES_SESSION_RUN:
        return None
    session_id = data.get("session_id")
    return str(session_id) if session_id else None


@dataclass(frozen=True, kw_only=True)
class Event:
    run_id: str
    seq: int
    type: str
    attempt: int
    ts: str
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "run_id": self.run_id,
            "seq": self.seq,
            "attempt": self.attempt,
            "ts": self.ts,
            "data": self.data,
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), separators=(",", ":"), default=str)

    @property
    def is_terminal(self) -> bool:
        return self.type in TERMINAL_TYPES


class EventLog(Protocol):
    def append(self, *, run_id: str, type: str, attempt: int, data: dict[str, Any]) -> Event:
        """Add the next event (seq assigned atomically, from 1, no gaps)."""
        ...

    async def aappend(self, *, run_id: str, type: str, attempt: int, data: dict[str, Any]) -> Event:
        """``append`` from async code."""
        ...

    async def read(
        self, *, run_id: str, after_seq: int, timeout_s: float, verify: bool = True
    ) -> list[Event] | None:
        """Events with seq > after_seq, waiting up to timeout_s for one to arrive.

        Returns None when the log cannot honour ``after_seq`` (expired or trimmed).
        ``verify=False`` skips that check, for a reader continuing right after events it
        has just read from this log (a run's log is never trimmed below its events).
        """
        ...

    def range(self, *, run_id: str) -> list[Event]:
        """Every event the log holds for the run, in order (empty when it is gone)."""
        ...

    async def arange(self, *, run_id: str) -> list[Event]: ...

    def last_seq(self, *, run_id: str) -> int:
        """The newest seq written, 0 when the log is empty or gone."""
        ...

    async def alast_seq(self, *, run_id: str) -> int: ...

    def last_events(self, *, run_ids: list[str]) -> dict[str, Event]:
        """The newest event of each run the log holds (runs it has none of are left out):
        one round trip however many runs, for ``/metrics``."""
        ...

    async def aresume(self, *, run_id: str, after_seq: int) -> None:
        """Number the run's next event after ``after_seq`` at the least (what the durable
        store already holds): a log that lost the run (an embedded restart, a Redis without
        its data) must not hand out seqs the store has. Readers behind ``after_seq`` are
        then told the log cannot honour their cursor, and replay from the store."""
        ...

    def delete(self, *, run_id: str) -> None: ...

    async def session_marker(self, *, session_id: str) -> str:
        """An opaque mark of the newest run announced to the session (a base when none).

        Take it before reading the session's runs from the database, then
        ``wait_session(after=mark)``: a run created after that read is not missed.
        """
        ...

    async def wait_session(self, *, session_id: str, after: str, timeout_s: float) -> str | None:
        """Wait up to timeout_s for a run announced after ``after``; its mark, else None."""
        ...
