"""CostGuard over the in-process store: buckets, caps, refusals, settle, expiry."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agents.guard import (
    BudgetExceededError,
    CallUsage,
    CostGuard,
    MemoryBudgetStore,
    RateLimitedError,
)
from agents.guard.limits import GuardLimits
from agents.guard.settlement import unsettled_record
from tests.agents.guard.support import (
    MIDNIGHT_NEXT,
    OFFLINE,
    PRICED,
    FakeClock,
    HookRecorder,
    limits,
    meta,
    tokens_for,
)


def make_guard(
    store: MemoryBudgetStore, clock: FakeClock, guard_limits: GuardLimits, **kwargs: object
) -> CostGuard:
    return CostGuard(store=store, limits=guard_limits, clock=clock, **kwargs)  # type: ignore[arg-type]


async def test_reservation_holds_the_worst_case_in_every_applicable_bucket(store, clock):
    guard = make_guard(store, clock, limits(ip="5", api_key="5", session="5"))
    who = meta(ip_hash="iph", api_key_id="key1", session_id="s1")

    reservation = await guard.reserve(
        meta=who, model=PRICED, prompt_tokens_upper_bound=1000, max_tokens=500
    )

    assert reservation.amount_usd == Decimal("2")  # 1000 x 0.001 + 500 x 0.002
    assert reservation.buckets == (
        "global:day:2026-11-21",
        "client:client-1:day:2026-11-21",
        "ip:iph:day:2026-11-21",
        "api_key:key1:day:2026-11-21",
        "session:s1",
    )
    usage = await store.usage(reservation.buckets)
    assert {u.held for u in usage.values()} == {2_000_000}
    assert {u.spent for u in usage.values()} == {0}


async def test_optional_buckets_only_apply_when_the_meta_names_them(store, clock):
    guard = make_guard(store, clock, limits(ip="5", session="5"))
    reservation = await guard.reserve(meta=meta(), model=PRICED, **tokens_for("1"))
    assert reservation.buckets == ("global:day:2026-11-21", "client:client-1:day:2026-11-21")


async def test_refusal_is_all_or_nothing(store, clock):
    guard = make_guard(store, clock, limits(client="10", session="1"))
    who = meta(session_id="s1")

    with pytest.raises(BudgetExceededError) as refused:
        await guard.reserve(meta=who, model=PRICED, **tokens_for("1.5"))

    assert refused.value.details["bucket"] == "session"
    usage = await store.usage(["global:day:2026-11-21", "client:client-1:day:2026-11-21"])
    assert all(u.used == 0 for u in usage.values())
    assert await store.active_reservations() == []


async def test_refusal_names_the_limit_and_how_to_raise_it(store, clock):
    guard = make_guard(store, clock, limits(client="3"))
    await guard.reserve(meta=meta(), model=PRICED, **tokens_for("2"))

    with pytest.raises(BudgetExceededError) as refused:
        await guard.reserve(meta=meta(), model=PRICED, **tokens_for("2"))

    error = refused.value
    assert error.http_status == 402
    assert "daily AI budget" in error.message
    assert "use an API key or upgrade your plan" in error.message
    assert error.details == {
        "bucket": "client",
        "plan": "anonymous",
        "limit_usd": "3.000000",
        "remaining_usd": "1.000000",
        "window": "2026-11-21",
    }


async def test_settle_records_the_real_cost_and_releases_the_rest(store, clock):
    guard = make_guard(store, clock, limits(client="10"))
    reservation = await guard.reserve(meta=meta(), model=PRICED, **tokens_for("4"))

    cost = await guard.settle(reservation, CallUsage(input_tokens=1000, output_tokens=250))

    assert cost == Decimal("1.5")
    usage = (await store.usage([reservation.buckets[1]]))[reservation.buckets[1]]
    assert (usage.spent, usage.held) == (1_500_000, 0)
    assert await store.active_reservations() == []


async def test_settle_prefers_the_provider_reported_cost(store, clock):
    guard = make_guard(store, clock, limits())
    reservation = await guard.reserve(meta=meta(), model=PRICED, **tokens_for("4"))
    cost = await guard.settle(
        reservation,
        CallUsage(input_tokens=1000, output_tokens=250, reported_cost_usd=Decimal("0.0123")),
    )
    assert cost == Decimal("0.0123")


async def test_settling_twice_changes_nothing(store, clock):
    guard = make_guard(store, clock, limits())
    reservation = await guard.reserve(meta=meta(), model=PRICED, **tokens_for("4"))
    await guard.settle(reservation, CallUsage(input_tokens=1000))
    await guard.settle(reservation, CallUsage(input_tokens=1000))
    usage = (await store.usage([reservation.buckets[1]]))[reservation.buckets[1]]
    assert (usage.spent, usage.held) == (1_000_000, 0)


async def test_overage_is_recorded_and_blocks_the_bucket_until_the_next_day(store, clock):
    guard = make_guard(store, clock, limits(client="5"))
    reservation = await guard.reserve(meta=meta(), model=PRICED, **tokens_for("1"))

    # The provider billed more than the worst case we were told (a bad token bound).
    await guard.settle(reservation, CallUsage(reported_cost_usd=Decimal("6")))

    usage = (await store.usage([reservation.buckets[1]]))[reservation.buckets[1]]
    assert usage.spent == 6_000_000 > usage.limit  # type: ignore[operator]
    with pytest.raises(BudgetExceededError) as refused:
        await guard.reserve(meta=meta(), model=PRICED, **tokens_for("0.001"))
    assert refused.value.details["remaining_usd"] == "0.000000"

    clock.now = MIDNIGHT_NEXT
    next_day = await guard.reserve(meta=meta(), model=PRICED, **tokens_for("1"))
    assert next_day.buckets[1] == "client:client-1:day:2026-11-22"


async def test_daily_windows_roll_over_at_utc_midnight_and_keep_yesterday(store, clock):
    guard = make_guard(store, clock, limits(client="2"))
    first = await guard.reserve(meta=meta(), model=PRICED, **tokens_for("2"))
    await guard.settle(first, CallUsage(input_tokens=2000))
    with pytest.raises(BudgetExceededError):
        await guard.reserve(meta=meta(), model=PRICED, **tokens_for("1"))

    clock.now = MIDNIGHT_NEXT - 0.001
    with pytest.raises(BudgetExceededError):
        await guard.reserve(meta=meta(), model=PRICED, **tokens_for("1"))
    clock.now = MIDNIGHT_NEXT
    await guard.reserve(meta=meta(), model=PRICED, **tokens_for("2"))

    archived = await store.snapshot_day("2026-11-21")
    assert archived["client:client-1:day:2026-11-21"].spent == 2_000_000
    assert archived["global:day:2026-11-21"].spent == 2_000_000
    assert set(await store.snapshot_day("2026-11-22")) == {
        "client:client-1:day:2026-11-22",
        "global:day:2026-11-22",
    }


async def test_a_settle_after_midnight_charges_the_day_it_was_reserved(store, clock):
    guard = make_guard(store, clock, limits(client="5"))
    clock.now = MIDNIGHT_NEXT - 1
    reservation = await guard.reserve(meta=meta(), model=PRICED, **tokens_for("1"))
    clock.now = MIDNIGHT_NEXT + 1
    await guard.settle(reservation, CallUsage(input_tokens=1000))
    assert (await store.snapshot_day("2026-11-21"))["client:client-1:day:2026-11-21"].spent == (
        1_000_000
    )
    assert await store.snapshot_day("2026-11-22") == {}


async def test_soft_limit_hook_fires_once_per_bucket_per_window(store, clock):
    hook = HookRecorder()
    guard = make_guard(store, clock, limits(client="10"), soft_limit_hook=hook)

    for _ in range(7):
        reservation = await guard.reserve(meta=meta(), model=PRICED, **tokens_for("1"))
        await guard.settle(reservation, CallUsage(input_tokens=1000))
    assert hook.calls == []

    reservation = await guard.reserve(meta=meta(), model=PRICED, **tokens_for("1"))  # 8/10
    assert hook.buckets == ["client"]
    assert hook.calls[0][1] == pytest.approx(0.8)
    await guard.settle(reservation, CallUsage(input_tokens=1000))
    await guard.reserve(meta=meta(), model=PRICED, **tokens_for("1"))
    assert hook.buckets == ["client"]

    clock.now = MIDNIGHT_NEXT
    for _ in range(8):
        await guard.reserve(meta=meta(), model=PRICED, **tokens_for("1"))
    assert hook.buckets == ["client", "client"]


async def test_soft_limit_hook_may_be_async_and_its_failure_never_fails_the_call(store, clock):
    seen: list[str] = []

    async def hook(bucket, fraction, who):
        seen.append(bucket)
        raise RuntimeError("posthog down")

    guard = make_guard(store, clock, limits(client="1"), soft_limit_hook=hook)
    reservation = await guard.reserve(meta=meta(), model=PRICED, **tokens_for("0.9"))
    assert seen == ["client"]
    assert reservation.amount_usd == Decimal("0.9")


async def test_a_callers_own_soft_limit_hook_hears_its_calls_and_the_guards_hook_still_does(
    store, clock
):
    process_hook, run_hook, other_run_hook = HookRecorder(), HookRecorder(), HookRecorder()
    guard = make_guard(store, clock, limits(client="10"), soft_limit_hook=process_hook)
    run_guard = guard.with_soft_limit_hook(run_hook)
    guard.with_soft_limit_hook(other_run_hook)  # another run's view, whose calls cross nothing

    for _ in range(7):
        await run_guard.reserve(meta=meta(), model=PRICED, **tokens_for("1"))
    assert (process_hook.calls, run_hook.calls) == ([], [])
    await run_guard.reserve(meta=meta(), model=PRICED, **tokens_for("1"))  # 8/10
    assert process_hook.buckets == run_hook.buckets == ["client"]
    assert other_run_hook.calls == []
    # The view shares the store: a call through the guard itself counts for it too.
    await guard.reserve(meta=meta(), model=PRICED, **tokens_for("1"))
    assert run_hook.buckets == ["client"]


async def test_soft_limit_can_be_crossed_by_a_settle(store, clock):
    hook = HookRecorder()
    guard = make_guard(store, clock, limits(client="10"), soft_limit_hook=hook)
    reservation = await guard.reserve(meta=meta(), model=PRICED, **tokens_for("1"))
    await guard.settle(reservation, CallUsage(reported_cost_usd=Decimal("9")))
    assert hook.buckets == ["client"]
    assert hook.calls[0][1] == pytest.approx(0.9)


async def test_model_outside_the_plan_allowlist_is_refused(store, clock):
    guard = make_guard(store, clock, limits(allowed=frozenset({"test/cheap"})))
    with pytest.raises(BudgetExceededError) as refused:
        await guard.reserve(meta=meta(), model=PRICED, **tokens_for("0.01"))
    assert refused.value.details == {"bucket": "model", "plan": "anonymous", "model": "test/priced"}
    assert "upgrade your plan" in refused.value.message
    # The offline model is always allowed: it is the free fallback.
    await guard.reserve(meta=meta(), model=OFFLINE, prompt_tokens_upper_bound=10, max_tokens=10)


async def test_one_call_above_the_plan_cap_is_refused_before_touching_budgets(store, clock):
    guard = make_guard(store, clock, limits(max_call="0.5"))
    await guard.reserve(meta=meta(), model=PRICED, **tokens_for("0.5"))
    with pytest.raises(BudgetExceededError) as refused:
        await guard.reserve(meta=meta(), model=PRICED, **tokens_for("0.501"))
    assert refused.value.details["bucket"] == "max_call"
    assert refused.value.details["worst_case_usd"] == "0.501000"
    assert len(await store.active_reservations()) == 1


async def test_unknown_plan_gets_the_default_plans_limits(store, clock):
    guard = make_guard(
        store,
        clock,
        GuardLimits(
            plans={"anonymous": limits(client="1").plans["anonymous"]},
            global_daily_usd=None,
        ),
    )
    with pytest.raises(BudgetExceededError):
        await guard.reserve(meta=meta(plan="mystery"), model=PRICED, **tokens_for("2"))


async def test_concurrency_limit_counts_unsettled_reservations(store, clock):
    guard = make_guard(store, clock, limits(max_concurrent=2))
    first = await guard.reserve(meta=meta(), model=PRICED, **tokens_for("0.1"))
    await guard.reserve(meta=meta(), model=OFFLINE, prompt_tokens_upper_bound=1, max_tokens=1)

    with pytest.raises(RateLimitedError) as refused:
        await guard.reserve(meta=meta(), model=PRICED, **tokens_for("0.1"))
    assert refused.value.http_status == 429
    assert refused.value.retry_after_s > 0
    assert refused.value.details["bucket"] == "concurrency"

    # Another client has its own slots; settling frees one of ours.
    await guard.reserve(meta=meta("client-2"), model=PRICED, **tokens_for("0.1"))
    await guard.settle(first, CallUsage())
    await guard.reserve(meta=meta(), model=PRICED, **tokens_for("0.1"))


async def test_an_expired_reservation_frees_its_slot_and_counts_its_worst_case(store, clock):
    guard = make_guard(store, clock, limits(client="2", max_concurrent=1, ttl_s=30))
    abandoned = await guard.reserve(meta=meta(), model=PRICED, **tokens_for("1"))
    with pytest.raises(RateLimitedError):
        await guard.reserve(meta=meta(), model=PRICED, **tokens_for("1"))

    clock.advance(29.9)
    assert len(await store.active_reservations()) == 1
    clock.advance(0.1)
    assert await store.active_reservations() == []
    # Its holder is gone and the provider may still bill: the hold becomes spend.
    usage = (await store.usage([abandoned.buckets[1]]))[abandoned.buckets[1]]
    assert (usage.spent, usage.held) == (1_000_000, 0)
    [expired] = await store.drain_expired()
    assert (expired.reservation_id, expired.amount) == (abandoned.reservation_id, 1_000_000)
    assert await store.drain_expired() == []

    # The slot is free again; the holder comes back late: only the difference to the
    # expiry's charge is recorded, and its hold is not released twice.
    again = await guard.reserve(meta=meta(), model=PRICED, **tokens_for("0.5"))
    await guard.settle(abandoned, CallUsage(input_tokens=200))
    usage = (await store.usage([abandoned.buckets[1]]))[abandoned.buckets[1]]
    assert (usage.spent, usage.held) == (200_000, 500_000)
    await guard.settle(again, CallUsage(input_tokens=100))
    usage = (await store.usage([abandoned.buckets[1]]))[abandoned.buckets[1]]
    assert (usage.spent, usage.held) == (300_000, 0)


async def test_an_expired_reservation_keeps_its_generation_id_and_is_corrected_to_its_bill(
    store, clock
):
    guard = make_guard(store, clock, limits(client="2", ttl_s=30))
    abandoned = await guard.reserve(meta=meta(), model=PRICED, **tokens_for("1"))
    await guard.note_generation(abandoned, "gen-abandoned")
    clock.advance(30)  # its holder died after the provider named the generation

    [expired] = await store.drain_expired()
    assert (expired.reservation_id, expired.generation_id) == (
        abandoned.reservation_id,
        "gen-abandoned",
    )
    # Billed $0.25: the correction moves every bucket it was charged from $1 to $0.25...
    record = unsettled_record(reservation_id=expired.reservation_id, amount_micros=expired.amount)
    assert await guard.correct(record=record, delta_micros=-750_000, meta=meta()) == "late"
    usage = await store.usage(abandoned.buckets)
    assert {(u.spent, u.held) for u in usage.values()} == {(250_000, 0)}
    # ...once, and the holder's own settle, should it still come, changes nothing after it.
    assert await guard.correct(record=record, delta_micros=-750_000, meta=meta()) == "duplicate"
    await guard.settle(abandoned, CallUsage(input_tokens=900))
    usage = await store.usage(abandoned.buckets)
    assert {(u.spent, u.held) for u in usage.values()} == {(250_000, 0)}


async def test_a_generation_noted_after_the_settle_changes_nothing(store, clock):
    guard = make_guard(store, clock, limits(client="2", ttl_s=30))
    reservation = await guard.reserve(meta=meta(), model=PRICED, **tokens_for("1"))
    await guard.settle(reservation, CallUsage(input_tokens=100))
    await guard.note_generation(reservation, "gen-late")
    clock.advance(30)
    assert await store.drain_expired() == []
    assert await store.active_reservations() == []


async def test_offline_calls_cost_nothing_but_still_count_for_rate_and_concurrency(store, clock):
    guard = make_guard(store, clock, limits(client="1", rpm=2, max_concurrent=5))
    spent = await guard.reserve(meta=meta(), model=PRICED, **tokens_for("1"))
    await guard.settle(spent, CallUsage(input_tokens=1000))  # budget now exhausted

    offline = await guard.reserve(
        meta=meta(), model=OFFLINE, prompt_tokens_upper_bound=10_000, max_tokens=10_000
    )
    assert offline.amount_usd == 0
    assert await guard.settle(offline, CallUsage(input_tokens=10, output_tokens=10)) == 0
    with pytest.raises(RateLimitedError) as refused:
        await guard.reserve(meta=meta(), model=OFFLINE, prompt_tokens_upper_bound=1, max_tokens=1)
    assert refused.value.details["bucket"] == "rate"


async def test_model_calls_per_minute_refill_over_time(store, clock):
    guard = make_guard(store, clock, limits(rpm=3))
    for _ in range(3):
        await guard.reserve(meta=meta(), model=OFFLINE, prompt_tokens_upper_bound=1, max_tokens=1)
    with pytest.raises(RateLimitedError) as refused:
        await guard.reserve(meta=meta(), model=OFFLINE, prompt_tokens_upper_bound=1, max_tokens=1)
    assert refused.value.retry_after_s == pytest.approx(20.0)
    clock.advance(20)
    await guard.reserve(meta=meta(), model=OFFLINE, prompt_tokens_upper_bound=1, max_tokens=1)


async def test_hit_rate_limit_answers_429_with_retry_after(store, clock):
    guard = make_guard(store, clock, limits())
    for _ in range(5):
        await guard.hit_rate_limit(key="ip:abc", limit_per_minute=5)
    with pytest.raises(RateLimitedError) as refused:
        await guard.hit_rate_limit(key="ip:abc", limit_per_minute=5)
    assert refused.value.retry_after_s == pytest.approx(12.0)
    await guard.hit_rate_limit(key="ip:other", limit_per_minute=5)


async def test_check_refuses_when_one_worst_case_no_longer_fits_and_reserves_nothing(store, clock):
    guard = make_guard(store, clock, limits(client="3", session="10"))
    who = meta(session_id="s1")
    held = await guard.reserve(meta=who, model=PRICED, **tokens_for("2"))

    assert await guard.check(meta=who, model=PRICED, **tokens_for("1")) == Decimal("1")
    with pytest.raises(BudgetExceededError) as refused:
        await guard.check(meta=who, model=PRICED, **tokens_for("1.001"))
    assert refused.value.details["bucket"] == "client"
    assert [r.reservation_id for r in await store.active_reservations()] == [held.reservation_id]
    # A free model passes whatever is left.
    assert await guard.check(meta=who, model=OFFLINE, prompt_tokens_upper_bound=9, max_tokens=9)


async def test_soft_crossing_names_the_callers_own_budget_a_call_would_take_past_its_soft_limit(
    store, clock
):
    # The client's day is $10 (soft limit $8); the service's $12 (soft $9.60) is not the
    # caller's to approve.
    guard = make_guard(store, clock, limits(client="10", global_="12"))
    who = meta()

    assert await guard.soft_crossing(meta=who, model=PRICED, **tokens_for("1")) is None
    spent = await guard.reserve(meta=who, model=PRICED, **tokens_for("7.5"))
    await guard.settle(spent, CallUsage(input_tokens=7500))

    crossing = await guard.soft_crossing(meta=who, model=PRICED, **tokens_for("1"))
    assert crossing == {
        "bucket": "client", "used_usd": 7.5, "soft_limit_usd": 8.0, "limit_usd": 10.0
    }  # fmt: skip
    # Two such calls (a tool's several model calls) at $0.30 cross it too; one does not.
    assert await guard.soft_crossing(meta=who, model=PRICED, **tokens_for("0.3")) is None
    assert await guard.soft_crossing(meta=who, model=PRICED, **tokens_for("0.3"), calls=2)
    # A call that does not fit at all is the reservation's to refuse, not to ask about.
    assert await guard.soft_crossing(meta=who, model=PRICED, **tokens_for("3")) is None
    # Past the soft limit, nothing crosses it any more; and it reserved nothing.
    more = await guard.reserve(meta=who, model=PRICED, **tokens_for("1"))
    await guard.settle(more, CallUsage(input_tokens=1000))
    assert await guard.soft_crossing(meta=who, model=PRICED, **tokens_for("1")) is None
    assert await store.active_reservations() == []
