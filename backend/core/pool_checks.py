"""The check a pooled PostgreSQL connection of the worker loop passes as it leaves its
pool (Django's pool takes psycopg_pool's own: Django sets ``check`` itself)."""

from __future__ import annotations

import select
from typing import Any

# A connection leaving a pool is checked (after a PostgreSQL restart the dead ones are
# replaced instead of failing the run that took them). psycopg_pool's own check is a round
# trip (an empty query) on every checkout: the checkpointer's and the event store's, ~15 a
# chat run. An idle connection the server has said nothing on is alive as far as a round
# trip could tell: a server that terminates it (a restart, ``pg_terminate_backend``) sends
# an error and closes it, and a crashed one's socket reads as closed, so the socket is
# readable. Only then is the round trip made; it fails, and the pool takes another.


def _server_spoke(conn: Any) -> bool:
    if conn.closed or conn.broken:
        return True
    poller = select.poll()  # (not select(): a process may hold thousands of sockets)
    poller.register(conn.pgconn.socket, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


async def acheck_pooled_connection(conn: Any) -> None:
    """``check`` for the worker loop's pools (async)."""
    if _server_spoke(conn):
        from psycopg_pool import AsyncConnectionPool

        await AsyncConnectionPool.check_connection(conn)
