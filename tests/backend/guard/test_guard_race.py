"""200 guarded model calls race for a budget that fits 50, through the real factory,
ChatOpenAI and the local OpenAI-compatible server, on the production store (Redis when
configured, the in-process store otherwise)."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from langchain_core.messages import HumanMessage

from agents.guard import BudgetExceededError, CallMeta
from agents.guard.pricing import micros_to_usd, worst_case_micros
from agents.models import prompt_tokens_upper_bound
from backend.guard.instance import get_store
from backend.model_calls.factory import load_prices, model_factory
from tests.fakes.openai_server import Reply

pytestmark = pytest.mark.django_db(transaction=True)
MODEL = "test/priced"
CALLS, FITS, MAX_TOKENS = 200, 50, 100


@pytest.fixture
def unlimited_but_global(env, openai_server):
    env(
        OPENROUTER_API_KEY="sk-test",
        OPENROUTER_BASE_URL=openai_server.base_url,
        DECLARED_MODELS=[{"id": MODEL, "input_per_million": "1", "output_per_million": "2"}],
        GUARD_ANON_CLIENT_DAILY_USD="",
        GUARD_ANON_SESSION_USD="",
        GUARD_IP_DAILY_USD="",
        GUARD_ANON_MAX_CALL_USD="",
        GUARD_MAX_CONCURRENT_CALLS=1000,
        GUARD_REQUESTS_PER_MINUTE=100000,
    )
    return openai_server


async def test_exactly_the_calls_that_fit_are_admitted(unlimited_but_global, env):
    server = unlimited_but_global
    prices = await asyncio.to_thread(load_prices, [MODEL])
    prompt = [HumanMessage("hello")]
    worst = worst_case_micros(
        model=prices[MODEL],
        prompt_tokens_upper_bound=prompt_tokens_upper_bound(messages=prompt),
        max_tokens=MAX_TOKENS,
    )
    # Room for exactly FITS worst cases (and not one more).
    budget = micros_to_usd(worst * FITS + worst // 2)
    # The anonymous plan's share of the global budget would stop them first: all of it.
    env(GUARD_GLOBAL_DAILY_USD=str(budget), GUARD_GLOBAL_SHARE_ANONYMOUS="1")
    gate = threading.Event()
    actual_cost = Decimal("0.000010")
    server.script(lambda body: Reply(text="ok", cost=float(actual_cost), gate=gate))
    factory = model_factory(prices=await asyncio.to_thread(load_prices, [MODEL]))

    async def call(index: int) -> str:
        meta = CallMeta(client_id=f"c{index}", feature="race")
        model = factory.chat_model(MODEL, meta=meta, max_tokens=MAX_TOKENS)
        try:
            await model.ainvoke(prompt)
        except BudgetExceededError:
            return "refused"
        return "admitted"

    tasks = [asyncio.ensure_future(call(i)) for i in range(CALLS)]
    # The server holds every admitted call until all 200 have tried to reserve.
    await asyncio.to_thread(server.wait_for_requests, FITS, timeout_s=30)
    for _ in range(100):
        if sum(t.done() for t in tasks) >= CALLS - FITS:
            break
        await asyncio.sleep(0.05)
    day_key = f"global:day:{datetime.now(UTC).date().isoformat()}"
    store = get_store()
    held = (await store.usage([day_key]))[day_key]
    assert held.used <= held.limit
    assert held.held == worst * FITS
    assert len(server.requests) == FITS
    gate.set()
    outcomes = await asyncio.gather(*tasks)
    assert outcomes.count("admitted") == FITS
    assert outcomes.count("refused") == CALLS - FITS
    settled = (await store.usage([day_key]))[day_key]
    assert settled.held == 0
    assert micros_to_usd(settled.spent) == actual_cost * FITS
    assert await store.active_reservations() == []
