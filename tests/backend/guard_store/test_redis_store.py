"""CostGuard over the real Redis store: the memory-store behaviours, races, expiry, outages."""

from __future__ import annotations

import asyncio
import multiprocessing
import socket
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from agents.guard import (
    BudgetExceededError,
    CallUsage,
    CostGuard,
    GuardUnavailableError,
    RateLimitedError,
    Reservation,
    SettleDeferredError,
)
from agents.guard.limits import GuardLimits
from agents.guard.settlement import unsettled_record
from agents.guard.store import BucketUsage
from backend.guard_store import RedisBudgetStore
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
from tests.backend.guard_store.helpers import RACE_LIMITS, race_attempts, race_in_process

pytestmark = pytest.mark.redis
REPO_ROOT = Path(__file__).resolve().parents[3]

CLIENT_TODAY = "client:client-1:day:2026-11-21"


def make_guard(
    redis_client: aioredis.Redis,
    key_prefix: str,
    guard_limits: GuardLimits,
    clock: FakeClock | None = None,
    **kwargs: object,
) -> tuple[CostGuard, RedisBudgetStore]:
    store = RedisBudgetStore(redis=redis_client, key_prefix=key_prefix)
    guard = CostGuard(
        store=store,
        limits=guard_limits,
        clock=clock or FakeClock(),
        **kwargs,  # type: ignore[arg-type]
    )
    return guard, store


async def test_reserve_and_settle_keep_exact_counters(redis_client, key_prefix):
    guard, store = make_guard(redis_client, key_prefix, limits(client="10", session="5"))
    who = meta(session_id="s1")
    reservation = await guard.reserve(
        meta=who, model=PRICED, prompt_tokens_upper_bound=1000, max_tokens=500
    )
    assert reservation.amount_usd == Decimal("2")
    usage = await store.usage(reservation.buckets)
    assert {(u.spent, u.held, u.limit) for u in usage.values()} == {
        (0, 2_000_000, 1_000_000_000),
        (0, 2_000_000, 10_000_000),
        (0, 2_000_000, 5_000_000),
    }

    cost = await guard.settle(reservation, CallUsage(input_tokens=300, output_tokens=100))
    assert cost == Decimal("0.5")
    usage = await store.usage(reservation.buckets)
    assert {(u.spent, u.held) for u in usage.values()} == {(500_000, 0)}
    assert await store.active_reservations() == []

    # Settling again (a retried call) changes nothing.
    await guard.settle(reservation, CallUsage(input_tokens=300, output_tokens=100))
    assert {u.spent for u in (await store.usage(reservation.buckets)).values()} == {500_000}


async def test_refusal_is_all_or_nothing(redis_client, key_prefix):
    guard, store = make_guard(redis_client, key_prefix, limits(client="10", session="1"))
    with pytest.raises(BudgetExceededError) as refused:
        await guard.reserve(meta=meta(session_id="s1"), model=PRICED, **tokens_for("1.5"))
    assert refused.value.details["bucket"] == "session"
    assert refused.value.details["remaining_usd"] == "1.000000"
    usage = await store.usage(["global:day:2026-11-21", CLIENT_TODAY, "session:s1"])
    assert all(u.used == 0 for u in usage.values())
    assert await store.active_reservations() == []


async def test_overage_blocks_until_the_window_rolls_over(redis_client, key_prefix):
    clock = FakeClock()
    guard, store = make_guard(redis_client, key_prefix, limits(client="5"), clock)
    reservation = await guard.reserve(meta=meta(), model=PRICED, **tokens_for("1"))
    await guard.settle(reservation, CallUsage(reported_cost_usd=Decimal("6")))

    with pytest.raises(BudgetExceededError):
        await guard.reserve(meta=meta(), model=PRICED, **tokens_for("0.001"))
    clock.now = MIDNIGHT_NEXT
    await guard.reserve(meta=meta(), model=PRICED, **tokens_for("1"))

    yesterday = await store.snapshot_day("2026-11-21")
    assert yesterday[CLIENT_TODAY].spent == 6_000_000
    assert set(await store.snapshot_day("2026-11-22")) == {
        "client:client-1:day:2026-11-22",
        "global:day:2026-11-22",
    }


