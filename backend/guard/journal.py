"""The embedded budget store, with each admitted reservation written to the ledger first.

Embedded, reservations live in this process's memory (``MemoryBudgetStore``): a process
killed mid-call took them along, and those calls, billed by the provider, were never
recorded (the soak bench: 8 of 1,115 calls after a SIGKILL). Each admitted reservation is
now first written to the ledger at its worst case (``estimated``), keyed by its id; the
call's own settle replaces that row (the ledger upserts by reservation id), so a call
whose process died stays charged at its worst case instead of nothing. The call's
generation id joins that row as soon as the call learns it, so the reconciliation job
can correct even a dead process's call to its billed cost once the reservation's time
is up. Production does the same through Redis: a reservation whose holder died expires
there and is recorded then (``backend.guard.reconcile``).
"""

from __future__ import annotations

import time
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
            # By the wall clock, which the reconciliation job reads; taken after the store
            # decided, so never before the reservation's expiry.
            live_until = time.time() + ttl_s
            await released(_write_ahead)(reservation_id, amount, note, live_until)
        return result

    async def note_generation(self, *, reservation_id: str, generation_id: str) -> None:
        await super().note_generation(reservation_id=reservation_id, generation_id=generation_id)
        await released(_journal_generation)(reservation_id, generation_id)


def _write_ahead(reservation_id: str, amount: int, note: str, live_until: float) -> None:
    from backend.guard.models import LlmCall
    from backend.guard.reconcile import unsettled_row

    row = unsettled_row(
        reservation_id=reservation_id, amount_micros=amount, note=note, live_until=live_until
    )
    LlmCall.objects.bulk_create([row], ignore_conflicts=True)


def _journal_generation(reservation_id: str, generation_id: str) -> None:
    from backend.guard.reconcile import unsettled_row_note_generation

    unsettled_row_note_generation(reservation_id=reservation_id, generation_id=generation_id)
