"""A call that ends before the provider's usage arrives is never free.

Real streaming calls through the factory, ChatOpenAI and the scripted OpenAI-compatible
server, on the real guard and in-process store, cut off at several points: before the
first chunk, after three text deltas, just before the usage chunk, by a timeout, by an
upstream drop. Each must settle at least what the scripted provider billed (the
reservation's worst case, marked estimated, with the generation id), and exactly what it
billed once the generation lookup answers and the correction is applied.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from langchain_core.messages import HumanMessage

from agents.guard import (
    CallMeta,
    CallUsage,
    CostGuard,
    GuardUnavailableError,
    MemoryBudgetStore,
    ModelPrice,
)
from agents.guard.pricing import micros_to_usd, usd_to_micros
from agents.guard.settlement import settlement_record, unsettled_record
from agents.models import (
    ModelCallEvent,
    ModelFactory,
    ModelSettings,
    generation_billing,
)
from tests.agents.guard.support import DyingGuard, FakeClock, call_and_die, limits
from tests.fakes.openai_server import USAGE_CHUNK, OpenAIServer, Reply

# $10 per million input tokens, $20 per million output tokens.
PRICE = ModelPrice(
    model_id="test/metered",
    input_per_token=Decimal("0.00001"),
    output_per_token=Decimal("0.00002"),
    provider="test",
)
WORDS = ["one", "two", "three", "four", "five", "six", "seven", "eight"]
PROMPT = [HumanMessage("x" * 1200)]  # at least 1,200 tokens of bound, 900 billed
MAX_TOKENS = 500
META = CallMeta(client_id="client-1", feature="respond", run_id="run-1", session_id="s-1")


def billed_reply(**kwargs: Any) -> Reply:
    # What a provider would bill for 900 prompt and 400 completion tokens at PRICE.
    return Reply(
        text=" ".join(WORDS), prompt_tokens=900, completion_tokens=400, cost=0.017, **kwargs
    )


class Ledger:
    def __init__(self) -> None:
        self.events: list[ModelCallEvent] = []

    def model_call(self, event: ModelCallEvent) -> None:
        self.events.append(event)


class Harness:
    def __init__(self, server: OpenAIServer, *, store: MemoryBudgetStore | None = None) -> None:
        self.server = server
        self.store = store or MemoryBudgetStore()
        self.guard = CostGuard(store=self.store, limits=limits(client="10"))
        self.ledger = Ledger()
        self.settings = ModelSettings(base_url=server.base_url, api_key="test-key")

        async def no_sleep(_: float) -> None:
            return None

        self.factory = ModelFactory(
            settings=self.settings,
            guard=self.guard,
            catalogue={PRICE.model_id: PRICE}.get,
            analytics=self.ledger,
            sleep=no_sleep,
        )

    def model(self) -> Any:
        return self.factory.chat_model(PRICE.model_id, meta=META, max_tokens=MAX_TOKENS)

    async def client_spent(self) -> Decimal:
        [event] = self.ledger.events
        assert event.reservation is not None
        key = event.reservation.buckets[1]
        usage = (await self.store.usage([key]))[key]
        assert usage.held == 0
        return micros_to_usd(usage.spent)

    async def reconcile(self) -> None:
        """What the reconciliation job does for an estimated ledger row."""
        [event] = self.ledger.events
        assert event.generation_id and event.reservation is not None
        billing = await generation_billing(
            settings=self.settings, generation_id=event.generation_id
        )
        assert billing is not None
        delta = usd_to_micros(billing.cost_usd) - usd_to_micros(event.cost_usd)
        await self.guard.correct(
            record=settlement_record(event.reservation), delta_micros=delta, meta=META
        )


async def stream_until(
    model: Any, *, deltas: int | None, reached: asyncio.Event, seen: list[str]
) -> None:
    async for chunk in model.astream(PROMPT):
        if chunk.content:
            seen.append(str(chunk.content))
        if deltas is not None and len(seen) >= deltas:
            reached.set()


async def assert_estimated_then_reconciled(harness: Harness) -> None:
    server = harness.server
    [event] = harness.ledger.events
    [billed] = server.billed.values()
    assert event.estimated is True
    assert event.generation_id == billed.generation_id
    assert event.cost_usd == event.reserved_usd  # the worst case, held and now spent
    spent = await harness.client_spent()
    assert spent == event.cost_usd
    assert spent >= billed.cost, "an unreported call was recorded below its bill"

    await harness.reconcile()
    assert await harness.client_spent() == billed.cost
    await harness.reconcile()  # a correction applies once
    assert await harness.client_spent() == billed.cost


# Where to pause the stream, and how many text deltas the client has seen by then (the
# guarded model holds one chunk back; chunk 0 is the role chunk).
CUT_POINTS = {
    "before the first chunk": (0, None),
    "after three text deltas": (5, 3),
    "just before the usage chunk": (USAGE_CHUNK, len(WORDS)),
}


@pytest.fixture
def headers_seen(monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """Set once the client has read a response's headers (and with them the generation
    id), so a test can cancel after that and before any chunk."""
    import agents.models

    seen = asyncio.Event()
    note = agents.models._note_generation_id

    async def noting(response: Any) -> None:
        await note(response)
        seen.set()

    monkeypatch.setattr(agents.models, "_note_generation_id", noting)
    monkeypatch.setattr(agents.models, "_http_clients", type(agents.models._http_clients)())
    return seen


@pytest.mark.parametrize("point", list(CUT_POINTS), ids=list(CUT_POINTS))
async def test_a_cancelled_stream_settles_its_worst_case_then_its_bill(
    openai_server: OpenAIServer, headers_seen: asyncio.Event, point: str
) -> None:
    pause_before, deltas = CUT_POINTS[point]
    reply = billed_reply(pause_before_chunk=pause_before)
    openai_server.script([reply])
    harness = Harness(openai_server)
    reached, seen = asyncio.Event(), []

    task = asyncio.create_task(
        stream_until(harness.model(), deltas=deltas, reached=reached, seen=seen)
    )
    assert await asyncio.to_thread(reply.paused.wait, 10)
    await asyncio.wait_for(headers_seen.wait(), 10)
    if deltas is not None:
        await asyncio.wait_for(reached.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    reply.resume.set()

    assert len(seen) == (deltas or 0)
    await assert_estimated_then_reconciled(harness)


async def test_a_call_cut_off_by_a_timeout_settles_its_worst_case(
    openai_server: OpenAIServer, headers_seen: asyncio.Event
) -> None:
    """The tool timeout and the run deadline cancel the call the same way."""
    reply = billed_reply(pause_before_chunk=3)
    openai_server.script([reply])
    harness = Harness(openai_server)
    reached, seen = asyncio.Event(), []

    async def bounded() -> None:
        async with asyncio.timeout(None) as deadline:
            task = asyncio.ensure_future(
                stream_until(harness.model(), deltas=None, reached=reached, seen=seen)
            )
            await asyncio.to_thread(reply.paused.wait, 10)
            await headers_seen.wait()
            deadline.reschedule(asyncio.get_running_loop().time())
            await task

    with pytest.raises(TimeoutError):
        await bounded()
    reply.resume.set()
    await assert_estimated_then_reconciled(harness)


async def test_a_stream_that_drops_before_its_usage_settles_its_worst_case(
    openai_server: OpenAIServer,
) -> None:
    openai_server.script([billed_reply(drop_before_chunk=USAGE_CHUNK)])
    harness = Harness(openai_server)
    seen: list[str] = []

    await stream_until(harness.model(), deltas=None, reached=asyncio.Event(), seen=seen)

    assert "".join(seen) == " ".join(WORDS)  # the answer arrived, its usage never did
    await assert_estimated_then_reconciled(harness)


async def test_a_completed_stream_settles_what_it_reported(openai_server: OpenAIServer) -> None:
    openai_server.script([billed_reply()])
    harness = Harness(openai_server)

    await stream_until(harness.model(), deltas=None, reached=asyncio.Event(), seen=[])

    [event] = harness.ledger.events
    assert (event.estimated, event.cost_usd) == (False, Decimal("0.017"))
    assert event.generation_id == next(iter(openai_server.billed))
    assert await harness.client_spent() == Decimal("0.017")


async def test_an_error_status_from_the_provider_costs_nothing(
    openai_server: OpenAIServer,
) -> None:
    """A request the provider refused with an error status was never billed."""
    openai_server.script([Reply(status=400, error_message="bad request")])
    harness = Harness(openai_server)

    with pytest.raises(Exception, match="bad request"):
        await harness.model().ainvoke(PROMPT)

    [event] = harness.ledger.events
    assert (event.estimated, event.cost_usd, event.is_error) == (False, Decimal(0), True)
    assert await harness.client_spent() == 0


async def test_a_lookup_that_does_not_know_the_generation_yet_answers_none(
    openai_server: OpenAIServer,
) -> None:
    openai_server.script([billed_reply()])
    harness = Harness(openai_server)
    await stream_until(harness.model(), deltas=None, reached=asyncio.Event(), seen=[])
    [generation_id] = openai_server.billed

    openai_server.generation_lookup = False
    assert await generation_billing(settings=harness.settings, generation_id=generation_id) is None
    openai_server.generation_lookup = True
    billing = await generation_billing(settings=harness.settings, generation_id=generation_id)
    assert billing is not None
    assert (billing.cost_usd, billing.input_tokens, billing.output_tokens) == (
        Decimal("0.017"),
        900,
        400,
    )
    assert openai_server.generation_lookups == [generation_id, generation_id]


class GatedSettleStore(MemoryBudgetStore):
    """The in-process store with a settle that waits for a gate (a slow store)."""

    def __init__(self) -> None:
        super().__init__()
        self.settling = asyncio.Event()
        self.gate = asyncio.Event()

    async def settle(self, **kwargs: Any) -> Any:
        self.settling.set()
        await self.gate.wait()
        return await super().settle(**kwargs)


async def test_cancelling_again_while_settling_does_not_skip_the_settle(
    openai_server: OpenAIServer, headers_seen: asyncio.Event
) -> None:
    reply = billed_reply(pause_before_chunk=4)
    openai_server.script([reply])
    harness = Harness(openai_server)
    store = GatedSettleStore()
    harness.store = store
    harness.guard = CostGuard(store=store, limits=limits(client="10"))
    harness.factory = ModelFactory(
        settings=harness.settings,
        guard=harness.guard,
        catalogue={PRICE.model_id: PRICE}.get,
        analytics=harness.ledger,
    )

    task = asyncio.create_task(
        stream_until(harness.model(), deltas=None, reached=asyncio.Event(), seen=[])
    )
    assert await asyncio.to_thread(reply.paused.wait, 10)
    await asyncio.wait_for(headers_seen.wait(), 10)
    task.cancel()
    await asyncio.wait_for(store.settling.wait(), 10)
    task.cancel()  # a second cancellation (a run deadline on top of a cancel, say)
    await asyncio.sleep(0)
    assert not task.done()  # still settling
    store.gate.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    reply.resume.set()

    await assert_estimated_then_reconciled(harness)


def test_settled_cost_of_an_unreported_call_is_its_worst_case() -> None:
    from agents.guard.pricing import settled_micros

    usage: Callable[..., CallUsage] = CallUsage
    assert settled_micros(model=PRICE, usage=usage(unreported=True), reserved_micros=7) == 7
    # Whatever was counted before the cut never lowers it, and can only raise it.
    streamed = usage(unreported=True, input_tokens=1000, output_tokens=0)
    assert settled_micros(model=PRICE, usage=streamed, reserved_micros=7) == 10_000
    assert settled_micros(model=PRICE, usage=usage(input_tokens=1), reserved_micros=7) == 10


async def test_a_call_that_never_connected_costs_nothing(openai_server: OpenAIServer) -> None:
    """Connection refused: the request never reached a provider, so nothing is billed."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    harness = Harness(openai_server)
    harness.settings = ModelSettings(
        base_url=f"http://127.0.0.1:{closed_port}/v1", api_key="test-key", max_attempts=1
    )
    harness.factory = ModelFactory(
        settings=harness.settings,
        guard=harness.guard,
        catalogue={PRICE.model_id: PRICE}.get,
        analytics=harness.ledger,
    )

    with pytest.raises(Exception, match=r"[Cc]onnection"):
        await harness.model().ainvoke(PROMPT)

    [event] = harness.ledger.events
    assert (event.estimated, event.cost_usd, event.is_error) == (False, Decimal(0), True)
    assert await harness.client_spent() == 0