async def test_bucket_keys_expire_a_grace_period_after_their_day(redis_client, key_prefix):
    now = time.time()
    guard, _ = make_guard(redis_client, key_prefix, limits(session="5"), FakeClock(now))
    reservation = await guard.reserve(meta=meta(session_id="s1"), model=PRICED, **tokens_for("1"))
    day_end = (int(now) // 86_400 + 1) * 86_400
    daily_ttl = await redis_client.ttl(f"{key_prefix}b:{reservation.buckets[1]}")
    assert abs(daily_ttl - (day_end + 3 * 86_400 - now)) < 5
    assert 29 * 86_400 < await redis_client.ttl(f"{key_prefix}b:session:s1") <= 30 * 86_400
    assert -1 not in [
        await redis_client.ttl(k) async for k in redis_client.scan_iter(f"{key_prefix}[bcr]:*")
    ]


async def test_soft_limit_fires_once_per_bucket_even_across_processes(redis_client, key_prefix):
    first_hook, second_hook = HookRecorder(), HookRecorder()
    first, _ = make_guard(redis_client, key_prefix, limits(client="10"), soft_limit_hook=first_hook)
    second, _ = make_guard(
        redis_client, key_prefix, limits(client="10"), soft_limit_hook=second_hook
    )
    for guard in [first, second] * 5:
        await guard.reserve(meta=meta(), model=PRICED, **tokens_for("1"))
    assert first_hook.buckets + second_hook.buckets == ["client"]
    assert (first_hook.calls + second_hook.calls)[0][1] == pytest.approx(0.8)


async def test_concurrency_limit_and_release_on_settle(redis_client, key_prefix):
    guard, _ = make_guard(redis_client, key_prefix, limits(max_concurrent=2))
    first = await guard.reserve(meta=meta(), model=PRICED, **tokens_for("0.1"))
    await guard.reserve(meta=meta(), model=OFFLINE, prompt_tokens_upper_bound=1, max_tokens=1)
    with pytest.raises(RateLimitedError) as refused:
        await guard.reserve(meta=meta(), model=PRICED, **tokens_for("0.1"))
    assert refused.value.details["bucket"] == "concurrency"
    await guard.settle(first, CallUsage())
    await guard.reserve(meta=meta(), model=PRICED, **tokens_for("0.1"))


HOLDER = """
import asyncio, os, signal, sys
import redis.asyncio as aioredis
from agents.guard import CostGuard
from agents.guard.store import BucketUsage
from backend.guard_store import RedisBudgetStore
from tests.agents.guard.support import PRICED, limits, meta, tokens_for

async def main():
    store = RedisBudgetStore(redis=aioredis.Redis.from_url(sys.argv[1]), key_prefix=sys.argv[2])
    guard = CostGuard(store=store, limits=limits(client="1", max_concurrent=1, ttl_s=1.0))
    await guard.reserve(meta=meta(), model=PRICED, **tokens_for("1"))
    print("held", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)

asyncio.run(main())
"""


async def test_a_holder_killed_mid_call_cannot_leak_its_reservation(
    redis_url, redis_client, key_prefix
):
    guard, store = make_guard(
        redis_client, key_prefix, limits(client="1", max_concurrent=1, ttl_s=1.0)
    )
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HOLDER, redis_url, key_prefix, stdout=subprocess.PIPE, cwd=REPO_ROOT
    )
    output, _ = await holder.communicate()
    assert output == b"held\n"
    assert holder.returncode == -9

    with pytest.raises(RateLimitedError):  # its slot is still taken...
        await guard.reserve(meta=meta(), model=PRICED, **tokens_for("1"))
    [held] = await store.active_reservations()
    await asyncio.sleep(held.expires_at - time.time() + 0.05)

    # ...until the reservation expires by Redis time; the next call reclaims it.
    reservation = await guard.reserve(meta=meta(), model=PRICED, **tokens_for("1"))
    assert [r.reservation_id for r in await store.active_reservations()] == [
        reservation.reservation_id
    ]
    usage = (await store.usage([CLIENT_TODAY]))[CLIENT_TODAY]
    assert (usage.spent, usage.held) == (0, 1_000_000)


