"""In-process budget store for the embedded mode (one process, no Redis).

Same semantics as the Redis store, so the guard cannot tell them apart. Every public
method runs its whole decision under one ``threading.Lock`` and never awaits while
holding it: that makes each call atomic for coroutines on one loop *and* for the
embedded runner's worker threads (each with its own loop). An ``asyncio.Lock`` would
add nothing here and cannot be shared between loops in different threads.

Expired reservations are reclaimed lazily at the start of every call, with the store's
``clock`` (injectable so tests can move time). An expired reservation's amount is
recorded as spent (its holder died; the provider may still bill the call) and it is kept
for ``drain_expired`` so the ledger can record it too, with the generation id its holder
noted, if any.
"""

from __future__ import annotations

import dataclasses
import heapq
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from agents.guard.store import (
    ActiveReservation,
    BucketSpec,
    BucketUsage,
    ConcurrencySpec,
    ExpiredReservation,
    RateSpec,
    ReserveResult,
    SettleResult,
)

# How long a settled reservation id is remembered so a repeated settle is a no-op.
SETTLED_MEMORY_S = 86_400.0
# Full sweeps of expired buckets/rate keys are cheap but O(n); do them at most this often.
SWEEP_INTERVAL_S = 60.0
# Expired reservations waiting for ``drain_expired``; beyond this the oldest are dropped
# (their spend stays counted in the buckets, only the ledger misses them).
EXPIRED_LOG_MAX = 10_000


@dataclass(kw_only=True)
class _Bucket:
    spent: int = 0
    held: int = 0
    limit: int | None = None
    soft_limit: int | None = None
    warned: bool = False
    window: str | None = None
    expires_at: float = 0.0

    def usage(self, key: str) -> BucketUsage:
        return BucketUsage(key=key, spent=self.spent, held=self.held, limit=self.limit)


@dataclass(frozen=True, kw_only=True)
class _Held:
    amount: int
    bucket_keys: tuple[str, ...]
    concurrency_key: str | None
    expires_at: float
    note: str = ""
    generation_id: str = ""


@dataclass(frozen=True, kw_only=True)
class _ExpiryCharge:
    """What an expired reservation was charged, and where: a late settle records only the
    difference, in those buckets when the caller names none."""

    amount: int
    bucket_keys: tuple[str, ...]
    forget_at: float


def gcra(*, now: float, tat: float, limit: int, window_s: float) -> tuple[bool, float, float]:
    """Generic cell rate algorithm: returns (allowed, new theoretical arrival time, retry).

    Allows a burst of ``limit`` and then one admission every ``window_s / limit``
    seconds; unlike fixed windows it never admits 2x the limit across a boundary.
    """
    interval = window_s / limit
    new_tat = max(tat, now) + interval
    allow_at = new_tat - window_s
    if now < allow_at:
        return False, tat, allow_at - now
    return True, new_tat, 0.0


