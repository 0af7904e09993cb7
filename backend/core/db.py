"""Short database sections for long-lived async responses.

Under ASGI a sync call from an async view runs on the request's own thread, and the
connection it opens (a pooled one with PostgreSQL) stays checked out until the request
ends: for a stream, until the client goes. Streams do their lookups through ``released``,
which hands the connection back to the pool as soon as the call returns.
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.db import connections

P = ParamSpec("P")
R = TypeVar("R")


def release_connections() -> None:
    """Give this thread's pooled connections back to their pool.

    A connection inside a transaction is left alone: its owner decides when it ends. One
    without a pool (SQLite, embedded) is kept: nothing waits for it, and reopening it on
    every call of a run would cost a connect and its PRAGMAs each time.
    """
    for connection in connections.all(initialized_only=True):
        pooled = getattr(connection, "pool", None) is not None
        if pooled and connection.connection is not None and not connection.in_atomic_block:
            connection.close()


# Loops whose database calls run on a pool of threads (see ``run_db_calls_on_threads``).
_threaded_loops: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()


def run_db_calls_on_threads(loop: asyncio.AbstractEventLoop, *, threads: int) -> None:
    """Let ``released`` calls made on ``loop`` run side by side on ``threads`` threads.

    By default (``thread_sensitive``) every sync call of a process goes through one shared
    thread, one after the other: right for a request, which must see its own connection,
    but a worker loop with hundreds of runs then waits in one line for each round trip to
    PostgreSQL. A ``released`` call holds no transaction across calls, so any thread may
    make it; each thread takes a pooled connection and gives it back afterwards.
    """
    loop.set_default_executor(ThreadPoolExecutor(max_workers=threads, thread_name_prefix="db"))
    _threaded_loops.add(loop)


def released(fn: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """``sync_to_async(fn)`` that gives the thread's database connection back afterwards."""

    @functools.wraps(fn)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        finally:
            release_connections()

    in_line = sync_to_async(call)
    side_by_side = sync_to_async(call, thread_sensitive=False)

    @functools.wraps(fn)
    async def run(*args: P.args, **kwargs: P.kwargs) -> R:
        if asyncio.get_running_loop() in _threaded_loops:
            return await side_by_side(*args, **kwargs)
        return await in_line(*args, **kwargs)

    return run


# psycopg_pool retries a failed connect 1 s later, then 2, 4, 8 s … . After a PostgreSQL
# restart of ~3 s (the soak's ``pg_ctl restart -m fast`` under load) the web had no
# connection for ~6 s, and requests that waited the pool's 5 s answered 503. From 0.1 s,
# growing 1.25× (attempts at 0.1, 0.23, 0.38, 0.58 … 2.6, 3.3, 4.3 s after the first
# failure), a pool is back within ~1 s of a server that was down for a few seconds; a long
# outage still backs off (~20 attempts in its first minute).
POOL_RECONNECT_FIRST_S = 0.1
POOL_RECONNECT_BACKOFF = 1.25


def quicken_pool_reconnects() -> None:
    """Every psycopg pool of the process (Django's, the worker's checkpoint pools) retries
    a lost server on the schedule above. Called from ``CoreConfig.ready()``, before any
    pool exists."""
    from psycopg_pool.base import AttemptWithBackoff

    AttemptWithBackoff.INITIAL_DELAY = POOL_RECONNECT_FIRST_S
    AttemptWithBackoff.DELAY_BACKOFF = POOL_RECONNECT_BACKOFF
