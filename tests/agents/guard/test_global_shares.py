"""Each plan's share of the global daily budget: one plan's callers together cannot spend
more than their share, so visitors or free sign-ups cannot use up the day for paying users."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.guard import BudgetExceededError, CallUsage, CostGuard, GuardLimits, PlanLimits
from agents.guard.limits import CREDITS_SHARE
from agents.guard.memory_store import MemoryBudgetStore
from agents.guard.pricing import usd_to_micros
from tests.agents.guard.support import NOON, PRICED, FakeClock, meta, tokens_for

DAY = "2026-11-21"
UNLIMITED = PlanLimits(client_daily_usd=None)
SHARES = {"anonymous": Decimal("0.3"), "free": Decimal("0.3"), "pro": Decimal("1")}


def shared_limits(global_usd: str = "1", shares=None) -> GuardLimits:
    return GuardLimits(
        plans={"anonymous": UNLIMITED, "free": UNLIMITED, "pro": UNLIMITED},
        global_daily_usd=Decimal(global_usd),
        global_shares=SHARES if shares is None else shares,
    )


def make_guard(limits: GuardLimits) -> tuple[CostGuard, MemoryBudgetStore]:
    store = MemoryBudgetStore(clock=FakeClock())
    return CostGuard(store=store, limits=limits, clock=FakeClock(NOON)), store


async def spend(guard: CostGuard, *, client: str, plan: str, usd: str) -> None:
    reservation = await guard.reserve(meta=meta(client, plan=plan), model=PRICED, **tokens_for(usd))
    await guard.settle(reservation, CallUsage(reported_cost_usd=Decimal(usd)))


async def test_a_plans_callers_stop_at_its_share_and_others_go_on():
    guard, _ = make_guard(shared_limits())
    for index in range(3):  # many visitors, $0.10 each: the anonymous share is $0.30
        await spend(guard, client=f"visitor-{index}", plan="anonymous", usd="0.10")
    with pytest.raises(BudgetExceededError) as refused:
        await spend(guard, client="visitor-new", plan="anonymous", usd="0.10")
    details = refused.value.details
    assert details["bucket"] == "global_plan"
    assert (details["plan"], details["limit_usd"], details["window"]) == (
        "anonymous",
        "0.300000",
        DAY,
    )
    assert "anonymous plan's share" in refused.value.message
    # Paying users still have the rest of the day.
    await spend(guard, client="subscriber", plan="pro", usd="0.50")


async def test_the_share_bucket_is_one_more_bucket_per_call():
    guard, _ = make_guard(shared_limits())
    reservation = await guard.reserve(
        meta=meta("c1", plan="free"), model=PRICED, **tokens_for("0.01")
    )
    assert reservation.buckets == (
        f"global:day:{DAY}",
        f"global:free:day:{DAY}",
        f"client:c1:day:{DAY}",
    )


async def test_an_unknown_plan_draws_on_the_default_plans_share():
    guard, _ = make_guard(shared_limits())
    await spend(guard, client="a", plan="anonymous", usd="0.25")
    with pytest.raises(BudgetExceededError) as refused:
        await spend(guard, client="b", plan="made-up", usd="0.10")
    assert refused.value.details["bucket"] == "global_plan"


async def test_no_shares_configured_means_no_share_buckets():
    guard, _ = make_guard(shared_limits(shares={}))
    reservation = await guard.reserve(meta=meta("c1"), model=PRICED, **tokens_for("0.01"))
    assert reservation.buckets == (f"global:day:{DAY}", f"client:c1:day:{DAY}")


async def test_credits_draw_on_their_own_share_not_the_plans():
    from agents.guard import CallerProfile

    async def profile(_meta):
        return CallerProfile(plan="free", credits_key="credits:acct", credits_usd=Decimal(5))

    limits = GuardLimits(
        plans={"anonymous": UNLIMITED, "free": PlanLimits(client_daily_usd=Decimal("0.05"))},
        global_daily_usd=Decimal("1"),
        global_shares={**SHARES, CREDITS_SHARE: Decimal("1")},
        credits_plan=UNLIMITED,
    )
    store = MemoryBudgetStore(clock=FakeClock())
    guard = CostGuard(store=store, limits=limits, clock=FakeClock(NOON), profile_resolver=profile)
    await spend(guard, client="other-free", plan="free", usd="0.05")  # a free user's day
    # The free share ($0.30) is used up by many free sign-ups...
    for index in range(5):
        await spend(guard, client=f"free-{index}", plan="free", usd="0.05")
    # ...but a free account paying from its credits is not held to it.
    reservation = await guard.reserve(
        meta=meta("payer", plan="free"), model=PRICED, **tokens_for("0.20")
    )
    assert f"global:{CREDITS_SHARE}:day:{DAY}" in reservation.buckets
    assert "credits:acct" in reservation.buckets


@settings(max_examples=80, deadline=None)
@given(
    calls=st.lists(
        st.tuples(
            st.sampled_from(["anonymous", "free", "pro"]),
            st.integers(min_value=1, max_value=400),  # thousandths of a dollar
        ),
        min_size=1,
        max_size=40,
    )
)
def test_no_plan_ever_spends_beyond_its_share(calls):
    """Whatever the order and size of calls: each plan's total ≤ share × global, the total
    ≤ global, and a call is refused only when it would overrun one of those."""
    limits = shared_limits()
    guard, store = make_guard(limits)
    spent = {"anonymous": 0, "free": 0, "pro": 0}
    global_limit = usd_to_micros(Decimal("1"))

    async def run() -> None:
        for index, (plan, thousandths) in enumerate(calls):
            usd = str(Decimal(thousandths) / 1000)
            amount = usd_to_micros(Decimal(usd))
            share_limit = usd_to_micros(Decimal("1") * SHARES[plan])
            fits = (
                spent[plan] + amount <= share_limit and sum(spent.values()) + amount <= global_limit
            )
            try:
                await spend(guard, client=f"c{index}", plan=plan, usd=usd)
            except BudgetExceededError:
                assert not fits
            else:
                assert fits
                spent[plan] += amount
        usage = await store.usage(
            [f"global:day:{DAY}", *(f"global:{plan}:day:{DAY}" for plan in SHARES)]
        )
        assert usage[f"global:day:{DAY}"].spent == sum(spent.values()) <= global_limit
        for plan, share in SHARES.items():
            counted = usage[f"global:{plan}:day:{DAY}"].spent
            assert counted == spent[plan] <= usd_to_micros(Decimal("1") * share)

    asyncio.run(run())
