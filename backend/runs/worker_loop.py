"""One long-lived event loop per Celery worker process, for runs.

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
from celery.signals import worker_process_shutdown

T = TypeVar("T")
logger = structlog.get_logger(__name__)

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_pid: int | None = None
_closers: list[Callable[[], Awaitable[Any]]] = []


def process_loop() -> asyncio.AbstractEventLoop:
    """This process's run loop, started on first use."""
    global _loop, _pid
    with _lock:
        if _loop is None or _pid != os.getpid() or _loop.is_closed():
            loop = asyncio.new_event_loop()
            ready = threading.Event()

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


def on_shutdown(closer: Callable[[], Awaitable[Any]]) -> None:
    """Await ``closer()`` on the loop when the worker process shuts down (pools, clients)."""
    _closers.append(closer)


@worker_process_shutdown.connect
def _close_resources(**_kwargs: object) -> None:
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
