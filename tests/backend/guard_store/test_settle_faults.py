"""A Redis error while settling must not lock the client out until the reservation's TTL.

It did: the failed settle left the reservation live, holding one of the client's
concurrency slots (and its worst case) for GUARD_RESERVATION_TTL_S (600 s); a Redis blip
during a few settles, or a restart with an append-only file, left every slot held, so
the client got 429 for ten minutes. Now a settle is retried, and one that still cannot
reach Redis is kept in the ledger and completed by the periodic job once Redis is back.

The fault is real: the settle script runs against a Redis client pointed at a closed
port, for as many settle calls as the test says.
"""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import redis.asyncio as aioredis
from langchain_core.messages import HumanMessage
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from agents.guard import CallMeta, CostGuard, RateLimitedError
from agents.guard.pricing import micros_to_usd
from agents.models import ModelFactory
from backend.guard.instance import guard_limits
from backend.guard.models import LlmCall
from backend.guard.reconcile import spend_reconcile
from backend.guard_store.redis_store import RedisBudgetStore, _script
from backend.model_calls.factory import load_prices, model_settings
from backend.model_calls.usage import BackendAnalytics
from tests.fakes.openai_server import Reply

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]
MODEL = "test/metered"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SettleOutage:
    """Stands in for the store's settle script: the first ``failures`` calls go to a
    Redis that is not there (ConnectionError), the rest to the real one."""

    def __init__(self, store: RedisBudgetStore, down: aioredis.Redis, failures: int) -> None:
        self.real = store._settle_script
        self.broken = down.register_script(_script("settle.lua"))
        self.left = failures

    async def __call__(self, **kwargs):
        if self.left > 0:
            self.left -= 1
            return await self.broken(**kwargs)
        return await self.real(**kwargs)


@pytest.fixture
def metered(env, openai_server):
    env(
        OPENROUTER_API_KEY="sk-test",
        OPENROUTER_BASE_URL=openai_server.base_url,
        DECLARED_MODELS=[{"id": MODEL, "input_per_million": "10", "output_per_million": "20"}],
        GUARD_ANON_CLIENT_DAILY_USD="5",
        GUARD_ANON_SESSION_USD="5",
        GUARD_IP_DAILY_USD="5",
        GUARD_ANON_MAX_CALL_USD="1",
        GUARD_MAX_CONCURRENT_CALLS=1,
    )
    openai_server.script(lambda body: Reply(text="ok", cost=0.002))
    return openai_server


async def make_model(client_id: str, *, failures: int):
    from django.conf import settings

    good = aioredis.Redis.from_url(settings.REDIS_URL)
    down = aioredis.Redis(
        host="127.0.0.1",
        port=closed_port(),
        socket_connect_timeout=0.2,
        retry=Retry(NoBackoff(), 0),
    )
    store = RedisBudgetStore(redis=good)  # the backend's own key prefix and Redis
    outage = SettleOutage(store, down, failures)
    store._settle_script = outage  # type: ignore[assignment]

    async def no_sleep(_: float) -> None:
        return None

    guard = CostGuard(store=store, limits=guard_limits(), sleep=no_sleep)
    prices = await asyncio.to_thread(load_prices, [MODEL])
    factory = ModelFactory(
        settings=model_settings(),
        guard=guard,
        catalogue=prices.get,
        analytics=BackendAnalytics(prices=prices),
    )
    meta = CallMeta(client_id=client_id, feature="respond")
    return factory.chat_model(MODEL, meta=meta, max_tokens=100), store, outage, (good, down)


async def client_usage(store: RedisBudgetStore, client_id: str):
    key = f"client:{client_id}:day:{datetime.now(UTC).date().isoformat()}"
    return (await store.usage([key]))[key]


async def test_a_settle_that_fails_once_is_retried_and_frees_the_slot(anon_client, metered):
    model, store, outage, clients = await make_model(anon_client.client_id, failures=1)
    try:
        await model.ainvoke([HumanMessage("hi")])
        assert outage.left == 0  # the first settle did meet the dead Redis

        # The slot is free: the client's next call is admitted (1 in flight allowed).
        await model.ainvoke([HumanMessage("again")])
        usage = await client_usage(store, anon_client.client_id)
        assert (usage.spent, usage.held) == (4_000, 0)
        assert not await asyncio.to_thread(
            lambda: LlmCall.objects.filter(settle_pending=True).exists()
        )
    finally:
        for client in clients:
            await client.aclose()


async def test_a_settle_that_cannot_reach_redis_is_completed_by_the_job(anon_client, metered):
    model, store, outage, clients = await make_model(anon_client.client_id, failures=100)
    try:
        reply = await model.ainvoke([HumanMessage("hi")])
        assert reply.content == "ok"  # the caller got its answer; the cost waits
        [row] = await asyncio.to_thread(lambda: list(LlmCall.objects.all()))
        assert (row.settle_pending, row.cost_usd) == (True, Decimal("0.002"))
        assert row.settlement["reservation_id"] == row.reservation_id

        # Until Redis is back the reservation holds the client's slot...
        with pytest.raises(RateLimitedError):
            await model.ainvoke([HumanMessage("again")])
        # ...then the periodic job settles it, and the client is not locked out.
        outage.left = 0
        counts = await asyncio.to_thread(spend_reconcile)
        assert counts["settled"] == 1
        await row.arefresh_from_db()
        assert row.settle_pending is False
        usage = await client_usage(store, anon_client.client_id)
        assert (micros_to_usd(usage.spent), usage.held) == (Decimal("0.002"), 0)
        await model.ainvoke([HumanMessage("again")])
    finally:
        for client in clients:
            await client.aclose()