async def test_an_expired_reservation_counts_its_worst_case_and_a_late_settle_corrects_it(
    redis_client, key_prefix
):
    guard, store = make_guard(redis_client, key_prefix, limits(client="2", ttl_s=0.3))
    late = await guard.reserve(meta=meta(), model=PRICED, **tokens_for("1"))
    await asyncio.sleep(0.35)
    fresh = await guard.reserve(meta=meta(), model=PRICED, **tokens_for("0.5"))
    usage = (await store.usage([CLIENT_TODAY]))[CLIENT_TODAY]
    assert (usage.spent, usage.held) == (1_000_000, 500_000)
    [expired] = await store.drain_expired()
    assert (expired.reservation_id, expired.amount) == (late.reservation_id, 1_000_000)
    assert '"client_id": "client-1"' in expired.note
    assert await store.drain_expired() == []
    await guard.settle(late, CallUsage(input_tokens=200))
    usage = (await store.usage([CLIENT_TODAY]))[CLIENT_TODAY]
    assert (usage.spent, usage.held) == (200_000, 500_000)
    await guard.settle(fresh, CallUsage(input_tokens=100))
    usage = (await store.usage([CLIENT_TODAY]))[CLIENT_TODAY]
    assert (usage.spent, usage.held) == (300_000, 0)


