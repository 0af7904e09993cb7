"""Embedded event log: lists in memory, async readers woken from writer threads.

Bounded in time and in size. A run's events expire ``retention_s`` after its last one;
beyond ``max_events`` or ``max_bytes`` (an estimate: each event's JSON plus a fixed
overhead) the runs that finished longest ago are dropped first. A run still going is
never dropped for size (its numbering would restart); a reader of a dropped run gets the
same answer as for an expired one (``read`` says the cursor cannot be honoured, and the
stream replays from the database). Appends cost O(1): expiry walks runs in the order they
were last touched and stops at the first one still inside the window.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from backend.runs.eventlog.base import Event, announced_session

# What an Event costs beyond its data's JSON (the object, its strings, list slot): rough.
EVENT_OVERHEAD_BYTES = 300

Waiters = dict[str, list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]]]


class MemoryEventLog:
    def __init__(
        self,
        *,
        retention_s: float,
        max_events: int | None = None,
        max_bytes: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._events: dict[str, list[Event]] = {}
        # A run resumed after the log lost it (aresume): the seq before its first event here.
        self._base: dict[str, int] = {}
        # Runs by when they were last appended to, oldest first (expiry stops early).
        self._touched: OrderedDict[str, float] = OrderedDict()
        # Finished runs (last event terminal), in the order they finished: evicted first.
        self._finished: OrderedDict[str, None] = OrderedDict()
        self._run_bytes: dict[str, int] = {}
        self._event_count = 0
        self._byte_count = 0
        self._waiters: Waiters = {}
        # Session announcements: one counter for the whole log, so a mark never repeats
        # (not even after a session's entry expired).
        self._announced = 0
        # session -> (mark, when), oldest announcement first
        self._sessions: OrderedDict[str, tuple[int, float]] = OrderedDict()
        self._session_waiters: Waiters = {}
        self._lock = threading.Lock()
        self._retention_s = retention_s
        self._max_events = max_events
        self._max_bytes = max_bytes
        self._clock = clock

    def append(self, *, run_id: str, type: str, attempt: int, data: dict[str, Any]) -> Event:
        with self._lock:
            events = self._events.setdefault(run_id, [])
            event = Event(
                run_id=run_id,
                seq=self._base.get(run_id, 0) + len(events) + 1,
                type=type,
                attempt=attempt,
                ts=datetime.now(UTC).isoformat(),
                data=data,
            )
            events.append(event)
            now = self._clock()
            self._touched[run_id] = now
            self._touched.move_to_end(run_id)
            size = _estimated_size(event)
            self._run_bytes[run_id] = self._run_bytes.get(run_id, 0) + size
            self._event_count += 1
            self._byte_count += size
            if event.is_terminal:
                self._finished[run_id] = None
                self._finished.move_to_end(run_id)
            else:
                self._finished.pop(run_id, None)
            waiters = self._waiters.pop(run_id, [])
            session_id = announced_session(type, data)
            if session_id:
                self._announced += 1
                self._sessions[session_id] = (self._announced, now)
                self._sessions.move_to_end(session_id)
                waiters += self._session_waiters.pop(session_id, [])
                self._expire_sessions_locked(now)
            self._expire_locked(now)
            self._evict_over_size_locked()
        for loop, future in waiters:
            loop.call_soon_threadsafe(_wake, future)
        return event

    async def aappend(self, *, run_id: str, type: str, attempt: int, data: dict[str, Any]) -> Event:
        return self.append(run_id=run_id, type=type, attempt=attempt, data=data)

    async def read(
        self, *, run_id: str, after_seq: int, timeout_s: float, verify: bool = True
    ) -> list[Event] | None:
        loop = asyncio.get_running_loop()
        with self._lock:
            events = self._events.get(run_id)
            if events is None:
                if after_seq > 0:
                    return None
                events = []
            base = self._base.get(run_id, 0)
            if after_seq < base or after_seq > base + len(events):
                return None
            if base + len(events) > after_seq:
                return events[after_seq - base :]
            future: asyncio.Future[None] = loop.create_future()
            self._waiters.setdefault(run_id, []).append((loop, future))
        try:
            await asyncio.wait_for(future, timeout=timeout_s)
        except TimeoutError:
            with self._lock:
                waiting = self._waiters.get(run_id, [])
                if (loop, future) in waiting:
                    waiting.remove((loop, future))
            return []
        with self._lock:
            base = self._base.get(run_id, 0)
            return list(self._events.get(run_id, [])[max(0, after_seq - base) :])

    def range(self, *, run_id: str) -> list[Event]:
        with self._lock:
            return list(self._events.get(run_id, []))

    async def arange(self, *, run_id: str) -> list[Event]:
        return self.range(run_id=run_id)

    def last_seq(self, *, run_id: str) -> int:
        with self._lock:
            return self._base.get(run_id, 0) + len(self._events.get(run_id, []))

    async def alast_seq(self, *, run_id: str) -> int:
        return self.last_seq(run_id=run_id)

    def last_events(self, *, run_ids: list[str]) -> dict[str, Event]:
        with self._lock:
            return {
                run_id: events[-1] for run_id in run_ids if (events := self._events.get(run_id))
            }

    async def aresume(self, *, run_id: str, after_seq: int) -> None:
        with self._lock:
            events = self._events.get(run_id)
            if events:
                return  # the log has the run: its numbering is the store's
            self._events[run_id] = []
            self._base[run_id] = after_seq
            self._touched[run_id] = self._clock()
            self._touched.move_to_end(run_id)

    def delete(self, *, run_id: str) -> None:
        with self._lock:
            self._drop_locked(run_id)

    def stats(self) -> dict[str, int]:
        """What the log holds now: runs, events and their estimated bytes."""
        with self._lock:
            return {
                "runs": len(self._events),
                "finished_runs": len(self._finished),
                "events": self._event_count,
                "bytes": self._byte_count,
            }

    async def session_marker(self, *, session_id: str) -> str:
        with self._lock:
            return str(self._sessions.get(session_id, (0, 0.0))[0])

    async def wait_session(self, *, session_id: str, after: str, timeout_s: float) -> str | None:
        loop = asyncio.get_running_loop()
        mark = int(after or 0)
        with self._lock:
            newest = self._sessions.get(session_id, (0, 0.0))[0]
            if newest > mark:
                return str(newest)
            future: asyncio.Future[None] = loop.create_future()
            self._session_waiters.setdefault(session_id, []).append((loop, future))
        try:
            await asyncio.wait_for(future, timeout=timeout_s)
        except TimeoutError:
            with self._lock:
                waiting = self._session_waiters.get(session_id, [])
                if (loop, future) in waiting:
                    waiting.remove((loop, future))
                if not waiting:
                    self._session_waiters.pop(session_id, None)
            return None
        with self._lock:
            return str(self._sessions.get(session_id, (0, 0.0))[0])

    def _drop_locked(self, run_id: str) -> None:
        events = self._events.pop(run_id, None)
        self._base.pop(run_id, None)
        self._touched.pop(run_id, None)
        self._finished.pop(run_id, None)
        self._event_count -= len(events or ())
        self._byte_count -= self._run_bytes.pop(run_id, 0)

    def _expire_locked(self, now: float) -> None:
        """Drop runs untouched for the retention: the oldest first, stopping at the first
        one still inside it (each run is dropped once, so appends stay O(1) amortised)."""
        horizon = now - self._retention_s
        while self._touched:
            run_id, touched = next(iter(self._touched.items()))
            if not touched < horizon:
                return
            self._drop_locked(run_id)

    def _evict_over_size_locked(self) -> None:
        """Over a size cap: drop the runs that finished longest ago until under it."""
        while self._finished and self._over_size_locked():
            self._drop_locked(next(iter(self._finished)))

    def _over_size_locked(self) -> bool:
        return (self._max_events is not None and self._event_count > self._max_events) or (
            self._max_bytes is not None and self._byte_count > self._max_bytes
        )

    def _expire_sessions_locked(self, now: float) -> None:
        horizon = now - self._retention_s
        while self._sessions:
            session_id, (_mark, announced) = next(iter(self._sessions.items()))
            if not announced < horizon:
                return
            self._sessions.pop(session_id)


def _estimated_size(event: Event) -> int:
    return EVENT_OVERHEAD_BYTES + len(
        json.dumps(event.data, separators=(",", ":"), default=str, ensure_ascii=False)
    )


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
