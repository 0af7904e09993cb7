"""The embedded budget store, with each admitted reservation written to the ledger first.

Embedded, reservations live in this process's memory (``MemoryBudgetStore``): a process
killed mid-call took them along, and those calls, billed by the provider, were never
recorded (the soak bench: 8 of 1,115 calls after a SIGKILL). Each admitted reservation is
now first written to the ledger at its worst case (``estimated``), keyed by its id; the
call's own settle replaces that row (the ledger upserts by reservation id), so a call
whose process died stays charged at its worst case instead of nothing. Production does
the same through Redis: a reservation whose holder died expires there and is recorded
then (``backend.guard.reconcile``).
"""

from __future__ import annotations

from collections.abc import Sequence

from agents.guard.memory_store import MemoryBudgetStore
from agents.guard.store import BucketSpec, ConcurrencySpec, RateSpec, ReserveResult
from backend.core.db import released


class JournaledMemoryStore(MemoryBudgetStore):
    async def reserve(
        self,
        *,
        reservation_id: str,
        amount: int,
        buckets: Sequence[BucketSpec],
        concurrency: ConcurrencySpec | None,
        ttl_s: float,
        rate: RateSpec | None = None,
        note: str = "",
    ) -> ReserveResult:
        result = await super().reserve(
            reservation_id=reservation_id,
            amount=amount,
            buckets=buckets,
            concurrency=concurrency,
            ttl_s=ttl_s,
            rate=rate,
            note=note,
        )
        if result.ok and amount > 0:
            await released(_write_ahead)(reservation_id, amount, note)
        return result


def _write_ahead(reservation_id: str, amount: int, note: str) -> None:
    from backend.guard.models import LlmCall
    from backend.guard.reconcile import unsettled_row

    row = unsettled_row(reservation_id=reservation_id, amount_micros=amount, note=note)
    LlmCall.objects.bulk_create([row], ignore_conflicts=True)
