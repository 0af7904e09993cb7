"""The embedded store under real threads: the embedded runner calls it from several."""

from __future__ import annotations

import asyncio
import threading
from decimal import Decimal

from agents.guard import BudgetExceededError, CallUsage, CostGuard, MemoryBudgetStore, Reservation
from tests.agents.guard.support import PRICED, limits, meta, tokens_for

THREADS = 8
ATTEMPTS_PER_THREAD = 25


def test_threads_racing_for_a_budget_admit_exactly_what_fits():
    store = MemoryBudgetStore()
    # $5 client budget, $0.10 per call: exactly 50 of the 200 attempts fit.
    guard = CostGuard(store=store, limits=limits(client="5", session="100"))
    admitted: list[Reservation] = []
    refused = 0
    start = threading.Barrier(THREADS)
    tally = threading.Lock()

    async def attempts() -> tuple[list[Reservation], int]:
        async def one() -> Reservation | None:
            try:
                return await guard.reserve(
                    meta=meta(session_id="s1"), model=PRICED, **tokens_for("0.1")
                )
            except BudgetExceededError:
                return None

        results = await asyncio.gather(*(one() for _ in range(ATTEMPTS_PER_THREAD)))
        won = [r for r in results if r is not None]
        return won, len(results) - len(won)

    def worker() -> None:
        nonlocal refused
        start.wait()
        won, lost = asyncio.run(attempts())
        with tally:
            admitted.extend(won)
            refused += lost

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert (len(admitted), refused) == (50, 150)
    client_key = admitted[0].buckets[1]

    async def settle_all() -> None:
        for i, reservation in enumerate(admitted):
            await guard.settle(reservation, CallUsage(input_tokens=i))

    asyncio.run(settle_all())
    usage = asyncio.run(store.usage([client_key]))[client_key]
    assert usage.held == 0
    assert usage.spent == sum(range(50)) * 1000
    assert asyncio.run(store.active_reservations()) == []
    assert Decimal(usage.spent) / 1_000_000 == Decimal("1.225")
