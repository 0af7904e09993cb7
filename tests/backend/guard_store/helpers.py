"""Worker functions for the cross-thread/process races (module level so they pickle)."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from agents.guard import BudgetExceededError, CostGuard, Reservation
from backend.guard_store import RedisBudgetStore
from tests.agents.guard.support import PRICED, FakeClock, limits, meta, tokens_for

RACE_LIMITS = limits(client="5", session="100")  # $0.10 calls: exactly 50 fit


async def race_attempts(*, redis_url: str, key_prefix: str, attempts: int) -> list[Reservation]:
    # A blocking pool makes 200 coroutines queue for 32 connections instead of failing
    # with "Too many connections" (the pool the backend should give the guard, too).
    pool = aioredis.BlockingConnectionPool.from_url(redis_url, max_connections=32, timeout=10)
    client = aioredis.Redis(connection_pool=pool)
    try:
        # The tests' day (FakeClock's), not today's: the buckets they read are that day's.
        guard = CostGuard(
            store=RedisBudgetStore(redis=client, key_prefix=key_prefix),
            limits=RACE_LIMITS,
            clock=FakeClock(),
        )

        async def one() -> Reservation | None:
            try:
                return await guard.reserve(
                    meta=meta(session_id="s1"), model=PRICED, **tokens_for("0.1")
                )
            except BudgetExceededError:
                return None

        results = await asyncio.gather(*(one() for _ in range(attempts)))
        return [r for r in results if r is not None]
    finally:
        await client.aclose()


def race_in_process(redis_url: str, key_prefix: str, attempts: int) -> list[Reservation]:
    return asyncio.run(race_attempts(redis_url=redis_url, key_prefix=key_prefix, attempts=attempts))
