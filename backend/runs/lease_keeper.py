"""Keeps the leases of every run executing on one event loop alive, in one beat.

A heartbeat per run cost two statements per run every ``RUN_HEARTBEAT_S``: at 500 runs in
flight on a worker, 500 statements a second doing nothing but say "still here". The
keeper of a loop extends all of its runs' leases together (``lease.runs_heartbeat``, two
statements a beat) and tells each run whether it lost its lease or was asked to cancel.

A beat that cannot reach the database is skipped (logged): leases then run out on their
own after ``RUN_LEASE_S``, the reaper hands the runs on, and the next beat that does reach
the database tells the runs here that they are no longer theirs.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from django.conf import settings

from backend.core.db import released
from backend.runs import lease

logger = structlog.get_logger(__name__)


@dataclass(frozen=True)
class _Held:
    owner: str
    on_lost: Callable[[], None]
    on_cancel: Callable[[], None]


class LeaseKeeper:
    """The settings (``RUN_LEASE_S``, ``RUN_HEARTBEAT_S``) are read at each beat."""

    def __init__(self) -> None:
        self._held: dict[str, _Held] = {}
        self._beat: asyncio.Task[None] | None = None

    def hold(
        self,
        run_id: str,
        *,
        owner: str,
        on_lost: Callable[[], None],
        on_cancel: Callable[[], None],
    ) -> None:
        """Keep ``run_id``'s lease (claimed as ``owner``) until ``release``."""
        self._held[run_id] = _Held(owner=owner, on_lost=on_lost, on_cancel=on_cancel)
        if self._beat is None or self._beat.done():
            self._beat = asyncio.get_running_loop().create_task(self._run(), name="lease-keeper")

    def release(self, run_id: str) -> None:
        self._held.pop(run_id, None)

    @property
    def held(self) -> int:
        return len(self._held)

    async def _run(self) -> None:
        while self._held:
            await asyncio.sleep(settings.ENV.RUN_HEARTBEAT_S)
            await self.beat()

    async def beat(self) -> None:
        """One heartbeat for every run held now."""
        snapshot = dict(self._held)
        if not snapshot:
            return
        try:
            ours, cancel = await released(lease.runs_heartbeat)(
                owners={run_id: held.owner for run_id, held in snapshot.items()},
                lease_s=settings.ENV.RUN_LEASE_S,
            )
        except Exception:
            logger.warning("lease_heartbeat_failed", runs=len(snapshot), exc_info=True)
            return
        for run_id, held in snapshot.items():
            if self._held.get(run_id) is not held:
                continue  # ended (or claimed again) while the beat was out
            if run_id not in ours:
                self._held.pop(run_id, None)
                held.on_lost()
            elif run_id in cancel:
                self._held.pop(run_id, None)
                held.on_cancel()


_keepers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LeaseKeeper] = (
    weakref.WeakKeyDictionary()
)


def keeper() -> LeaseKeeper:
    """The running loop's keeper (one per loop: the worker's long-lived loop has one for
    all its runs; an ``asyncio.run`` per task gets its own)."""
    loop = asyncio.get_running_loop()
    found = _keepers.get(loop)
    if found is None:
        found = _keepers[loop] = LeaseKeeper()
    return found
