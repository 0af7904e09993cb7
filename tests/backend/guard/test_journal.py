"""Embedded, an admitted reservation is in the ledger at its worst case before the call
runs: a process killed mid-call leaves its calls charged, not free (the soak bench's
SIGKILL left 8 of 1,115 billed calls unrecorded before)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync

from agents.guard import CallUsage, CostGuard
from agents.models import ModelCallEvent
from backend.guard.journal import JournaledMemoryStore
from backend.guard.ledger import ledger_record
from backend.guard.models import LlmCall
from tests.agents.guard.support import PRICED, limits, meta, tokens_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_unsettled_call_stays_charged_at_its_worst_case():
    guard = CostGuard(store=JournaledMemoryStore(), limits=limits())
    reservation = async_to_sync(guard.reserve)(
        meta=meta(client_id="c1", run_id="r1"), model=PRICED, **tokens_for("1")
    )
    # The process dies here: nothing settles. The ledger already has the call.
    row = LlmCall.objects.get()
    assert row.reservation_id == reservation.reservation_id
    assert (row.client_id, row.run_id, row.estimated) == ("c1", "r1", True)
    assert row.cost_usd == row.reserved_usd > 0


def test_the_calls_own_record_replaces_the_worst_case():
    guard = CostGuard(store=JournaledMemoryStore(), limits=limits())
    reservation = async_to_sync(guard.reserve)(
        meta=meta(client_id="c1"), model=PRICED, **tokens_for("1")
    )
    async_to_sync(guard.settle)(reservation, CallUsage(input_tokens=10, output_tokens=5))
    worst = LlmCall.objects.get().cost_usd
    # What the model factory writes after the settle.
    ledger_record(
        ModelCallEvent(
            client_id="c1",
            feature="chat",
            model="test/priced",
            provider="openrouter",
            trace_id=None,
            session_id=None,
            attempt=1,
            input_tokens=10,
            output_tokens=5,
            cost_usd=Decimal("0.000020"),
            reserved_usd=worst,
            latency_s=0.1,
            is_error=False,
            reservation_id=reservation.reservation_id,
        )
    )
    row = LlmCall.objects.get()
    assert (row.estimated, row.cost_usd, row.input_tokens) == (False, Decimal("0.000020"), 10)
