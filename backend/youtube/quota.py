"""Quota units spent per API key per Pacific day.

YouTube gives each API project a daily unit budget (10,000 by default) and charges
each request by method, whatever it returns: list calls 1 unit, ``search.list`` 100.
Keys are never stored: counters are keyed by ``key_fingerprint`` (a SHA-256 prefix), so
Redis and logs never hold a usable secret.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import date, datetime, timedelta
from typing import Protocol

import redis

from backend.youtube.pacific import PACIFIC

# Documented costs (developers.google.com/youtube/v3/determine_quota_cost).
COST_LIST = 1
COST_SEARCH = 100
DEFAULT_GRACE = timedelta(hours=6)


def key_fingerprint(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()[:16]


class QuotaCounter(Protocol):
    def add(self, *, key_id: str, day: date, units: int) -> int:
        """Add ``units`` to the key's count for ``day``; returns the new total."""
        ...

    def used(self, *, key_id: str, day: date) -> int: ...


class InMemoryQuotaCounter:
    """Per-process counts (the embedded default and tests). Old days are dropped."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, date], int] = {}
        self._lock = threading.Lock()

    def add(self, *, key_id: str, day: date, units: int) -> int:
        with self._lock:
            for stale in [k for k in self._counts if k[1] < day - timedelta(days=1)]:
                del self._counts[stale]
            total = self._counts.get((key_id, day), 0) + units
            self._counts[(key_id, day)] = total
            return total

    def used(self, *, key_id: str, day: date) -> int:
        with self._lock:
            return self._counts.get((key_id, day), 0)


class RedisQuotaCounter:
    """Counts shared by every process: one ``INCRBY`` per request.

    A day's key expires ``grace`` after that Pacific day ends, so a count stays readable
    for a late look (e.g. an admin report) and then cleans itself up.
    """

    def __init__(
        self,
        *,
        redis_client: redis.Redis,
        key_prefix: str = "youtube:quota",
        grace: timedelta = DEFAULT_GRACE,
    ) -> None:
        self._redis = redis_client
        self._prefix = key_prefix
        self._grace = grace

    def redis_key(self, *, key_id: str, day: date) -> str:
        return f"{self._prefix}:{day.isoformat()}:{key_id}"

    def expires_at(self, day: date) -> datetime:
        next_day = day + timedelta(days=1)
        end = datetime(next_day.year, next_day.month, next_day.day, tzinfo=PACIFIC)
        return end + self._grace

    def add(self, *, key_id: str, day: date, units: int) -> int:
        name = self.redis_key(key_id=key_id, day=day)
        pipe = self._redis.pipeline(transaction=True)
        pipe.incrby(name, units)
        pipe.expireat(name, self.expires_at(day))
        total, _ = pipe.execute()
        return int(total)

    def used(self, *, key_id: str, day: date) -> int:
        value = self._redis.get(self.redis_key(key_id=key_id, day=day))
        return int(value) if value is not None else 0  # type: ignore[arg-type]


__all__ = [
    "COST_LIST",
    "COST_SEARCH",
    "InMemoryQuotaCounter",
    "QuotaCounter",
    "RedisQuotaCounter",
    "key_fingerprint",
]
