"""Embedded event log: lists in memory, async readers woken from writer threads."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime
from typing import Any

from backend.runs.eventlog.base import Event, announced_session

Waiters = dict[str, list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]]]


class MemoryEventLog:
    def __init__(self, *, retention_s: float) -> None:
        self._events: dict[str, list[Event]] = {}
        self._touched: dict[str, float] = {}
        self._waiters: Waiters = {}
        # Session announcements: one counter for the whole log, so a mark never repeats
        # (not even after a session's entry expired).
        self._announced = 0
        self._sessions: dict[str, tuple[int, float]] = {}  # session -> (mark, when)
        self._session_waiters: Waiters = {}
        self._lock = threading.Lock()
        self._retention_s = retention_s

    def append(self, *, run_id: str, type: str, attempt: int, data: dict[str, Any]) -> Event:
        with self._lock:
            events = self._events.setdefault(run_id, [])
            event = Event(
                run_id=run_id,
                seq=len(events) + 1,
                type=type,
                attempt=attempt,
                ts=datetime.now(UTC).isoformat(),
                data=data,
            )
            events.append(event)
            self._touched[run_id] = time.monotonic()
            waiters = self._waiters.pop(run_id, [])
            session_id = announced_session(type, data)
            if session_id:
                self._announced += 1
                self._sessions[session_id] = (self._announced, time.monotonic())
                waiters += self._session_waiters.pop(session_id, [])
                self._expire_sessions_locked()
            self._expire_locked()
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
            if after_seq > len(events):
                return None
            if len(events) > after_seq:
                return events[after_seq:]
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
            return list(self._events.get(run_id, [])[after_seq:])

    def range(self, *, run_id: str) -> list[Event]:
        with self._lock:
            return list(self._events.get(run_id, []))

    async def arange(self, *, run_id: str) -> list[Event]:
        return self.range(run_id=run_id)

    def last_seq(self, *, run_id: str) -> int:
        with self._lock:
            return len(self._events.get(run_id, []))

    async def alast_seq(self, *, run_id: str) -> int:
        return self.last_seq(run_id=run_id)

    def delete(self, *, run_id: str) -> None:
        with self._lock:
            self._events.pop(run_id, None)
            self._touched.pop(run_id, None)

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

    def _expire_locked(self) -> None:
        horizon = time.monotonic() - self._retention_s
        for run_id in [r for r, t in self._touched.items() if t < horizon]:
            self._events.pop(run_id, None)
            self._touched.pop(run_id, None)

    def _expire_sessions_locked(self) -> None:
        horizon = time.monotonic() - self._retention_s
        for session_id in [s for s, (_m, t) in self._sessions.items() if t < horizon]:
            self._sessions.pop(session_id, None)


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
