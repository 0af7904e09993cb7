"""Spend that ends outside a normal settle still reaches the ledger and the budgets.

A chat cancelled mid-answer on the embedded default (the issue's repro: it used to be
recorded at 0 tokens and $0), a reservation whose holder died (before or after the
provider named the generation), and the periodic job that records, settles and corrects
them (``backend.guard.reconcile.spend_reconcile``).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync

from agents.guard import CallMeta, CallUsage, Reservation
from agents.guard.memory_store import MemoryBudgetStore
from agents.guard.pricing import micros_to_usd
from backend.chat.models import ChatMessage
from backend.guard import instance as guard_instance
from backend.guard.journal import JournaledMemoryStore
from backend.guard.models import LlmCall
from backend.guard.reconcile import spend_reconcile
from backend.runs.eventlog import reset_for_tests
from backend.runs.models import Run
from tests.agents.guard.support import DyingGuard, FakeClock, call_and_die
from tests.backend.runs.helpers import logged_events
from tests.conftest import wait_for
from tests.fakes.openai_server import Reply

pytestmark = pytest.mark.django_db(transaction=True)
MODEL = "test/metered"
# $10 / $20 per million tokens; a scripted bill consistent with it: 900 in, 400 out.
BILL = Decimal("0.017")
WORDS = "Pull a shot at nine bar for about twenty seven seconds and taste it."


@pytest.fixture
def metered(env, openai_server, settings, never_ask):
    settings.TASK_RUNNER = "thread"
    reset_for_tests()
    env(
        OPENROUTER_API_KEY="sk-test",
        OPENROUTER_BASE_URL=openai_server.base_url,
        DECLARED_MODELS=[{"id": MODEL, "input_per_million": "10", "output_per_million": "20"}],
        GUARD_ANON_CLIENT_DAILY_USD="5",
        GUARD_ANON_SESSION_USD="5",
        GUARD_IP_DAILY_USD="5",
        GUARD_ANON_MAX_CALL_USD="1",
        RUN_HEARTBEAT_S=0.1,
    )
    openai_server.gate_timeout_s = 60
    yield openai_server
    reset_for_tests()


def answer(**kwargs) -> Reply:
    return Reply(text=WORDS, prompt_tokens=900, completion_tokens=400, cost=float(BILL), **kwargs)


def start_chat(client) -> dict:
    session = client.post("/api/chat/sessions/", {"model": MODEL}, format="json").json()
    response = client.post(
        f"/api/chat/sessions/{session['id']}/messages/",
        {"content": "how long should an espresso shot take?"},
        format="json",
    )
    assert response.status_code == 202, response.json()
    return response.json()


def client_spent(client_id: str) -> Decimal:
    from datetime import UTC, datetime

    key = f"client:{client_id}:day:{datetime.now(UTC).date().isoformat()}"

    async def read() -> Decimal:
        usage = (await guard_instance.get_store().usage([key]))[key]
        assert usage.held == 0
        return micros_to_usd(usage.spent)

    return async_to_sync(read)()


def test_a_completed_chat_records_what_the_provider_billed(anon_client, metered):
    metered.script([answer()])
    body = start_chat(anon_client)
    wait_for(lambda: Run.objects.get(pk=body["run_id"]).is_finished)

    [row] = LlmCall.objects.filter(run_id=body["run_id"])
    assert (row.input_tokens, row.output_tokens, row.cost_usd) == (900, 400, BILL)
    assert row.estimated is False
    assert row.generation_id == next(iter(metered.billed))
    assert client_spent(anon_client.client_id) == BILL


def test_a_chat_cancelled_mid_answer_records_at_least_its_bill_then_exactly_it(
    anon_client, metered
):
    reply = answer(pause_before_chunk=5)  # the role chunk and four words are out
    metered.script([reply])
    body = start_chat(anon_client)
    assert reply.paused.wait(30)
    response = anon_client.post(f"/api/runs/{body['run_id']}/cancel/")
    assert response.status_code == 202, response.json()
    wait_for(lambda: Run.objects.get(pk=body["run_id"]).is_finished)
    reply.resume.set()

    run = Run.objects.get(pk=body["run_id"])
    assert run.status == Run.Status.CANCELLED
    # The words streamed before the stop are the run's answer, marked stopped.
    streamed = "".join(
        e.data["text"] for e in logged_events(body["run_id"]) if e.type == "message.delta"
    )
    kept = ChatMessage.objects.get(run_id=body["run_id"], role="assistant")
    assert kept.stopped and kept.content == streamed and len(streamed.split()) >= 3
    [row] = LlmCall.objects.filter(run_id=body["run_id"])
    [billed] = metered.billed.values()
    # Before: 0 tokens and $0. Now the reservation's worst case, marked as an estimate.
    assert row.estimated is True
    assert row.generation_id == billed.generation_id
    assert row.cost_usd == row.reserved_usd > 0
    assert row.cost_usd >= billed.cost
    assert client_spent(anon_client.client_id) == row.cost_usd
    assert run.cost_usd == row.cost_usd

    counts = spend_reconcile()

    assert counts["corrected"] == 1
    row.refresh_from_db()
    run.refresh_from_db()
    assert (row.estimated, row.cost_usd, row.input_tokens, row.output_tokens) == (
        False,
        billed.cost,
        900,
        400,
    )
    assert row.reconciled_at is not None
    assert client_spent(anon_client.client_id) == billed.cost
    assert run.cost_usd == billed.cost
    assert metered.generation_lookups == [billed.generation_id]
    assert spend_reconcile()["corrected"] == 0  # done once


def test_an_estimate_waits_for_the_provider_to_know_its_generation(anon_client, metered):
    reply = answer(pause_before_chunk=3)
    metered.script([reply])
    body = start_chat(anon_client)
    assert reply.paused.wait(30)
    anon_client.post(f"/api/runs/{body['run_id']}/cancel/")
    wait_for(lambda: Run.objects.get(pk=body["run_id"]).is_finished)
    reply.resume.set()

    metered.generation_lookup = False  # OpenRouter answers 404 for the first seconds
    assert spend_reconcile()["corrected"] == 0
    [row] = LlmCall.objects.filter(run_id=body["run_id"])
    assert (row.estimated, row.reconcile_attempts) == (True, 1)
    assert client_spent(anon_client.client_id) == row.cost_usd

    metered.generation_lookup = True
    assert spend_reconcile()["corrected"] == 1
    row.refresh_from_db()
    assert (row.estimated, row.cost_usd) == (False, BILL)
    assert client_spent(anon_client.client_id) == BILL


@pytest.fixture
def store_clock(env, settings):
    """The embedded store on a clock the test moves (reservations expire by it; the
    Redis store's expiry, by Redis time, is tested in tests/backend/guard_store)."""
    settings.REDIS_URL = None
    clock = FakeClock(now=__import__("time").time())
    guard_instance.reset_for_tests()
    guard_instance._memory_store = MemoryBudgetStore(clock=clock)
    env(
        GUARD_RESERVATION_TTL_S=60,
        GUARD_MAX_CONCURRENT_CALLS=1,
        DECLARED_MODELS=[{"id": MODEL, "input_per_million": "10", "output_per_million": "20"}],
        GUARD_ANON_MAX_CALL_USD="1",
        GUARD_ANON_CLIENT_DAILY_USD="5",
        GUARD_ANON_SESSION_USD="5",
        GUARD_IP_DAILY_USD="5",
    )
    guard_instance._memory_store = MemoryBudgetStore(clock=clock)  # env() reset the guard instance
    yield clock
    guard_instance.reset_for_tests()


def test_a_dead_holders_reservation_is_charged_and_recorded_when_it_expires(
    anon_client, store_clock
):
    from backend.llm.selectors import model_price

    price = model_price(model_id=MODEL)
    assert price is not None
    meta = CallMeta(client_id=anon_client.client_id, feature="respond", run_id=None)

    async def reserve():
        return await guard_instance.get_guard().reserve(
            meta=meta, model=price, prompt_tokens_upper_bound=4000, max_tokens=1000
        )

    reservation = async_to_sync(reserve)()  # ...and the worker holding it is SIGKILLed
    worst = reservation.amount_usd
    assert worst == Decimal("0.06")
    store_clock.advance(61)

    assert spend_reconcile()["expired"] == 1

    [row] = LlmCall.objects.all()
    assert row.reservation_id == reservation.reservation_id
    assert (row.estimated, row.cost_usd, row.client_id, row.model) == (
        True,
        worst,
        anon_client.client_id,
        MODEL,
    )
    assert client_spent(anon_client.client_id) == worst
    assert spend_reconcile()["expired"] == 0

    # The slot is free again: the client's next call is admitted (limit 1 in flight).
    again = async_to_sync(reserve)()

    # Had the holder been alive after all, its late settle corrects both records.
    async def settle_late() -> Decimal:
        return await guard_instance.get_guard().settle(
            reservation, CallUsage(reported_cost_usd=Decimal("0.01"))
        )

    assert async_to_sync(settle_late)() == Decimal("0.01")
    from agents.models import ModelCallEvent
    from backend.guard.ledger import ledger_record

    ledger_record(
        ModelCallEvent(
            model=MODEL,
            provider="test",
            input_tokens=500,
            output_tokens=100,
            latency_s=1.0,
            cost_usd=Decimal("0.01"),
            is_error=False,
            trace_id=None,
            feature="respond",
            session_id=None,
            client_id=anon_client.client_id,
            attempt=1,
            reservation_id=reservation.reservation_id,
            reserved_usd=worst,
            reservation=reservation,
        )
    )
    [row] = LlmCall.objects.all()
    assert (row.estimated, row.cost_usd, row.input_tokens) == (False, Decimal("0.01"), 500)

    async def settle_again() -> None:
        await guard_instance.get_guard().settle(again, CallUsage())

    async_to_sync(settle_again)()
    assert client_spent(anon_client.client_id) == Decimal("0.01")


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def expiring_store(request, metered, env, settings):
    """The store behind the backend's guard, embedded (journaled, as by default) or Redis,
    and a way to move past its reservations' lifetime (the embedded store's clock; Redis's
    own time, so a short lifetime and a wait)."""
    if request.param == "memory":
        settings.REDIS_URL = None
        clock = FakeClock(now=__import__("time").time())
        env(GUARD_RESERVATION_TTL_S=60)
        guard_instance._memory_store = JournaledMemoryStore(clock=clock)
        yield lambda: clock.advance(61)
    else:
        env(GUARD_RESERVATION_TTL_S=1)
        yield lambda: __import__("time").sleep(1.2)
    guard_instance.reset_for_tests()


def test_a_holder_that_died_after_the_generation_began_is_corrected_to_its_bill(
    anon_client, metered, expiring_store
):
    """The soak's 9% over-count: a worker that died mid-call (or lost its ledger write) left
    a reservation that expired at its worst case with no generation id, never corrected."""
    from backend.llm.selectors import model_price

    price = model_price(model_id=MODEL)
    assert price is not None
    run = Run.objects.create(kind="chat", client_id=anon_client.client_id, model=MODEL)
    meta = CallMeta(client_id=anon_client.client_id, feature="respond", run_id=str(run.id))
    reply = answer(pause_before_chunk=3)
    metered.script([reply])

    async def holder() -> Reservation:
        guard = DyingGuard(store=guard_instance.get_store(), limits=guard_instance.guard_limits())
        return await call_and_die(
            guard=guard, base_url=metered.base_url, price=price, meta=meta, reply=reply
        )

    reservation = async_to_sync(holder)()
    reply.resume.set()
    [billed] = metered.billed.values()
    expiring_store()

    spend_reconcile()

    row = LlmCall.objects.get(reservation_id=reservation.reservation_id)
    assert (row.estimated, row.generation_id, row.reserved_usd) == (
        False,
        billed.generation_id,
        reservation.amount_usd,
    )
    assert (row.cost_usd, row.input_tokens, row.output_tokens) == (BILL, 900, 400)
    assert client_spent(anon_client.client_id) == BILL
    run.refresh_from_db()  # the run's totals never counted the call; now they have its bill
    assert (run.cost_usd, run.input_tokens, run.output_tokens) == (BILL, 900, 400)
    assert spend_reconcile()["corrected"] == 0  # done once
    assert client_spent(anon_client.client_id) == BILL


def test_the_job_runs_from_the_periodic_schedule():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["guard-reconcile-spend"]
    assert entry["task"] == "backend.guard.tasks.reconcile_spend"
    assert entry["schedule"] <= 60
    from backend.guard.tasks import reconcile_spend

    assert reconcile_spend.name == entry["task"]
    reconcile_spend.run()  # nothing to do, and no error
