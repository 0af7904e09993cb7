"""The model factory and the guarded model, over real HTTP to the local OpenAI server."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import openai
import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from agents.guard.interface import (
    BudgetExceededError,
    CallMeta,
    GuardUnavailableError,
    UnknownModelPriceError,
)
from agents.models import COST_METADATA_KEY, ModelCallEvent, ModelFactory, ModelSettings
from tests.agents.conftest import RecordingGuard, catalogue, make_factory
from tests.fakes.openai_server import OpenAIServer, Reply, ToolCallReply

META = CallMeta(client_id="client-1", feature="plan", run_id="run-7", session_id="s-1")


def _factory(server: OpenAIServer, guard: RecordingGuard, **settings: Any) -> ModelFactory:
    return make_factory(guard=guard, base_url=server.base_url, **settings)


async def test_streaming_call_reserves_then_settles_with_reported_cost(
    openai_server: OpenAIServer, guard: RecordingGuard
) -> None:
    openai_server.script(
        [Reply(text="Espresso is great", prompt_tokens=30, completion_tokens=4, cost=0.0123)]
    )
    model = _factory(openai_server, guard).chat_model("test/model", meta=META, max_tokens=64)

    chunks = [chunk async for chunk in model.astream([HumanMessage("hi")])]

    text = "".join(str(chunk.content) for chunk in chunks)
    assert text == "Espresso is great"
    assert len([c for c in chunks if c.content]) == 3  # word by word, as served
    request = openai_server.requests[0]
    assert request["stream"] is True
    assert request["stream_options"] == {"include_usage": True}
    assert request["model"] == "test/model"
    assert 64 in (request.get("max_tokens"), request.get("max_completion_tokens"))
    headers = openai_server.headers[0]
    assert headers["authorization"] == "Bearer test-key"
    assert headers["x-title"] == "InsightStream"
    assert "http-referer" in headers
    assert len(guard.reserved) == 1
    assert guard.reserved[0]["max_tokens"] == 64
    assert guard.reserved[0]["meta"] == META
    [(_, usage)] = guard.settled
    assert (usage.input_tokens, usage.output_tokens) == (30, 4)
    assert usage.reported_cost_usd == Decimal("0.0123")
    assert usage.is_error is False
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged += chunk
    assert merged.response_metadata[COST_METADATA_KEY] == pytest.approx(0.0123)


async def test_non_streaming_call_reads_cost_from_token_usage(
    openai_server: OpenAIServer, guard: RecordingGuard
) -> None:
    openai_server.script([Reply(text="ok", prompt_tokens=5, completion_tokens=1, cost=0.5)])
    model = _factory(openai_server, guard).chat_model("test/model", meta=META, max_tokens=16)

    reply = await model.ainvoke([HumanMessage("hi")])

    assert reply.content == "ok"
    assert reply.response_metadata[COST_METADATA_KEY] == pytest.approx(0.5)
    [(_, usage)] = guard.settled
    assert usage.reported_cost_usd == Decimal("0.5")
    assert openai_server.requests[0].get("stream") in (None, False)


async def test_sync_invoke_is_guarded_too(
    openai_server: OpenAIServer, guard: RecordingGuard
) -> None:
    openai_server.script([Reply(text="sync ok")])
    model = _factory(openai_server, guard).chat_model("test/model", meta=META, max_tokens=16)

    reply = await asyncio.to_thread(model.invoke, [HumanMessage("hi")])

    assert reply.content == "sync ok"
    assert len(guard.reserved) == len(guard.settled) == 1


async def test_bound_tools_reach_the_endpoint_and_tool_calls_come_back(
    openai_server: OpenAIServer, guard: RecordingGuard
) -> None:
    openai_server.script(
        [
            Reply(
                tool_calls=[
                    ToolCallReply(name="hashtags", arguments={"topic": "latte art"}, id="call_1")
                ]
            )
        ]
    )
    schema = {
        "type": "function",
        "function": {
            "name": "hashtags",
            "description": "Suggest hashtags",
            "parameters": {"type": "object", "properties": {"topic": {"type": "string"}}},
        },
    }
    model = _factory(openai_server, guard).chat_model("test/model", meta=META, max_tokens=16)

    reply = await model.bind_tools([schema]).ainvoke([HumanMessage("hashtags for latte art")])

    assert isinstance(reply, AIMessage)
    assert reply.tool_calls == [
        {"name": "hashtags", "args": {"topic": "latte art"}, "id": "call_1", "type": "tool_call"}
    ]
    assert openai_server.requests[0]["tools"][0]["function"]["name"] == "hashtags"
    # The tool schemas count towards the prompt bound the guard reserved for.
    assert guard.reserved[0]["prompt_tokens_upper_bound"] > len(str(schema))


async def test_transient_errors_are_retried_and_every_attempt_is_reserved_and_settled(
    openai_server: OpenAIServer, guard: RecordingGuard
) -> None:
    openai_server.script(
        [Reply(status=500), Reply(status=429, retry_after_s=0), Reply(text="third time")]
    )
    model = _factory(openai_server, guard, max_attempts=3).chat_model(
        "test/model", meta=META, max_tokens=16
    )

    reply = await model.ainvoke([HumanMessage("hi")])

    assert reply.content == "third time"
    assert len(openai_server.requests) == 3
    assert len(guard.reserved) == 3
    assert [usage.is_error for _, usage in guard.settled] == [True, True, False]
    assert guard.open_reservations == set()


async def test_retries_stop_at_max_attempts_and_raise(
    openai_server: OpenAIServer, guard: RecordingGuard
) -> None:
    openai_server.script([Reply(status=503), Reply(status=502)])
    model = _factory(openai_server, guard, max_attempts=2).chat_model(
        "test/model", meta=META, max_tokens=16
    )

    with pytest.raises(openai.InternalServerError):
        await model.ainvoke([HumanMessage("hi")])

    assert len(openai_server.requests) == 2
    assert len(guard.settled) == 2
    assert all(usage.is_error for _, usage in guard.settled)


async def test_client_errors_are_not_retried(
    openai_server: OpenAIServer, guard: RecordingGuard
) -> None:
    openai_server.script([Reply(status=400, error_message="bad request")])
    model = _factory(openai_server, guard).chat_model("test/model", meta=META, max_tokens=16)

    with pytest.raises(openai.BadRequestError):
        await model.ainvoke([HumanMessage("hi")])

    assert len(openai_server.requests) == 1
    assert [usage.is_error for _, usage in guard.settled] == [True]


async def test_cancelled_streaming_call_is_still_settled(
    openai_server: OpenAIServer, guard: RecordingGuard
) -> None:
    import threading

    gate = threading.Event()
    openai_server.script([Reply(text="never seen", gate=gate)])
    model = _factory(openai_server, guard).chat_model("test/model", meta=META, max_tokens=16)

    task = asyncio.create_task(model.ainvoke([HumanMessage("hi")]))
    assert await asyncio.to_thread(openai_server.wait_for_requests, 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    gate.set()

    assert len(guard.reserved) == 1
    [(_, usage)] = guard.settled
    assert usage.is_error is True
    assert guard.open_reservations == set()


async def test_consumer_stopping_a_stream_early_still_settles(
    openai_server: OpenAIServer, guard: RecordingGuard
) -> None:
    openai_server.script([Reply(text="one two three four five six")])
    model = _factory(openai_server, guard).chat_model("test/model", meta=META, max_tokens=16)

    stream = model.astream([HumanMessage("hi")])
    async for _ in stream:
        break
    await stream.aclose()

    assert guard.open_reservations == set()
    assert len(guard.settled) == 1


async def test_guard_refusal_sends_zero_requests(openai_server: OpenAIServer) -> None:
    refusing = RecordingGuard(refuse=True)
    model = _factory(openai_server, refusing).chat_model("test/model", meta=META, max_tokens=16)

    with pytest.raises(BudgetExceededError):
        await model.ainvoke([HumanMessage("hi")])

    assert openai_server.requests == []
    assert refusing.settled == []


def test_unknown_model_price_is_refused(guard: RecordingGuard) -> None:
    factory = make_factory(guard=guard)
    with pytest.raises(UnknownModelPriceError):
        factory.chat_model("someone/unpriced-model", meta=META, max_tokens=16)


async def test_analytics_hook_sees_every_attempt(
    openai_server: OpenAIServer, guard: RecordingGuard
) -> None:
    events: list[ModelCallEvent] = []

    class Recorder:
        def model_call(self, event: ModelCallEvent) -> None:
            events.append(event)

    async def no_sleep(_: float) -> None:
        return None

    factory = ModelFactory(
        settings=ModelSettings(base_url=openai_server.base_url, api_key="k"),
        guard=guard,
        catalogue=catalogue,
        analytics=Recorder(),
        sleep=no_sleep,
    )
    openai_server.script(
        [Reply(status=500), Reply(text="fine", prompt_tokens=9, completion_tokens=2, cost=0.25)]
    )

    await factory.chat_model("test/model", meta=META, max_tokens=16).ainvoke(
        [SystemMessage("s"), HumanMessage("hi")]
    )

    assert [e.is_error for e in events] == [True, False]
    ok = events[1]
    assert (ok.model, ok.provider, ok.trace_id, ok.feature, ok.session_id) == (
        "test/model",
        "test",
        "run-7",
        "plan",
        "s-1",
    )
    assert (ok.input_tokens, ok.output_tokens, ok.cost_usd) == (9, 2, Decimal("0.25"))
    assert ok.latency_s >= 0
    assert events[0].error_type is not None


async def test_offline_model_needs_no_key_and_is_guarded(guard: RecordingGuard) -> None:
    factory = ModelFactory(settings=ModelSettings(), guard=guard, catalogue=lambda _: None)

    reply = await factory.chat_model("offline", meta=META, max_tokens=64).ainvoke(
        [HumanMessage("hello")]
    )

    assert reply.response_metadata["offline"] is True
    assert len(guard.reserved) == len(guard.settled) == 1
    assert guard.reserved[0]["model"].offline is True


async def test_the_call_is_reported_before_the_store_settles_it(
    openai_server: OpenAIServer, guard: RecordingGuard
) -> None:
    """A process killed between the two must leave the record, not only the store's settle
    (the soak's worker kill left 8-41 billed calls with no ledger row)."""
    order: list[str] = []

    class Recorder:
        def model_call(self, event: ModelCallEvent) -> None:
            order.append(f"reported {event.cost_usd} pending={event.settle_pending}")

        def settle_pending(self, event: ModelCallEvent) -> None:
            order.append(f"pending {event.reservation_id}")

    class OrderedGuard(RecordingGuard):
        fail = False

        async def settle(self, reservation, usage):
            order.append("settled")
            if self.fail:
                from agents.guard.interface import SettleDeferredError

                raise SettleDeferredError("store down", cost_usd=Decimal("0.25"))
            return await super().settle(reservation, usage)

    watched = OrderedGuard()
    factory = ModelFactory(
        settings=ModelSettings(base_url=openai_server.base_url, api_key="k"),
        guard=watched,
        catalogue=catalogue,
        analytics=Recorder(),
    )
    reply = Reply(text="fine", prompt_tokens=9, completion_tokens=2, cost=0.25)
    openai_server.script([reply, reply])
    model = factory.chat_model("test/model", meta=META, max_tokens=16)

    await model.ainvoke([HumanMessage("hi")])
    assert order == ["reported 0.25 pending=False", "settled"]

    order.clear()
    watched.fail = True
    await model.ainvoke([HumanMessage("hi")])
    # Counted once; its record then keeps the settle the store did not take.
    assert order == ["reported 0.25 pending=False", "settled", "pending r2"]


class FlakyStoreGuard(RecordingGuard):
    """A guard whose budget store cannot be reached for the first ``down`` reserves."""

    def __init__(self, down: int) -> None:
        super().__init__()
        self.down = down
        self.refused = 0

    async def reserve(self, **kwargs: Any):
        if self.refused < self.down:
            self.refused += 1
            raise GuardUnavailableError("store away", details={"store": "redis"})
        return await super().reserve(**kwargs)


async def test_inside_a_run_a_budget_store_outage_is_waited_out() -> None:
    guard = FlakyStoreGuard(down=3)
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    factory = ModelFactory(settings=ModelSettings(), guard=guard, catalogue=lambda _: None)
    model = factory.chat_model("offline", meta=META, max_tokens=64)
    model.sleep = sleep

    reply = await model.ainvoke([HumanMessage("hello")])

    assert reply.content
    assert guard.refused == 3 and len(guard.reserved) == len(guard.settled) == 1
    assert waits == [1.0, 1.0, 1.0]


async def test_a_store_that_stays_away_fails_the_call_after_the_wait() -> None:
    guard = FlakyStoreGuard(down=10_000)
    factory = ModelFactory(settings=ModelSettings(), guard=guard, catalogue=lambda _: None)
    model = factory.chat_model("offline", meta=META, max_tokens=64)
    model.store_outage_wait_s = 0.3
    started = asyncio.get_running_loop().time()

    with pytest.raises(GuardUnavailableError):
        await model.ainvoke([HumanMessage("hello")])

    assert asyncio.get_running_loop().time() - started >= 0.3
    assert guard.refused >= 2 and guard.reserved == [] and guard.settled == []


async def test_outside_a_run_a_store_outage_fails_at_once() -> None:
    guard = FlakyStoreGuard(down=1)
    factory = ModelFactory(settings=ModelSettings(), guard=guard, catalogue=lambda _: None)
    request_meta = CallMeta(client_id="client-1", feature="respond")  # an HTTP request's call
    model = factory.chat_model("offline", meta=request_meta, max_tokens=64)

    with pytest.raises(GuardUnavailableError):
        await model.ainvoke([HumanMessage("hello")])

    assert guard.refused == 1