async def test_an_expired_reservation_keeps_its_generation_id_and_is_corrected_to_its_bill(
    redis_client, key_prefix
):
    guard, store = make_guard(redis_client, key_prefix, limits(client="2", ttl_s=0.3))
    abandoned = await guard.reserve(meta=meta(), model=PRICED, **tokens_for("1"))
    await guard.note_generation(abandoned, "gen-abandoned")
    await asyncio.sleep(0.35)  # its holder died after the provider named the generation

    [expired] = await store.drain_expired()
    assert (expired.reservation_id, expired.amount, expired.generation_id) == (
        abandoned.reservation_id,
        1_000_000,
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


async def test_an_expiry_charge_recorded_before_buckets_were_kept_still_settles_late(
    redis_client, key_prefix
):
    """``x:<id>`` written by the previous release (a bare amount) during a deploy."""
    guard, store = make_guard(redis_client, key_prefix, limits(client="2", ttl_s=0.3))
    late = await guard.reserve(meta=meta(), model=PRICED, **tokens_for("1"))
    await asyncio.sleep(0.35)
    await store.drain_expired()
    await redis_client.set(f"{key_prefix}x:{late.reservation_id}", "1000000")
    await guard.settle(late, CallUsage(input_tokens=200))
    usage = (await store.usage([CLIENT_TODAY]))[CLIENT_TODAY]
    assert (usage.spent, usage.held) == (200_000, 0)


async def test_a_generation_noted_after_the_settle_changes_nothing(redis_client, key_prefix):
    guard, store = make_guard(redis_client, key_prefix, limits(client="2", ttl_s=0.3))
    reservation = await guard.reserve(meta=meta(), model=PRICED, **tokens_for("1"))
    await guard.settle(reservation, CallUsage(input_tokens=100))
    await guard.note_generation(reservation, "gen-late")
    assert await redis_client.hlen(f"{key_prefix}res:data") == 0
    await asyncio.sleep(0.35)
    assert await store.drain_expired() == []


async def test_reservation_expiry_follows_redis_time_not_the_callers_clock(
    redis_client, key_prefix
):
    far_future = FakeClock(time.time() + 10 * 86_400)
    guard, store = make_guard(redis_client, key_prefix, limits(ttl_s=60), far_future)
    await guard.reserve(meta=meta(), model=PRICED, **tokens_for("1"))
    [held] = await store.active_reservations()
    server_seconds, _ = await redis_client.time()
    assert abs(held.expires_at - (server_seconds + 60)) < 2


async def settle_and_check(store: RedisBudgetStore, guard: CostGuard, admitted: list[Reservation]):
    for i, reservation in enumerate(admitted):
        await guard.settle(reservation, CallUsage(input_tokens=i))
    usage = (await store.usage([CLIENT_TODAY, "session:s1"])).values()
    assert {(u.spent, u.held) for u in usage} == {(sum(range(len(admitted))) * 1000, 0)}
    assert await store.active_reservations() == []


async def test_200_concurrent_reservations_admit_exactly_the_50_that_fit(
    redis_url, redis_client, key_prefix
):
    guard, store = make_guard(redis_client, key_prefix, RACE_LIMITS)
    highest_seen = 0
    racing = True

    async def watch() -> None:
        nonlocal highest_seen
        while racing:
            used = (await store.usage([CLIENT_TODAY]))[CLIENT_TODAY].used
            highest_seen = max(highest_seen, used)
            await asyncio.sleep(0)

    watcher = asyncio.create_task(watch())
    admitted = await race_attempts(redis_url=redis_url, key_prefix=key_prefix, attempts=200)
    racing = False
    await watcher

    assert len(admitted) == 50
    assert 0 < highest_seen <= 5_000_000
    assert (await store.usage([CLIENT_TODAY]))[CLIENT_TODAY].used == 5_000_000
    await settle_and_check(store, guard, admitted)


async def test_threads_racing_admit_exactly_the_50_that_fit(redis_url, redis_client, key_prefix):
    guard, store = make_guard(redis_client, key_prefix, RACE_LIMITS)
    admitted: list[Reservation] = []
    lock = threading.Lock()

    def worker() -> None:
        won = race_in_process(redis_url, key_prefix, 50)
        with lock:
            admitted.extend(won)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        await asyncio.to_thread(thread.join)
    assert len(admitted) == 50
    await settle_and_check(store, guard, admitted)


async def test_processes_racing_admit_exactly_the_50_that_fit(redis_url, redis_client, key_prefix):
    guard, store = make_guard(redis_client, key_prefix, RACE_LIMITS)
    # forkserver: cheap enough, and never forks this process's running event loop.
    context = multiprocessing.get_context("forkserver")
    with context.Pool(4) as pool:
        batches = await asyncio.to_thread(
            pool.starmap, race_in_process, [(redis_url, key_prefix, 50)] * 4
        )
    admitted = [r for batch in batches for r in batch]
    assert len(admitted) == 50
    await settle_and_check(store, guard, admitted)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_unreachable_redis_fails_closed_or_open_as_configured(monkeypatch):
    from backend.guard_store import redis_store

    monkeypatch.setattr(redis_store, "RESERVE_RETRY_S", (0.01,))  # still down when retried
    down = aioredis.Redis(
        host="127.0.0.1",
        port=closed_port(),
        socket_connect_timeout=0.2,
        retry=Retry(NoBackoff(), 0),
    )
    closed = CostGuard(store=RedisBudgetStore(redis=down), limits=limits(rpm=5, max_concurrent=1))
    with pytest.raises(GuardUnavailableError) as refused:
        await closed.reserve(meta=meta(), model=PRICED, **tokens_for("1"))
    assert refused.value.http_status == 503
    with pytest.raises(GuardUnavailableError):
        await closed.hit_rate_limit(key="ip:x", limit_per_minute=1)
    with pytest.raises(GuardUnavailableError):
        await closed.check(meta=meta(), model=PRICED, **tokens_for("1"))

    async def no_sleep(_: float) -> None:
        return None

    open_ = CostGuard(
        store=RedisBudgetStore(redis=down, fail_open=True),
        limits=limits(rpm=5, max_concurrent=1),
        sleep=no_sleep,
    )
    reservation = await open_.reserve(meta=meta(), model=PRICED, **tokens_for("1"))
    await open_.reserve(meta=meta(), model=PRICED, **tokens_for("1"))  # no local counting
    # Nothing was recorded: the caller keeps the cost to settle once Redis is back.
    with pytest.raises(SettleDeferredError) as deferred:
        await open_.settle(reservation, CallUsage(input_tokens=10))
    assert deferred.value.cost_usd == Decimal("0.01")
    await open_.hit_rate_limit(key="ip:x", limit_per_minute=1)
    await down.aclose()


async def test_rate_limits_answer_429_with_retry_after(redis_client, key_prefix):
    guard, _ = make_guard(redis_client, key_prefix, limits(rpm=2))
    for _ in range(3):
        await guard.hit_rate_limit(key="ip:abc", limit_per_minute=3)
    with pytest.raises(RateLimitedError) as refused:
        await guard.hit_rate_limit(key="ip:abc", limit_per_minute=3)
    assert 0 < refused.value.retry_after_s <= 20
    assert refused.value.http_status == 429

    for _ in range(2):
        await guard.reserve(meta=meta(), model=OFFLINE, prompt_tokens_upper_bound=1, max_tokens=1)
    with pytest.raises(RateLimitedError) as refused:
        await guard.reserve(meta=meta(), model=OFFLINE, prompt_tokens_upper_bound=1, max_tokens=1)
    assert 0 < refused.value.retry_after_s <= 30
    assert refused.value.details["bucket"] == "rate"


async def test_check_answers_402_before_any_reservation(redis_client, key_prefix):
    guard, store = make_guard(redis_client, key_prefix, limits(client="3"))
    await guard.reserve(meta=meta(), model=PRICED, **tokens_for("2"))
    assert await guard.check(meta=meta(), model=PRICED, **tokens_for("1")) == Decimal("1")
    with pytest.raises(BudgetExceededError):
        await guard.check(meta=meta(), model=PRICED, **tokens_for("1.001"))
    assert len(await store.active_reservations()) == 1


async def test_cost_of_a_call_reserved_at_zero_is_still_recorded_and_archived(
    redis_client, key_prefix
):
    guard, store = make_guard(redis_client, key_prefix, limits(client="1"))
    free = await guard.reserve(
        meta=meta(), model=OFFLINE, prompt_tokens_upper_bound=9, max_tokens=9
    )
    # A "free" model whose provider billed anyway: the money still counts.
    await guard.settle(free, CallUsage(reported_cost_usd=Decimal("0.01")))
    archived = await store.snapshot_day("2026-11-21")
    assert archived[CLIENT_TODAY] == BucketUsage(
        key=CLIENT_TODAY, spent=10_000, held=0, limit=1_000_000
    )


async def test_a_reserve_rides_out_a_redis_restart(tmp_path):
    """Redis down for a moment (a restart): the reserve is tried again instead of refusing
    the call with 503 (the soak bench's Redis restart failed runs and posts that way)."""
    import shutil

    from tests.bench._harness import OwnRedis

    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = OwnRedis(tmp_path, closed_port())
    client = aioredis.Redis(
        host="127.0.0.1", port=server.port, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0)
    )
    guard = CostGuard(store=RedisBudgetStore(redis=client), limits=limits(rpm=5))
    starter = threading.Timer(0.4, server.start)
    starter.start()
    try:
        reservation = await guard.reserve(meta=meta(), model=PRICED, **tokens_for("1"))
        await guard.settle(reservation, CallUsage(input_tokens=10))
    finally:
        starter.join()
        await client.aclose()
        server.stop()
