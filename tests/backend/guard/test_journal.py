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


def test_a_call_killed_with_its_process_is_corrected_to_its_bill_after_a_restart(
    env, settings, openai_server
):
    """The generation id joins the journal's row as soon as the call learns it: after the
    process died (and its in-memory reservations with it) the row is corrected to the bill,
    but only once the reservation's time is up (until then its holder may be running)."""
    import time

    from agents.guard import ModelPrice
    from backend.guard import instance as guard_instance
    from backend.guard.reconcile import spend_reconcile
    from tests.agents.guard.support import DyingGuard, call_and_die
    from tests.fakes.openai_server import Reply

    settings.REDIS_URL = None
    env(
        OPENROUTER_API_KEY="sk-test",
        OPENROUTER_BASE_URL=openai_server.base_url,
        GUARD_RESERVATION_TTL_S=1,
        GUARD_ANON_MAX_CALL_USD="1",
    )
    price = ModelPrice(
        model_id="test/metered",
        input_per_token=Decimal("0.00001"),
        output_per_token=Decimal("0.00002"),
    )
    reply = Reply(
        text="nine bar, twenty seven seconds",
        prompt_tokens=900,
        completion_tokens=400,
        cost=0.017,
        pause_before_chunk=2,
    )
    openai_server.script([reply])

    async def holder():
        guard = DyingGuard(store=guard_instance.get_store(), limits=guard_instance.guard_limits())
        return await call_and_die(
            guard=guard,
            base_url=openai_server.base_url,
            price=price,
            meta=meta(client_id="c1"),
            reply=reply,
        )

    reservation = async_to_sync(holder)()
    reply.resume.set()
    [billed] = openai_server.billed.values()
    row = LlmCall.objects.get()
    assert (row.reservation_id, row.generation_id, row.estimated) == (
        reservation.reservation_id,
        billed.generation_id,
        True,
    )
    assert spend_reconcile()["corrected"] == 0  # its holder may still be running
    assert openai_server.generation_lookups == []

    guard_instance.reset_for_tests()  # the process restarts: its reservations are gone
    time.sleep(max(0.0, row.settlement["live_until"] - time.time()) + 0.05)

    assert spend_reconcile()["corrected"] == 1
    row.refresh_from_db()
    assert (row.estimated, row.cost_usd, row.input_tokens) == (False, billed.cost, 900)