async def test_a_holder_that_dies_mid_stream_leaves_its_generation_id_with_the_reservation(
    openai_server: OpenAIServer,
) -> None:
    """The holder learns the generation id (header, first chunk), then its process dies
    before it settles: the reservation expires at its worst case and hands the id on, so
    the reconciliation job can correct it to the bill."""
    reply = billed_reply(pause_before_chunk=3)
    openai_server.script([reply])
    clock = FakeClock(time.time())
    store = MemoryBudgetStore(clock=clock)
    guard = DyingGuard(store=store, limits=limits(client="10", ttl_s=60))
    settings = ModelSettings(base_url=openai_server.base_url, api_key="test-key")

    reservation = await call_and_die(
        guard=guard, base_url=openai_server.base_url, price=PRICE, meta=META, reply=reply
    )
    reply.resume.set()

    [billed] = openai_server.billed.values()
    clock.advance(60)
    [expired] = await store.drain_expired()
    assert (expired.reservation_id, expired.generation_id) == (
        reservation.reservation_id,
        billed.generation_id,
    )
    worst = usd_to_micros(reservation.amount_usd)
    usage = await store.usage(reservation.buckets)
    assert {(u.spent, u.held) for u in usage.values()} == {(worst, 0)}

    # What the reconciliation job does with the expired reservation's ledger row.
    billing = await generation_billing(settings=settings, generation_id=billed.generation_id)
    assert billing is not None
    await CostGuard(store=store, limits=limits(client="10")).correct(
        record=unsettled_record(
            reservation_id=expired.reservation_id, amount_micros=expired.amount
        ),
        delta_micros=usd_to_micros(billing.cost_usd) - expired.amount,
        meta=META,
    )
    usage = await store.usage(reservation.buckets)
    assert {(u.spent, u.held) for u in usage.values()} == {(usd_to_micros(billed.cost), 0)}


