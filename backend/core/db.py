"""Short database sections for long-lived async responses.

Under ASGI a sync call from an async view runs on the request's own thread, and the
connection it opens (a pooled one with PostgreSQL) stays checked out until the request
ends: for a stream, until the client goes. Streams do their lookups through ``released``,
which hands the connection back to the pool as soon as the call returns.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
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


def released(fn: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """``sync_to_async(fn)`` that gives the thread's database connection back afterwards."""

    @functools.wraps(fn)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        finally:
            release_connections()

    return sync_to_async(call)