class MemoryBudgetStore:
    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}
        self._concurrency: dict[str, int] = {}
        self._held: dict[str, _Held] = {}
        self._expiries: list[tuple[float, str]] = []  # heap of (expires_at, reservation id)
        self._settled: dict[str, float] = {}  # reservation id -> forget at
        self._rate_tat: dict[str, float] = {}
        self._expired_charge: dict[str, _ExpiryCharge] = {}
        self._expired_log: deque[ExpiredReservation] = deque(maxlen=EXPIRED_LOG_MAX)
        self._next_sweep = 0.0

    # -- helpers (call with the lock held) -------------------------------------------

    def _reclaim(self, now: float) -> None:
        while self._expiries and self._expiries[0][0] <= now:
            _, reservation_id = heapq.heappop(self._expiries)
            held = self._held.get(reservation_id)
            if held is not None and held.expires_at <= now:
                del self._held[reservation_id]
                self._release_hold(held, now)
                self._charge_expired(reservation_id, held, now)
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_INTERVAL_S
            self._buckets = {k: b for k, b in self._buckets.items() if b.expires_at > now}
            self._rate_tat = {k: t for k, t in self._rate_tat.items() if t > now}
            self._settled = {k: t for k, t in self._settled.items() if t > now}
            self._expired_charge = {
                k: v for k, v in self._expired_charge.items() if v.forget_at > now
            }

    def _charge_expired(self, reservation_id: str, held: _Held, now: float) -> None:
        """Nobody settled it: record its whole amount as spent (the worst case)."""
        if held.amount <= 0:
            return
        for key in held.bucket_keys:
            bucket = self._live_bucket(key, now)
            if bucket is not None:
                bucket.spent += held.amount
        self._expired_charge[reservation_id] = _ExpiryCharge(
            amount=held.amount, bucket_keys=held.bucket_keys, forget_at=now + SETTLED_MEMORY_S
        )
        self._expired_log.append(
            ExpiredReservation(
                reservation_id=reservation_id,
                amount=held.amount,
                note=held.note,
                expired_at=held.expires_at,
                generation_id=held.generation_id,
            )
        )

    def _release_hold(self, held: _Held, now: float) -> None:
        for key in held.bucket_keys:
            bucket = self._live_bucket(key, now)
            if bucket is not None:
                bucket.held = max(0, bucket.held - held.amount)
        if held.concurrency_key is not None:
            left = self._concurrency.get(held.concurrency_key, 0) - 1
            if left > 0:
                self._concurrency[held.concurrency_key] = left
            else:
                self._concurrency.pop(held.concurrency_key, None)

    def _live_bucket(self, key: str, now: float) -> _Bucket | None:
        bucket = self._buckets.get(key)
        if bucket is not None and bucket.expires_at <= now:
            del self._buckets[key]
            return None
        return bucket

    def _touch_bucket(self, spec: BucketSpec, now: float) -> _Bucket:
        bucket = self._live_bucket(spec.key, now)
        if bucket is None:
            bucket = self._buckets[spec.key] = _Bucket()
        bucket.limit = spec.limit
        bucket.soft_limit = spec.soft_limit
        bucket.window = spec.window or bucket.window
        bucket.expires_at = max(bucket.expires_at, now + spec.window_ttl_s)
        return bucket

    @staticmethod
    def _crossed(key: str, bucket: _Bucket) -> BucketUsage | None:
        if (
            bucket.soft_limit is None
            or bucket.warned
            or bucket.spent + bucket.held < bucket.soft_limit
        ):
            return None
        bucket.warned = True
        return bucket.usage(key)

    # -- BudgetStore -----------------------------------------------------------------

    async def reserve(
        self,
        *,
        reservation_id: str,
        amount: int,
        buckets: Sequence[BucketSpec],
        concurrency: ConcurrencySpec | None,
        ttl_s: float,
        rate: RateSpec | None = None,
        note: str = "",
    ) -> ReserveResult:
        with self._lock:
            now = self._clock()
            self._reclaim(now)
            # Decide everything before changing anything: all or nothing.
            new_tat = 0.0
            if rate is not None:
                allowed, new_tat, retry = gcra(
                    now=now,
                    tat=self._rate_tat.get(rate.key, 0.0),
                    limit=rate.limit,
                    window_s=rate.window_s,
                )
                if not allowed:
                    return ReserveResult(
                        ok=False,
                        failed_bucket=rate.key,
                        failure="rate",
                        limit=rate.limit,
                        retry_after_s=retry,
                    )
            if concurrency is not None:
                in_flight = self._concurrency.get(concurrency.key, 0)
                if in_flight + 1 > concurrency.limit:
                    return ReserveResult(
                        ok=False,
                        failed_bucket=concurrency.key,
                        failure="concurrency",
                        used=in_flight,
                        limit=concurrency.limit,
                    )
            for spec in buckets:
                bucket = self._live_bucket(spec.key, now)
                used = 0 if bucket is None else bucket.spent + bucket.held
                if spec.limit is not None and used + amount > spec.limit:
                    return ReserveResult(
                        ok=False,
                        failed_bucket=spec.key,
                        failure="budget",
                        used=used,
                        limit=spec.limit,
                    )
            if rate is not None:
                self._rate_tat[rate.key] = new_tat
            if concurrency is not None:
                self._concurrency[concurrency.key] = self._concurrency.get(concurrency.key, 0) + 1
            crossed: list[BucketUsage] = []
            for spec in buckets:
                bucket = self._touch_bucket(spec, now)
                bucket.held += amount
                if (usage := self._crossed(spec.key, bucket)) is not None:
                    crossed.append(usage)
            expires_at = now + ttl_s
            self._held[reservation_id] = _Held(
                amount=amount,
                bucket_keys=tuple(spec.key for spec in buckets),
                concurrency_key=None if concurrency is None else concurrency.key,
                expires_at=expires_at,
                note=note,
            )
            heapq.heappush(self._expiries, (expires_at, reservation_id))
            return ReserveResult(ok=True, soft_crossed=tuple(crossed))

    async def settle(
        self, *, reservation_id: str, actual: int, fallback: Sequence[BucketSpec] = ()
    ) -> SettleResult:
        with self._lock:
            now = self._clock()
            self._reclaim(now)
            specs = {spec.key: spec for spec in fallback}
            if reservation_id in self._settled:
                return SettleResult(
                    status="duplicate",
                    buckets={k: b.usage(k) for k in specs if (b := self._live_bucket(k, now))},
                )
            self._settled[reservation_id] = now + SETTLED_MEMORY_S
            held = self._held.pop(reservation_id, None)
            held_keys: tuple[str, ...] = ()
            if held is not None:
                self._release_hold(held, now)
                held_keys = held.bucket_keys
            elif (charge := self._expired_charge.pop(reservation_id, None)) is not None:
                # Expired unsettled: its amount was charged then, so record the difference.
                actual -= charge.amount
                held_keys = charge.bucket_keys
            # The caller's specs say where the cost goes (they also cover buckets a
            # zero-cost reservation never held); what the reservation held is the fallback.
            keys = tuple(specs) if specs else held_keys
            result: dict[str, BucketUsage] = {}
            crossed: list[BucketUsage] = []
            for key in keys:
                spec = specs.get(key)
                bucket = self._live_bucket(key, now)
                if bucket is None and actual < 0:
                    continue  # a correction downwards creates no bucket
                if spec is not None:
                    bucket = self._touch_bucket(spec, now)
                elif bucket is None:
                    continue  # nothing says how long this bucket should live; skip it
                bucket.spent = max(0, bucket.spent + actual)
                result[key] = bucket.usage(key)
                if (usage := self._crossed(key, bucket)) is not None:
                    crossed.append(usage)
            return SettleResult(
                status="settled" if held is not None else "late",
                buckets=result,
                soft_crossed=tuple(crossed),
            )

    async def release(
        self, *, reservation_id: str, fallback: Sequence[BucketSpec] = ()
    ) -> SettleResult:
        return await self.settle(reservation_id=reservation_id, actual=0, fallback=fallback)

    async def note_generation(self, *, reservation_id: str, generation_id: str) -> None:
        with self._lock:
            held = self._held.get(reservation_id)
            if held is not None:
                self._held[reservation_id] = dataclasses.replace(held, generation_id=generation_id)

    async def rate_hit(self, *, key: str, limit: int, window_s: float) -> tuple[bool, float]:
        with self._lock:
            now = self._clock()
            allowed, new_tat, retry = gcra(
                now=now, tat=self._rate_tat.get(key, 0.0), limit=limit, window_s=window_s
            )
            if allowed:
                self._rate_tat[key] = new_tat
            return allowed, retry

    async def usage(self, keys: Sequence[str]) -> dict[str, BucketUsage]:
        with self._lock:
            now = self._clock()
            self._reclaim(now)
            result = {}
            for key in keys:
                bucket = self._live_bucket(key, now)
                result[key] = (
                    bucket.usage(key)
                    if bucket is not None
                    else BucketUsage(key=key, spent=0, held=0, limit=None)
                )
            return result

    async def snapshot_day(self, day: str) -> dict[str, BucketUsage]:
        with self._lock:
            now = self._clock()
            self._reclaim(now)
            return {
                key: bucket.usage(key)
                for key, bucket in self._buckets.items()
                if bucket.window == day and bucket.expires_at > now
            }

    async def active_reservations(self) -> list[ActiveReservation]:
        with self._lock:
            now = self._clock()
            self._reclaim(now)
            return [
                ActiveReservation(
                    reservation_id=rid,
                    amount=held.amount,
                    bucket_keys=held.bucket_keys,
                    concurrency_key=held.concurrency_key,
                    expires_at=held.expires_at,
                )
                for rid, held in self._held.items()
            ]

    async def drain_expired(self, *, limit: int = 500) -> list[ExpiredReservation]:
        with self._lock:
            self._reclaim(self._clock())
            drained: list[ExpiredReservation] = []
            while self._expired_log and len(drained) < limit:
                drained.append(self._expired_log.popleft())
            return drained
