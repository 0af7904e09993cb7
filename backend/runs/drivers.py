"""The run engine's plug-in point: what a kind of run does once a worker claims it.

The engine knows no kind. Each app that starts runs registers a driver for its kind from
its ``AppConfig.ready()`` (``register_driver``); the executor looks it up by the run's
``kind`` (``driver_for``). A driver fails an attempt by raising an ``ApplicationError``
(its ``code`` and ``message`` become ``run.failed``'s error), and parks the run by raising
``RunWaiting``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from backend.core.errors import InternalError
from backend.runs.emitter import RunEmitter
from backend.runs.models import Run


class RunContext:
    """What a driver gets for one attempt: the run, its event emitter, its usage totals."""

    def __init__(self, *, run: Run, emitter: RunEmitter) -> None:
        self.run = run
        self.run_id = str(run.id)
        self.emitter = emitter
        self.input_tokens = 0
        self.output_tokens = 0
        self.cost_usd = 0.0
        # Why the attempt is being stopped, set before its task is cancelled: "cancel" (the
        # client stopped it: a driver may keep what it made so far) or "lost" (the lease).
        self.stop_requested: str | None = None

    async def emit(self, type: str, data: dict[str, Any] | None = None) -> None:
        await self.emitter.aemit(type, data or {})


class RunWaiting(Exception):
    """Ends the attempt as waiting for something from outside (a person's approval): not a
    failure and not a retry. The run gives up its worker and lease with status ``waiting``
    and ``run.waiting`` (``data``) goes out; ``services.run_resume`` queues it again, and
    the attempt that claims it keeps the attempt number (nothing it streamed is withdrawn).
    """

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        super().__init__("waiting")
        self.data = data or {}


class RunDriver(Protocol):
    """One kind of run.

    ``run`` drives an attempt and returns the run's result (``run.completed``'s
    ``result``). ``queue`` is the task queue its runs go to. ``finished`` is called,
    synchronously and with the run as stored, once the run's end is recorded (completed,
    failed or cancelled by its worker).
    """

    @property
    def queue(self) -> str: ...

    async def run(self, ctx: RunContext) -> dict[str, Any] | None: ...

    def finished(self, run: Run) -> None: ...


@dataclass(frozen=True, kw_only=True)
class Driver:
    """A ``RunDriver`` made of functions; ``finished`` is optional."""

    drive: Callable[[RunContext], Awaitable[dict[str, Any] | None]]
    on_finished: Callable[[Run], None] | None = None
    queue: str = "default"

    async def run(self, ctx: RunContext) -> dict[str, Any] | None:
        return await self.drive(ctx)

    def finished(self, run: Run) -> None:
        if self.on_finished is not None:
            self.on_finished(run)


_drivers: dict[str, RunDriver] = {}


def register_driver(kind: str, driver: RunDriver) -> None:
    """Called from the owning app's ``AppConfig.ready()``; a kind has one driver."""
    found = _drivers.get(kind)
    if found is not None and found != driver:
        raise RuntimeError(f"Runs of kind {kind!r} already have a driver: {found!r}.")
    _drivers[kind] = driver


def registered_kinds() -> list[str]:
    return sorted(_drivers)


def driver_for(kind: str) -> RunDriver:
    driver = _drivers.get(kind)
    if driver is None:
        raise InternalError(f"No driver for runs of kind {kind!r}.")
    return driver
