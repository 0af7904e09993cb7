"""One long-lived event loop per Celery worker process, for runs.

Runs are tasks on that loop, not threads: ``start_detached`` starts one and returns as
soon as it is claimed, so the Celery task (and its thread) is done and acked while the run
goes on. How many runs a process holds is bounded by ``RUN_MAX_IN_FLIGHT`` (memory), not
by the pool's threads: the next delivery waits for a free place. A worker that dies with
runs in flight loses nothing the lease does not cover: their leases run out and the reaper
hands them on, as it would for any dead worker. A worker shut down gracefully gives its
runs ``RUN_DRAIN_S`` to finish, then gives the rest back (their leases end at once, and
another worker resumes them from their checkpoints).

``asyncio.run`` per task made every per-loop resource (redis.asyncio clients of the guard
and the event log, the default executor's threads, the checkpointer's PostgreSQL
connection) be rebuilt for every run. Instead each worker process starts one loop in a
daemon thread the first time it executes a run, and tasks submit their coroutine to it
and wait. A forked child never reuses its parent's loop (checked by pid).

The embedded thread runner keeps ``asyncio.run`` per task (see ``tasks.run_execute``).
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import structlog
from celery.signals import worker_process_shutdown, worker_shutdown
from django.conf import settings

from backend.core.db import run_db_calls_on_threads

T = TypeVar("T")
logger = structlog.get_logger(__name__)

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_pid: int | None = None
_closers: list[Callable[[], Awaitable[Any]]] = []
# The detached runs of this process (touched on the loop's thread only), and the places
# left for more.
_tasks: set[asyncio.Task[Any]] = set()
_slots: threading.BoundedSemaphore | None = None
_draining = threading.Event()


def process_loop() -> asyncio.AbstractEventLoop:
    """This process's run loop, started on first use."""
    global _loop, _pid
    with _lock:
        if _loop is None or _pid != os.getpid() or _loop.is_closed():
            loop = asyncio.new_event_loop()
            ready = threading.Event()

            # Runs' database calls side by side, within the process's share of the pool.
            run_db_calls_on_threads(loop, threads=settings.ENV.RUN_DB_THREADS)

            def serve() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(ready.set)
                loop.run_forever()

            threading.Thread(target=serve, name="run-loop", daemon=True).start()
            ready.wait()
            _loop, _pid = loop, os.getpid()
        return _loop


def is_process_loop() -> bool:
    """Whether the running loop is this process's long-lived run loop (so per-loop
    resources opened on it may be kept for later runs)."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        return False
    return running is _loop and _pid == os.getpid()


def run_on_process_loop(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on the process loop and wait for it; an exception in the waiting
    thread (Celery's soft time limit) cancels the coroutine."""
    future = asyncio.run_coroutine_threadsafe(coro, process_loop())
    try:
        return future.result()
    except BaseException:
        future.cancel()
        raise


def start_detached(start: Callable[[Callable[[], None]], Coroutine[Any, Any, Any]]) -> None:
    """Start ``start(started)`` as a task on the process loop and return once it calls
    ``started()`` (or ends): the run is claimed, and the task that delivered it can be
    acked. Waits first for a free place when ``RUN_MAX_IN_FLIGHT`` runs are in flight."""
    slots = _process_slots()
    slots.acquire()
    started = threading.Event()
    try:
        loop = process_loop()
        coro = start(started.set)
    except BaseException:
        slots.release()
        raise

    def done(task: asyncio.Task[Any]) -> None:
        _tasks.discard(task)
        slots.release()
        started.set()
        if not task.cancelled() and task.exception() is not None:
            logger.error("detached_run_crashed", exc_info=task.exception())

    def spawn() -> None:
        task = loop.create_task(coro)
        _tasks.add(task)
        task.add_done_callback(done)

    loop.call_soon_threadsafe(spawn)
    started.wait()


def in_flight() -> int:
    """How many detached runs this process holds now."""
    return len(_tasks)


def is_draining() -> bool:
    """Whether this process is shutting down (a run cancelled now gives its lease back)."""
    return _draining.is_set()


def _process_slots() -> threading.BoundedSemaphore:
    global _slots
    with _lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(settings.ENV.RUN_MAX_IN_FLIGHT)
        return _slots


def drain(timeout_s: float) -> int:
    """Wait up to ``timeout_s`` for the detached runs to end, then cancel the rest (they
    give their leases back); returns how many were cancelled."""
    _draining.set()
    loop = _loop
    if loop is None or _pid != os.getpid() or loop.is_closed():
        return 0

    async def wait_then_cancel() -> int:
        pending = set(_tasks)
        if not pending:
            return 0
        _done, left = await asyncio.wait(pending, timeout=timeout_s)
        for task in left:
            task.cancel()
        if left:
            await asyncio.wait(left, timeout=5)
            logger.warning("runs_given_back_at_shutdown", runs=len(left))
        return len(left)

    return asyncio.run_coroutine_threadsafe(wait_then_cancel(), loop).result(timeout_s + 10)


def on_shutdown(closer: Callable[[], Awaitable[Any]]) -> None:
    """Await ``closer()`` on the loop when the worker process shuts down (pools, clients)."""
    _closers.append(closer)


@worker_shutdown.connect
@worker_process_shutdown.connect
def _shut_down(**_kwargs: object) -> None:
    if _loop is None or _pid != os.getpid() or _loop.is_closed():
        return
    drain(settings.ENV.RUN_DRAIN_S)
    _close_resources()


def _close_resources() -> None:
    loop = _loop
    if loop is None or _pid != os.getpid() or loop.is_closed() or not _closers:
        return

    async def close_all() -> None:
        for closer in reversed(_closers):
            try:
                await closer()
            except Exception:
                logger.warning("run_loop_close_failed", exc_info=True)
        _closers.clear()

    try:
        asyncio.run_coroutine_threadsafe(close_all(), loop).result(timeout=5)
    except Exception:
        logger.warning("run_loop_shutdown_failed", exc_info=True)
