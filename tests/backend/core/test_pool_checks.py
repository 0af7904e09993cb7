"""A pooled connection is checked as it leaves the pool without a round trip, unless the
server has spoken on it: a terminated connection (what a restart does) is replaced, a live
idle one is handed out as it is."""

from __future__ import annotations

import time

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from backend.core import pool_checks
from backend.runs.checkpoints import postgres_dsn

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def terminate(pid: int) -> None:
    dsn = postgres_dsn()
    assert dsn
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        # (The signal is asynchronous: wait until the backend has gone, as after a restart.)
        for _ in range(200):
            gone = admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,))
            if gone.fetchone() is None:
                return
            time.sleep(0.01)
    raise AssertionError(f"backend {pid} still there")


async def test_a_terminated_connection_is_replaced_and_a_live_one_is_not_pinged():
    dsn = postgres_dsn()
    assert dsn
    pool = AsyncConnectionPool(
        dsn, min_size=1, max_size=1, check=pool_checks.acheck_pooled_connection, open=False
    )
    await pool.open()
    try:
        async with pool.connection() as conn:
            first = conn.info.backend_pid
        async with pool.connection() as conn:
            assert not pool_checks._server_spoke(conn)  # idle and healthy: no round trip
            assert conn.info.backend_pid == first
        terminate(first)
        async with pool.connection() as conn:
            assert conn.info.backend_pid != first
            assert await (await conn.execute("SELECT 1")).fetchone() == (1,)
    finally:
        await pool.close()
