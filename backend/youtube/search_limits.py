"""Keeping ``search.list`` (100 quota units a call) rare: a result cache and a daily cap.

The cache holds the ids of one full page of results (50) per normalised query, so the
same question in other words of case or spacing, or with a smaller ``max_results``, is
answered without another search call. Statistics are not cached: the client refreshes
them with ``videos.list`` (1 unit), so cached searches still show current numbers.

The cap counts real ``search.list`` calls per client per Pacific day (cache hits are
free) and raises ``SearchCapExceeded`` naming the limit. The same caps, keyed by a
network address hash or by one global key instead of a client id, bound keyword
research's search sample (``backend/channels/search_sample.py``); ``give_back`` returns
a search that was counted but not made (another cap refused it, or YouTube failed).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import unicodedata
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Protocol

import redis

from backend.youtube.errors import SearchCapExceeded
from backend.youtube.pacific import Clock, next_pacific_midnight, pacific_day, utc_now

DEFAULT_SEARCH_TTL_S = 6 * 3600
DEFAULT_SEARCH_CAP = 20
_WHITESPACE = re.compile(r"\s+")


def normalize_query(q: str) -> str:
    """The cache key: NFKC, case-folded, whitespace collapsed."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", q)).strip().casefold()


class SearchCache(Protocol):
    def get(self, query: str) -> list[str] | None:
        """Cached video ids for a normalised query, or None."""
        ...

    def put(self, query: str, video_ids: list[str]) -> None: ...


class InMemorySearchCache:
    def __init__(
        self,
        *,
        ttl_s: float = DEFAULT_SEARCH_TTL_S,
        max_entries: int = 1024,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._monotonic = monotonic
        self._entries: dict[str, tuple[float, list[str]]] = {}
        self._lock = threading.Lock()

    def get(self, query: str) -> list[str] | None:
        with self._lock:
            entry = self._entries.get(query)
            if entry is None:
                return None
            if entry[0] <= self._monotonic():
                del self._entries[query]
                return None
            return list(entry[1])

    def put(self, query: str, video_ids: list[str]) -> None:
        with self._lock:
            now = self._monotonic()
            if len(self._entries) >= self._max_entries:
                for stale in [q for q, (exp, _) in self._entries.items() if exp <= now]:
                    del self._entries[stale]
            while len(self._entries) >= self._max_entries:  # oldest insertion goes first
                del self._entries[next(iter(self._entries))]
            self._entries[query] = (now + self._ttl_s, list(video_ids))


class RedisSearchCache:
    def __init__(
        self,
        *,
        redis_client: redis.Redis,
        ttl_s: int = DEFAULT_SEARCH_TTL_S,
        key_prefix: str = "youtube:search",
    ) -> None:
        self._redis = redis_client
        self._ttl_s = ttl_s
        self._prefix = key_prefix

    def redis_key(self, query: str) -> str:
        # Hashed so any query gives a short, safe key.
        return f"{self._prefix}:{hashlib.sha256(query.encode('utf-8')).hexdigest()}"

    def get(self, query: str) -> list[str] | None:
        raw = self._redis.get(self.redis_key(query))
        if raw is None:
            return None
        value = json.loads(raw)  # type: ignore[arg-type]
        return [str(v) for v in value] if isinstance(value, list) else None

    def put(self, query: str, video_ids: list[str]) -> None:
        self._redis.set(self.redis_key(query), json.dumps(video_ids), ex=self._ttl_s)


class SearchCap(Protocol):
    def take(self, *, client_id: str) -> None:
        """Count one search for the client today; raise ``SearchCapExceeded`` when over."""
        ...

    def give_back(self, *, client_id: str) -> None:
        """Uncount one search taken today that was not made."""
        ...


class InMemorySearchCap:
    def __init__(self, *, limit: int = DEFAULT_SEARCH_CAP, clock: Clock = utc_now) -> None:
        self.limit = limit
        self._clock = clock
        self._counts: dict[tuple[str, date], int] = {}
        self._lock = threading.Lock()

    def take(self, *, client_id: str) -> None:
        now = self._clock()
        day = pacific_day(now)
        with self._lock:
            for stale in [k for k in self._counts if k[1] != day]:
                del self._counts[stale]
            used = self._counts.get((client_id, day), 0)
            if used >= self.limit:
                raise SearchCapExceeded(limit=self.limit, resets_at=next_pacific_midnight(now))
            self._counts[(client_id, day)] = used + 1

    def give_back(self, *, client_id: str) -> None:
        day = pacific_day(self._clock())
        with self._lock:
            used = self._counts.get((client_id, day), 0)
            if used > 0:
                self._counts[(client_id, day)] = used - 1

    def used(self, *, client_id: str) -> int:
        with self._lock:
            return self._counts.get((client_id, pacific_day(self._clock())), 0)


class RedisSearchCap:
    """``INCR`` per search; a refused attempt is given back so the count stays exact."""

    def __init__(
        self,
        *,
        redis_client: redis.Redis,
        limit: int = DEFAULT_SEARCH_CAP,
        clock: Clock = utc_now,
        key_prefix: str = "youtube:search-cap",
        grace: timedelta = timedelta(hours=1),
    ) -> None:
        self.limit = limit
        self._redis = redis_client
        self._clock = clock
        self._prefix = key_prefix
        self._grace = grace

    def redis_key(self, *, client_id: str, day: date) -> str:
        return f"{self._prefix}:{day.isoformat()}:{client_id}"

    def take(self, *, client_id: str) -> None:
        now = self._clock()
        resets_at = next_pacific_midnight(now)
        name = self.redis_key(client_id=client_id, day=pacific_day(now))
        pipe = self._redis.pipeline(transaction=True)
        pipe.incr(name)
        pipe.expireat(name, resets_at + self._grace)
        count, _ = pipe.execute()
        if int(count) > self.limit:
            self._redis.decr(name)
            raise SearchCapExceeded(limit=self.limit, resets_at=resets_at)

    def give_back(self, *, client_id: str) -> None:
        name = self.redis_key(client_id=client_id, day=pacific_day(self._clock()))
        # Never below zero: a give-back after the day's key expired is a no-op.
        self._redis.eval(
            "if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then "
            "return redis.call('DECR', KEYS[1]) end return 0",
            1,
            name,
        )

    def used(self, *, client_id: str, now: datetime | None = None) -> int:
        day = pacific_day(now or self._clock())
        raw = self._redis.get(self.redis_key(client_id=client_id, day=day))
        return int(raw) if raw is not None else 0  # type: ignore[arg-type]


__all__ = [
    "InMemorySearchCache",
    "InMemorySearchCap",
    "RedisSearchCache",
    "RedisSearchCap",
    "SearchCache",
    "SearchCap",
    "normalize_query",
]
