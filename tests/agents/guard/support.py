"""Builders shared by the guard tests (memory and Redis stores)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from agents.guard import (
    CallMeta,
    CallUsage,
    CostGuard,
    GuardLimits,
    ModelPrice,
    PlanLimits,
    Reservation,
)

# 2026-11-21T12:00:00Z: mid-day, so a test can move within or across the day.
NOON = 1_795_262_400.0
MIDNIGHT_NEXT = 1_795_305_600.0

# $1 per 1,000 input tokens, $2 per 1,000 output tokens: easy mental arithmetic.
PRICED = ModelPrice(
    model_id="test/priced",
    input_per_token=Decimal("0.001"),
    output_per_token=Decimal("0.002"),
)
OFFLINE = ModelPrice(
    model_id="offline",
    input_per_token=Decimal(0),
    output_per_token=Decimal(0),
    offline=True,
)


@dataclass
class FakeClock:
    now: float = NOON

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class HookRecorder:
    calls: list[tuple[str, float, CallMeta]] = field(default_factory=list)

    def __call__(self, bucket: str, used_fraction: float, meta: CallMeta) -> None:
        self.calls.append((bucket, used_fraction, meta))

    @property
    def buckets(self) -> list[str]:
        return [bucket for bucket, _, _ in self.calls]


def limits(
    *,
    client: str | None = "10",
    ip: str | None = None,
    api_key: str | None = None,
    session: str | None = None,
    global_: str | None = "1000",
    max_call: str | None = None,
    max_concurrent: int | None = None,
    allowed: frozenset[str] | None = None,
    rpm: int | None = None,
    ttl_s: float = 600.0,
) -> GuardLimits:
    def usd(value: str | None) -> Decimal | None:
        return None if value is None else Decimal(value)

    plan = PlanLimits(
        client_daily_usd=usd(client),
        ip_daily_usd=usd(ip),
        api_key_daily_usd=usd(api_key),
        session_usd=usd(session),
        max_call_usd=usd(max_call),
        max_concurrent=max_concurrent,
        allowed_models=allowed,
        requests_per_minute=rpm,
    )
    return GuardLimits(
        plans={"anonymous": plan, "pro": plan},
        global_daily_usd=usd(global_),
        reservation_ttl_s=ttl_s,
    )


def meta(client_id: str = "client-1", **kwargs: str) -> CallMeta:
    return CallMeta(client_id=client_id, feature="respond", **kwargs)


def tokens_for(usd: str) -> dict[str, int]:
    """reserve() kwargs whose worst case is exactly ``usd`` on PRICED (input only)."""
    return {"prompt_tokens_upper_bound": int(Decimal(usd) * 1000), "max_tokens": 0}


class HolderDied(BaseException):
    """The holder's process ends here (a SIGKILL): nothing after this point runs."""


class DyingGuard(CostGuard):
    """The guard of a worker killed as its call ends: the call runs and notes its
    generation id, but its settle never reaches the store and nothing is reported."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.noted = asyncio.Event()
        self.reservations: list[Reservation] = []

    async def note_generation(self, reservation: Reservation, generation_id: str) -> None:
        await super().note_generation(reservation, generation_id)
        self.reservations.append(reservation)
        self.noted.set()

    async def settle(self, reservation: Reservation, usage: CallUsage) -> Decimal:
        raise HolderDied


async def call_and_die(
    *, guard: DyingGuard, base_url: str, price: ModelPrice, meta: CallMeta, reply: Any
) -> Reservation:
    """Stream one call through the real factory and ChatOpenAI to the scripted server until
    the server pauses it (``reply.pause_before_chunk``) and the generation id is noted;
    then the holder dies. Returns the reservation it left behind."""
    from langchain_core.messages import HumanMessage

    from agents.models import ModelFactory, ModelSettings

    factory = ModelFactory(
        settings=ModelSettings(base_url=base_url, api_key="sk-test"),
        guard=guard,
        catalogue={price.model_id: price}.get,
    )
    model = factory.chat_model(price.model_id, meta=meta, max_tokens=1000)

    async def read() -> None:
        async for _ in model.astream([HumanMessage("how long should an espresso shot take?")]):
            pass

    task = asyncio.create_task(read())
    paused = asyncio.ensure_future(asyncio.to_thread(reply.paused.wait, 10))
    try:
        await asyncio.wait({task, paused}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            task.result()  # a refusal or an error, raised here
            raise AssertionError("the call ended before the server paused it")
        assert await paused
        await asyncio.wait_for(guard.noted.wait(), 10)
    finally:
        task.cancel()
    try:
        await task
    except HolderDied:
        pass
    else:
        raise AssertionError("the holder settled")
    [reservation] = guard.reservations
    return reservation
