"""Plans and credits at call time: the guard asks who the caller is now, charges the plan's
own budget first, then prepaid credits, and tells the ledger what credits paid."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.guard import (
    BudgetExceededError,
    CallerProfile,
    CallMeta,
    CallUsage,
    CostGuard,
    GuardLimits,
    MemoryBudgetStore,
    PlanLimits,
)
from tests.agents.guard.support import PRICED, FakeClock, tokens_for

DAY = "2026-11-21"


def plans(*, free: str = "1", pro: str = "5", credits_day: str | None = "50") -> GuardLimits:
    def plan(daily: str | None, max_call: str | None = "2") -> PlanLimits:
        return PlanLimits(
            client_daily_usd=None if daily is None else Decimal(daily),
            max_call_usd=None if max_call is None else Decimal(max_call),
        )

    return GuardLimits(
        plans={"anonymous": plan("0.5"), "free": plan(free), "pro": plan(pro)},
        global_daily_usd=Decimal("1000"),
        credits_plan=plan(credits_day, max_call="8"),
    )


class Caller:
    """A profile resolver (the backend's account lookup) and a credits ledger."""

    def __init__(self, *, plan: str = "free", credits: str = "0") -> None:
        self.plan, self.credits = plan, Decimal(credits)
        self.lookups: list[CallMeta] = []
        self.draws: list[tuple[str, Decimal, str]] = []

    async def profile(self, meta: CallMeta) -> CallerProfile | None:
        self.lookups.append(meta)
        if meta.client_id != "acct-client":
            return None
        key = "credits:acct" if self.credits > 0 else None
        return CallerProfile(plan=self.plan, credits_key=key, credits_usd=self.credits)

    async def draw(self, meta: CallMeta, key: str, amount: Decimal, reservation_id: str) -> None:
        self.draws.append((key, amount, reservation_id))


def guard_for(caller: Caller, store: MemoryBudgetStore, clock: FakeClock, **kw) -> CostGuard:
    return CostGuard(
        store=store,
        limits=plans(**kw),
        clock=clock,
        profile_resolver=caller.profile,
        credits_hook=caller.draw,
    )


def account(plan: str = "free") -> CallMeta:
    return CallMeta(client_id="acct-client", feature="respond", plan=plan)


async def test_the_plan_is_read_at_call_time_not_from_the_meta(store, clock):
    caller = Caller(plan="pro")
    guard = guard_for(caller, store, clock)
    # The run was queued on the free plan ($1/day); the account is on Pro ($5) now.
    reservation = await guard.reserve(meta=account("free"), model=PRICED, **tokens_for("1.5"))
    assert reservation.meta.plan == "pro"
    assert reservation.buckets == ("global:day:" + DAY, f"client:acct-client:day:{DAY}")


async def test_anonymous_callers_are_not_looked_up(store, clock):
    caller = Caller()
    guard = guard_for(caller, store, clock)
    await guard.reserve(
        meta=CallMeta(client_id="anon", feature="x", plan="anonymous"),
        model=PRICED,
        **tokens_for("0.1"),
    )
    assert caller.lookups == []


async def test_credits_pay_only_once_the_plans_own_budget_is_used_up(store, clock):
    caller = Caller(credits="10")
    guard = guard_for(caller, store, clock)
    own = await guard.reserve(meta=account(), model=PRICED, **tokens_for("0.8"))
    assert "credits:acct" not in own.buckets
    await guard.settle(own, CallUsage(reported_cost_usd=Decimal("0.8")))
    assert caller.draws == []
    # $0.20 of the free day is left: a $0.50 call is paid from credits.
    paid = await guard.reserve(meta=account(), model=PRICED, **tokens_for("0.5"))
    assert paid.buckets[-1] == "credits:acct"
    await guard.settle(paid, CallUsage(reported_cost_usd=Decimal("0.4")))
    assert caller.draws == [("credits:acct", Decimal("0.4"), paid.reservation_id)]
    usage = await store.usage(["credits:acct"])
    assert usage["credits:acct"].spent == 400_000
    # A duplicate settle draws nothing more.
    await guard.settle(paid, CallUsage(reported_cost_usd=Decimal("0.4")))
    assert len(caller.draws) == 1


async def test_credits_raise_the_per_call_cap(store, clock):
    caller = Caller(credits="10")
    guard = guard_for(caller, store, clock)
    # Above the free plan's $2 per call, within the credits plan's $8.
    reservation = await guard.reserve(meta=account(), model=PRICED, **tokens_for("5"))
    assert reservation.buckets[-1] == "credits:acct"
    with pytest.raises(BudgetExceededError) as refused:
        await guard.reserve(meta=account(), model=PRICED, **tokens_for("9"))
    assert refused.value.details["bucket"] == "max_call"


async def test_used_up_credits_are_refused_with_a_credits_message(store, clock):
    caller = Caller(credits="1.5")
    guard = guard_for(caller, store, clock, free="0")
    first = await guard.reserve(meta=account(), model=PRICED, **tokens_for("1"))
    await guard.settle(first, CallUsage(reported_cost_usd=Decimal("1")))
    with pytest.raises(BudgetExceededError) as refused:
        await guard.reserve(meta=account(), model=PRICED, **tokens_for("1"))
    assert refused.value.details["bucket"] == "credits"
    assert "credits" in refused.value.message
    # The entry check agrees, and says how much is left.
    assert await guard.check(meta=account(), model=PRICED, **tokens_for("0.5")) == Decimal("0.5")
    with pytest.raises(BudgetExceededError):
        await guard.check(meta=account(), model=PRICED, **tokens_for("0.6"))


async def test_the_services_global_budget_is_not_paid_around_with_credits(store, clock):
    caller = Caller(credits="100")
    guard = CostGuard(
        store=store,
        limits=GuardLimits(
            plans={
                "anonymous": PlanLimits(client_daily_usd=None),
                "free": PlanLimits(client_daily_usd=Decimal("1")),
            },
            global_daily_usd=Decimal("2"),
            credits_plan=PlanLimits(client_daily_usd=None),
        ),
        clock=clock,
        profile_resolver=caller.profile,
    )
    await guard.reserve(meta=account(), model=PRICED, **tokens_for("1"))
    await guard.reserve(meta=account(), model=PRICED, **tokens_for("1"))  # on credits
    with pytest.raises(BudgetExceededError) as refused:
        await guard.reserve(meta=account(), model=PRICED, **tokens_for("0.5"))
    assert refused.value.details["bucket"] == "global"


@settings(max_examples=30, deadline=None)
@given(
    credits=st.integers(min_value=1, max_value=20),
    calls=st.lists(st.integers(min_value=1, max_value=6), min_size=1, max_size=25),
)
def test_racing_calls_never_draw_more_than_the_credits(credits, calls):
    """However many calls race, the credits bucket never holds more than was credited, and
    what the ledger hears equals what the store counted."""
    clock = FakeClock()
    store = MemoryBudgetStore(clock=clock)
    caller = Caller(credits=str(credits))
    guard = guard_for(caller, store, clock, free="0", credits_day=None)

    async def one(usd: int) -> None:
        try:
            reservation = await guard.reserve(meta=account(), model=PRICED, **tokens_for(str(usd)))
        except BudgetExceededError:
            return
        await asyncio.sleep(0)
        await guard.settle(reservation, CallUsage(reported_cost_usd=Decimal(usd)))

    async def race() -> None:
        await asyncio.gather(*(one(usd) for usd in calls))

    asyncio.run(race())
    spent = asyncio.run(store.usage(["credits:acct"]))["credits:acct"].spent
    assert spent <= credits * 1_000_000
    assert sum(amount for _, amount, _ in caller.draws) * 1_000_000 == spent