class NoteFailingStore(MemoryBudgetStore):
    """The in-process store whose ``note_generation`` fails (Redis unreachable), or hangs
    until ``release`` is set (a Redis that stopped answering)."""

    def __init__(self, *, hang: bool = False) -> None:
        super().__init__()
        self.hang = hang
        self.attempts = 0
        self.release_hang = asyncio.Event()

    async def note_generation(self, *, reservation_id: str, generation_id: str) -> None:
        self.attempts += 1
        if self.hang:
            await self.release_hang.wait()
        raise GuardUnavailableError("The AI budget service is unavailable right now.")


@pytest.mark.parametrize("hang", [False, True], ids=["fails", "hangs"])
async def test_a_store_that_cannot_note_the_generation_does_not_fail_or_hold_up_the_call(
    openai_server: OpenAIServer, caplog: pytest.LogCaptureFixture, hang: bool
) -> None:
    openai_server.script([billed_reply(), billed_reply()])
    store = NoteFailingStore(hang=hang)
    harness = Harness(openai_server, store=store)
    seen: list[str] = []

    await asyncio.wait_for(
        stream_until(harness.model(), deltas=None, reached=asyncio.Event(), seen=seen), 10
    )
    answer = await asyncio.wait_for(harness.model().ainvoke(PROMPT), 10)

    assert "".join(seen) == answer.content == " ".join(WORDS)
    assert [(e.estimated, e.cost_usd) for e in harness.ledger.events] == [
        (False, Decimal("0.017")),
        (False, Decimal("0.017")),
    ]
    assert store.attempts == 2  # once per attempt, though every chunk names the generation
    store.release_hang.set()
    for _ in range(10):
        await asyncio.sleep(0)
    assert "could not note generation" in caplog.text


async def test_a_free_call_notes_no_generation(openai_server: OpenAIServer) -> None:
    """Nothing is charged if a free call's reservation expires: no store round trip."""
    free = ModelPrice(model_id="test/free", input_per_token=Decimal(0), output_per_token=Decimal(0))
    openai_server.script([billed_reply()])
    store = NoteFailingStore()
    harness = Harness(openai_server, store=store)
    harness.factory = ModelFactory(
        settings=harness.settings, guard=harness.guard, catalogue={free.model_id: free}.get
    )

    model = harness.factory.chat_model(free.model_id, meta=META, max_tokens=MAX_TOKENS)
    await stream_until(model, deltas=None, reached=asyncio.Event(), seen=[])

    assert openai_server.billed and store.attempts == 0
