"""``BudgetStore`` on Redis: one Lua script per decision, shared by every process.

Key layout (``P`` is the key prefix, ``guard:{g}:`` by default):

- ``P res:exp`` ZSET reservation id -> expiry (server ms); ``P res:data`` HASH id -> record
- ``P b:<bucket>`` HASH spent / held / limit / soft / warned / window, expiring after its
  window plus a grace period
- ``P c:<client>`` in-flight counter; ``P r:<key>`` GCRA arrival time
- ``P done:<id>`` settled marker (makes settle idempotent); ``P day:<date>`` SET of the
  day's bucket keys (for archiving)
- ``P x:<id>`` what an expired, unsettled reservation was charged, and in which buckets
  (a late settle records the difference); ``P res:expired`` LIST of those reservations
  for ``drain_expired``
- a reservation's record in ``P res:data`` carries the generation id its holder noted
  (``note_generation``), handed on if it expires

Every key carries the same hash tag ``{g}``, so every key lives in one cluster slot.
That is forced anyway: every reservation touches the global daily bucket, so all
reservations must be decided in the slot that holds it, and the reclaim step touches
buckets of *other* clients' expired reservations, which no per-client tag could place
in the same slot. The guard's load (two short scripts per LLM call) is far below what
one shard serves, so one slot costs nothing that matters.

No Django here: the backend builds the client and passes it in.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from agents.guard.interface import GuardUnavailableError
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

logger = logging.getLogger(__name__)

_LUA_DIR = Path(__file__).parent / "lua"
# How long a settled reservation id is remembered, so a repeated settle changes nothing.
SETTLED_MEMORY_MS = 86_400_000
_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
# A reserve that cannot reach Redis is tried again after each of these waits before the call
# is refused (503 AI_SERVICE_UNAVAILABLE with Retry-After): a Redis restart is ~2 s.
RESERVE_RETRY_S = (0.25, 0.75, 2.0)


def _script(name: str) -> str:
    return (_LUA_DIR / "common.lua").read_text() + "\n" + (_LUA_DIR / name).read_text()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _limit(raw: Any) -> int | None:
    value = int(raw)
    return None if value < 0 else value


def _bucket_args(spec: BucketSpec) -> list[str | int]:
    return [
        -1 if spec.limit is None else spec.limit,
        -1 if spec.soft_limit is None else spec.soft_limit,
        max(1, int(spec.window_ttl_s * 1000)),
        spec.window or "",
    ]


class RedisBudgetStore:
    def __init__(
        self,
        *,
        redis: aioredis.Redis,
        key_prefix: str = "guard:{g}:",
        fail_open: bool = False,
    ) -> None:
        if not re.search(r"\{[^}]+\}", key_prefix):
            raise ValueError("key_prefix needs a hash tag such as {g} (one cluster slot)")
        self._redis = redis
        self._prefix = key_prefix
        self._fail_open = fail_open
        self._reserve_script = redis.register_script(_script("reserve.lua"))
        self._settle_script = redis.register_script(_script("settle.lua"))
        self._rate_script = redis.register_script(_script("rate.lua"))
        self._expired_script = redis.register_script(_script("expired.lua"))
        self._note_script = redis.register_script(_script("note.lua"))

    # -- keys ----------------------------------------------------------------------------

    def _bucket_key(self, key: str) -> str:
        return f"{self._prefix}b:{key}"

    def _strip(self, redis_key: Any, kind: str) -> str:
        return _text(redis_key).removeprefix(f"{self._prefix}{kind}:")

    @property
    def _zset(self) -> str:
        return f"{self._prefix}res:exp"

    @property
    def _data(self) -> str:
        return f"{self._prefix}res:data"

    # -- failure policy --------------------------------------------------------------

    def _unavailable(self, exc: Exception, operation: str) -> None:
        """Fail closed (raise) unless configured to fail open on an unreachable Redis.

        Failing open admits calls unchecked and says so loudly; it never falls back to
        per-process counters, which would silently multiply every budget by the number
        of processes.
        """
        if self._fail_open and isinstance(exc, _UNREACHABLE):
            logger.error(
                "guard store unreachable during %s; admitting (fail_open): %s", operation, exc
            )
            return
        self._raise_unavailable(exc)

    @staticmethod
    def _raise_unavailable(exc: Exception) -> NoReturn:
        raise GuardUnavailableError(
            "The AI budget service is unavailable right now; please retry shortly.",
            details={"store": "redis", "reason": type(exc).__name__},
        ) from exc

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
        keys = [self._zset, self._data, *(self._bucket_key(b.key) for b in buckets)]
        if concurrency is not None:
            keys.append(f"{self._prefix}c:{concurrency.key}")
        if rate is not None:
            keys.append(f"{self._prefix}r:{rate.key}")
        windows = {b.window for b in buckets if b.window}
        day_ttl_ms = max((b.window_ttl_s for b in buckets if b.window), default=0) * 1000
        if windows:
            # All daily buckets of one call share its date.
            keys.append(f"{self._prefix}day:{min(windows)}")
        args: list[str | int | float] = [
            reservation_id,
            amount,
            max(1, int(ttl_s * 1000)),
            len(buckets),
            -1 if concurrency is None else concurrency.limit,
            -1 if rate is None else rate.limit,
            0 if rate is None else int(rate.window_s * 1000),
            int(day_ttl_ms) if windows else 0,
        ]
        for spec in buckets:
            args.extend(_bucket_args(spec))
        args.append(note)
        try:
            reply = await self._reserve_retrying(keys=keys, args=args)
        except RedisError as exc:
            self._unavailable(exc, "reserve")
            return ReserveResult(ok=True, degraded=True)
        ok, failure, failed_key, used, limit, retry_ms, crossed = reply
        if int(ok) == 1:
            return ReserveResult(ok=True, soft_crossed=self._usages(crossed))
        kind = _text(failure)
        prefix_kind = {"budget": "b", "concurrency": "c", "rate": "r"}[kind]
        return ReserveResult(
            ok=False,
            failure=kind,  # type: ignore[arg-type]
            failed_bucket=self._strip(failed_key, prefix_kind),
            used=int(used),
            limit=_limit(limit),
            retry_after_s=int(retry_ms) / 1000,
        )

    async def _reserve_retrying(self, *, keys: list[str], args: list[Any]) -> Any:
        """The reserve script, tried again over a short outage (a Redis restart, a timeout
        under load). Safe: a reservation id already recorded is answered as admitted."""
        for wait in (*RESERVE_RETRY_S, None):
            try:
                return await self._reserve_script(keys=keys, args=args)
            except _UNREACHABLE:
                if wait is None:
                    raise
                await asyncio.sleep(wait)
        raise AssertionError("unreachable")

    async def settle(
        self, *, reservation_id: str, actual: int, fallback: Sequence[BucketSpec] = ()
    ) -> SettleResult:
        keys = [
            self._zset,
            self._data,
            f"{self._prefix}done:{reservation_id}",
            *(self._bucket_key(b.key) for b in fallback),
        ]
        windows = sorted({b.window for b in fallback if b.window})
        if windows:
            keys.append(f"{self._prefix}day:{windows[0]}")
        args: list[str | int] = [reservation_id, actual, SETTLED_MEMORY_MS, len(fallback)]
        for spec in fallback:
            args.extend(_bucket_args(spec))
        try:
            status, usages, crossed = await self._settle_script(keys=keys, args=args)
        except RedisError as exc:
            self._unavailable(exc, "settle")
            return SettleResult(status="degraded")
        return SettleResult(
            status=_text(status),  # type: ignore[arg-type]
            buckets={u.key: u for u in self._usages(usages)},
            soft_crossed=self._usages(crossed),
        )

    async def release(
        self, *, reservation_id: str, fallback: Sequence[BucketSpec] = ()
    ) -> SettleResult:
        return await self.settle(reservation_id=reservation_id, actual=0, fallback=fallback)

    async def note_generation(self, *, reservation_id: str, generation_id: str) -> None:
        """One script (one round trip): the id joins the live reservation's record."""
        try:
            await self._note_script(
                keys=[self._zset, self._data], args=[reservation_id, generation_id]
            )
        except RedisError as exc:
            self._raise_unavailable(exc)

    async def rate_hit(self, *, key: str, limit: int, window_s: float) -> tuple[bool, float]:
        try:
            allowed, retry_ms = await self._rate_script(
                keys=[f"{self._prefix}r:{key}"], args=[limit, int(window_s * 1000)]
            )
        except RedisError as exc:
            self._unavailable(exc, "rate_hit")
            return True, 0.0
        return int(allowed) == 1, int(retry_ms) / 1000

    async def usage(self, keys: Sequence[str]) -> dict[str, BucketUsage]:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.hmget(self._bucket_key(key), ["spent", "held", "limit"])
                rows = await pipe.execute()
        except RedisError as exc:
            self._unavailable(exc, "usage")
            rows = [[None, None, None]] * len(keys)
        return {key: self._row_usage(key, row) for key, row in zip(keys, rows, strict=True)}

    async def snapshot_day(self, day: str) -> dict[str, BucketUsage]:
        try:
            members = sorted(
                self._strip(m, "b") for m in await self._redis.smembers(f"{self._prefix}day:{day}")
            )
        except RedisError as exc:
            self._raise_unavailable(exc)  # archiving must see a failure, never an empty day
        return await self.usage(members)

    async def active_reservations(self) -> list[ActiveReservation]:
        try:
            seconds, micros = await self._redis.time()
            now_ms = seconds * 1000 + micros // 1000
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.zrangebyscore(self._zset, now_ms + 1, "+inf", withscores=True)
                pipe.hgetall(self._data)
                live, records = await pipe.execute()
        except RedisError as exc:
            self._raise_unavailable(exc)
        decoded = {_text(k): json.loads(_text(v)) for k, v in records.items()}
        found = []
        for raw_id, expires_ms in live:
            rid = _text(raw_id)
            record = decoded.get(rid)
            if record is None:
                continue
            found.append(
                ActiveReservation(
                    reservation_id=rid,
                    amount=int(record["a"]),
                    bucket_keys=tuple(self._strip(k, "b") for k in record["b"] or []),
                    concurrency_key=self._strip(record["c"], "c") if record["c"] else None,
                    expires_at=float(expires_ms) / 1000,
                )
            )
        return found

    async def drain_expired(self, *, limit: int = 500) -> list[ExpiredReservation]:
        try:
            raw = await self._expired_script(
                keys=[self._zset, self._data, f"{self._prefix}res:expired"], args=[limit]
            )
        except RedisError as exc:
            self._raise_unavailable(exc)
        drained = []
        for entry in raw or []:
            record = json.loads(_text(entry))
            drained.append(
                ExpiredReservation(
                    reservation_id=str(record["id"]),
                    amount=int(record["a"]),
                    note=str(record.get("n") or ""),
                    expired_at=float(record["t"]) / 1000,
                    generation_id=str(record.get("g") or ""),
                )
            )
        return drained

    # -- replies ---------------------------------------------------------------------

    def _usages(self, rows: Sequence[Sequence[Any]]) -> tuple[BucketUsage, ...]:
        return tuple(
            BucketUsage(
                key=self._strip(key, "b"), spent=int(spent), held=int(held), limit=_limit(limit)
            )
            for key, spent, held, limit in rows
        )

    @staticmethod
    def _row_usage(key: str, row: Sequence[Any]) -> BucketUsage:
        spent, held, limit = row
        return BucketUsage(
            key=key,
            spent=int(spent or 0),
            held=int(held or 0),
            limit=None if limit is None else _limit(limit),
        )
