"""keyword_research's YouTube search sample (``agents.tools._search.SamplesSearch``).

For the first ``YOUTUBE_KEYWORD_SAMPLE_SIZE`` keywords of a request: ``search.list``
(order=relevance, type=video; 100 units), ``videos.list`` for the results' views and
dates (1 unit) and ``channels.list`` for their channels' subscriber counts (1 unit),
through the real ``YouTubeClient`` (key rotation; every unit counted per key per
Pacific day by the shared quota counter).

What keeps it cheap and quick, each ending in "not sampled: <why>", never an error:

- the cache: a keyword's sample (results, views, subscriber counts, YouTube's
  result-count estimate) is kept ``YOUTUBE_KEYWORD_CACHE_TTL_S`` per normalised keyword
  in the Django cache (Redis in production), for every client; a hit costs nothing and
  is served whatever the keyword's position;
- caps on searches per Pacific day: per client, per network address (IP hash) and for
  the whole service (``YOUTUBE_KEYWORD_*_DAILY_CAP``), counted before a search and given
  back when the search was not made;
- a time budget (``YOUTUBE_KEYWORD_TIME_BUDGET_S``) for the whole request: every HTTP
  request's timeout is cut to what is left (at most ``YOUTUBE_KEYWORD_REQUEST_TIMEOUT_S``)
  and the client's retry back-off may not sleep past it, so neither the REST endpoint nor
  a chat worker waits on YouTube longer than that;
- a YouTube failure (5xx after retries, every key out of quota, a refusal) stops the
  sampling for the request and says why; the corpus figures stand alone.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import httpx
import structlog
from django.core.cache.backends.base import BaseCache

from agents.analytics.search_competition import SearchResult
from agents.tools._search import KeywordSearch, SearchSampling
from backend.youtube.client import YouTubeApiError, YouTubeClient
from backend.youtube.errors import SearchCapExceeded, UpstreamUnavailable, YouTubeError
from backend.youtube.keys import KeyManager
from backend.youtube.pacific import Clock, utc_now
from backend.youtube.quota import COST_LIST, COST_SEARCH
from backend.youtube.records import parse_count
from backend.youtube.search_limits import SearchCap, normalize_query

logger = structlog.get_logger(__name__)

CACHE_VERSION = 1
GLOBAL_CAP_KEY = "all"
NO_KEYS_NOTE = (
    "YouTube search is not configured (YOUTUBE_API_KEYS is unset): the figures come from "
    "your channels only."
)
NO_KEYS = "not sampled: no YouTube API key is configured"


class TimeBudgetSpent(Exception):
    """The request's time for YouTube is up (raised through the client, never caught by it)."""


class Deadline:
    def __init__(
        self,
        budget_s: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.budget_s = budget_s
        self._monotonic = monotonic
        self._sleep = sleep
        self._end = monotonic() + budget_s

    def remaining(self) -> float:
        return self._end - self._monotonic()

    def sleep(self, seconds: float) -> None:
        """The client's retry back-off, refused when it would end past the deadline."""
        if seconds >= self.remaining():
            raise TimeBudgetSpent
        self._sleep(seconds)


class _DeadlineTransport(httpx.BaseTransport):
    """Cuts each request's timeouts to the time left; none left -> ``TimeBudgetSpent``."""

    def __init__(self, inner: httpx.BaseTransport, *, deadline: Deadline, cap_s: float) -> None:
        self._inner = inner
        self._deadline = deadline
        self._cap_s = cap_s

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        left = self._deadline.remaining()
        if left <= 0:
            raise TimeBudgetSpent
        timeout = min(self._cap_s, left)
        request.extensions["timeout"] = dict.fromkeys(("connect", "read", "write", "pool"), timeout)
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


class _SamplingClient(YouTubeClient):
    """The real client plus the two calls a sample needs; counts the units it spends."""

    units_spent = 0

    def _get(self, resource: str, params: dict[str, Any], *, cost: int) -> dict[str, Any]:
        try:
            data = super()._get(resource, params, cost=cost)
        except YouTubeApiError:
            self.units_spent += cost  # YouTube charges refused requests too
            raise
        self.units_spent += cost
        return data

    def search_page(self, *, q: str, max_results: int) -> tuple[list[str], int | None]:
        """One ``search.list`` page: video ids and ``pageInfo.totalResults`` (an estimate)."""
        params = {
            "part": "snippet",
            "type": "video",
            "order": "relevance",
            "q": q,
            "maxResults": max_results,
        }
        data = self._get("search", params, cost=COST_SEARCH)
        ids = [
            item["id"]["videoId"]
            for item in data.get("items") or []
            if isinstance(item, dict) and (item.get("id") or {}).get("kind") == "youtube#video"
        ]
        total = (data.get("pageInfo") or {}).get("totalResults")
        return ids, total if isinstance(total, int) else None

    def channel_subscribers(self, *, ids: Iterable[str]) -> dict[str, int | None]:
        """Subscriber counts by channel id (``channels.list`` part=statistics, 50 ids a
        call); hidden -> None, channels YouTube did not return are left out."""
        unique = list(dict.fromkeys(ids))
        found: dict[str, int | None] = {}
        for start in range(0, len(unique), 50):
            batch = unique[start : start + 50]
            params = {"part": "statistics", "id": ",".join(batch), "maxResults": 50}
            for item in self._get("channels", params, cost=COST_LIST).get("items") or []:
                stats = item.get("statistics") or {}
                found[str(item.get("id"))] = (
                    None
                    if stats.get("hiddenSubscriberCount")
                    else parse_count(
                        stats.get("subscriberCount"), field="statistics.subscriberCount"
                    )
                )
        return found


@dataclass(frozen=True, kw_only=True)
class SampleSettings:
    sample_size: int = 3
    max_results: int = 25
    client_daily_cap: int = 9
    ip_daily_cap: int = 30
    global_daily_cap: int = 60
    cache_ttl_s: int = 24 * 3600
    time_budget_s: float = 8.0
    request_timeout_s: float = 3.0

    @classmethod
    def from_env(cls, env: Any) -> SampleSettings:
        return cls(
            sample_size=env.YOUTUBE_KEYWORD_SAMPLE_SIZE,
            max_results=env.YOUTUBE_KEYWORD_SAMPLE_RESULTS,
            client_daily_cap=env.YOUTUBE_KEYWORD_CLIENT_DAILY_CAP,
            ip_daily_cap=env.YOUTUBE_KEYWORD_IP_DAILY_CAP,
            global_daily_cap=env.YOUTUBE_KEYWORD_GLOBAL_DAILY_CAP,
            cache_ttl_s=env.YOUTUBE_KEYWORD_CACHE_TTL_S,
            time_budget_s=env.YOUTUBE_KEYWORD_TIME_BUDGET_S,
            request_timeout_s=env.YOUTUBE_KEYWORD_REQUEST_TIMEOUT_S,
        )


@dataclass(frozen=True, kw_only=True)
class SearchCaps:
    """Daily search caps; each a ``SearchCap`` keyed by client id, IP hash or one key."""

    per_client: SearchCap
    per_ip: SearchCap
    whole_service: SearchCap


class _Stop(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _cap_reason(exc: SearchCapExceeded, scope: str) -> str:
    return (
        f"not sampled: daily cap of {exc.limit} YouTube keyword searches {scope} reached "
        f"(new searches after {exc.resets_at:%Y-%m-%d %H:%M} UTC)"
    )


def _not_sampled(keywords: Iterable[str], reason: str) -> dict[str, KeywordSearch]:
    return {k: KeywordSearch(keyword=k, sampled=False, reason=reason) for k in keywords}


def _as_cached(search: KeywordSearch) -> dict[str, Any]:
    return {
        "v": CACHE_VERSION,
        "total_results": search.total_results,
        "observed_at": search.observed_at.isoformat() if search.observed_at else None,
        "results": [
            {
                "video_id": r.video_id,
                "channel_id": r.channel_id,
                "views": r.views,
                "published_at": r.published_at.isoformat(),
                "channel_subscribers": r.channel_subscribers,
            }
            for r in search.results
        ],
    }


def _from_cached(keyword: str, raw: Any) -> KeywordSearch | None:
    if not isinstance(raw, dict) or raw.get("v") != CACHE_VERSION:
        return None
    try:
        return KeywordSearch(
            keyword=keyword,
            sampled=True,
            total_results=raw["total_results"],
            observed_at=datetime.fromisoformat(raw["observed_at"]) if raw["observed_at"] else None,
            from_cache=True,
            results=tuple(
                SearchResult(
                    video_id=r["video_id"],
                    channel_id=r["channel_id"],
                    views=r["views"],
                    published_at=datetime.fromisoformat(r["published_at"]),
                    channel_subscribers=r["channel_subscribers"],
                )
                for r in raw["results"]
            ),
        )
    except (KeyError, TypeError, ValueError):
        return None


class SearchSampler:
    def __init__(
        self,
        *,
        keys: KeyManager | None,
        base_url: str,
        settings: SampleSettings,
        caps: SearchCaps,
        cache: BaseCache,
        key_prefix: str = "youtube:keyword-sample",
        clock: Clock = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        transport: Callable[[], httpx.BaseTransport] = httpx.HTTPTransport,
    ) -> None:
        self.settings = settings
        self._keys = keys
        self._base_url = base_url
        self._caps = caps
        self._cache = cache
        self._prefix = key_prefix
        self._clock = clock
        self._monotonic = monotonic
        self._sleep = sleep
        self._transport = transport

    def cache_key(self, keyword: str) -> str:
        digest = hashlib.sha256(normalize_query(keyword).encode("utf-8")).hexdigest()
        return f"{self._prefix}:{digest}"

    def _result(self, **fields: Any) -> SearchSampling:
        return SearchSampling(
            sample_size=self.settings.sample_size,
            max_results=self.settings.max_results,
            **fields,
        )

    def _cached(self, keywords: list[str]) -> dict[str, Any]:
        try:
            return self._cache.get_many([self.cache_key(k) for k in keywords])
        except Exception:  # a cache outage only costs the hits
            logger.warning("keyword_sample_cache_unreadable", exc_info=True)
            return {}

    def _remember(self, search: KeywordSearch) -> None:
        try:
            self._cache.set(
                self.cache_key(search.keyword), _as_cached(search), self.settings.cache_ttl_s
            )
        except Exception:
            logger.warning("keyword_sample_cache_unwritable", exc_info=True)

    def sample(
        self, keywords: Sequence[str], *, client_id: str, ip_hash: str | None
    ) -> SearchSampling:
        """One entry per keyword (module docstring); blocking, bounded by the budget."""
        wanted = list(dict.fromkeys(k for k in keywords if normalize_query(k)))
        if self._keys is None:
            return self._result(
                available=False,
                note=NO_KEYS_NOTE,
                searches=_not_sampled(wanted, NO_KEYS),
            )
        cached = self._cached(wanted)
        deadline = Deadline(
            self.settings.time_budget_s, monotonic=self._monotonic, sleep=self._sleep
        )
        http = httpx.Client(
            transport=_DeadlineTransport(
                self._transport(), deadline=deadline, cap_s=self.settings.request_timeout_s
            ),
            timeout=self.settings.request_timeout_s,
        )
        client = _SamplingClient(
            keys=self._keys, base_url=self._base_url, http=http, sleep=deadline.sleep
        )
        searches: dict[str, KeywordSearch] = {}
        stop: str | None = None
        made = 0
        try:
            for position, keyword in enumerate(wanted):
                hit = _from_cached(keyword, cached.get(self.cache_key(keyword)))
                if hit is not None:
                    searches[keyword] = hit
                    continue
                reason = stop
                if self.settings.sample_size == 0:
                    reason = "not sampled: YouTube keyword search is off (sample size 0)"
                elif position >= self.settings.sample_size:
                    reason = (
                        f"not sampled: only the top {self.settings.sample_size} keywords are "
                        "searched on YouTube per request"
                    )
                if reason is None:
                    try:
                        searches[keyword] = self._search(
                            client, deadline, keyword, client_id=client_id, ip_hash=ip_hash
                        )
                        made += 1
                        continue
                    except _Stop as exc:
                        stop = reason = exc.reason
                searches[keyword] = KeywordSearch(keyword=keyword, sampled=False, reason=reason)
        finally:
            http.close()
        if stop is not None:
            logger.info("keyword_sample_stopped", reason=stop, client_id=client_id)
        return self._result(
            available=True,
            note=None,
            searches=searches,
            units_spent=client.units_spent,
            searches_made=made,
        )

    def _take_caps(self, *, client_id: str, ip_hash: str | None) -> list[tuple[SearchCap, str]]:
        scopes: list[tuple[SearchCap, str, str]] = [
            (self._caps.per_client, client_id, "per client"),
            (self._caps.whole_service, GLOBAL_CAP_KEY, "for the whole service"),
        ]
        if ip_hash:
            scopes.insert(1, (self._caps.per_ip, ip_hash, "per network address"))
        taken: list[tuple[SearchCap, str]] = []
        for cap, key, scope in scopes:
            try:
                cap.take(client_id=key)
            except SearchCapExceeded as exc:
                self._give_back(taken)
                raise _Stop(_cap_reason(exc, scope)) from None
            taken.append((cap, key))
        return taken

    @staticmethod
    def _give_back(taken: list[tuple[SearchCap, str]]) -> None:
        for cap, key in taken:
            cap.give_back(client_id=key)

    def _search(
        self,
        client: _SamplingClient,
        deadline: Deadline,
        keyword: str,
        *,
        client_id: str,
        ip_hash: str | None,
    ) -> KeywordSearch:
        budget = f"not sampled: time budget ({self.settings.time_budget_s:g} s) spent"
        if deadline.remaining() <= 0:
            raise _Stop(budget)
        taken = self._take_caps(client_id=client_id, ip_hash=ip_hash)
        searched = False
        try:
            ids, total = client.search_page(
                q=normalize_query(keyword), max_results=self.settings.max_results
            )
            searched = True
            videos = client.videos(ids=ids)
            subscribers = client.channel_subscribers(ids=(v.channel_id for v in videos))
        except TimeBudgetSpent:
            if not searched:
                self._give_back(taken)
            raise _Stop(budget) from None
        except UpstreamUnavailable as exc:
            if not searched:
                self._give_back(taken)
            detail = exc.details.get("reason") or exc.message
            raise _Stop(f"not sampled: YouTube is unavailable ({detail})") from None
        except YouTubeError as exc:
            if not searched:
                self._give_back(taken)
            raise _Stop(f"not sampled: {exc.message}") from None
        search = KeywordSearch(
            keyword=keyword,
            sampled=True,
            total_results=total,
            observed_at=self._clock(),
            results=tuple(
                SearchResult(
                    video_id=v.video_id,
                    channel_id=v.channel_id,
                    views=v.views,
                    published_at=v.published_at,
                    channel_subscribers=subscribers.get(v.channel_id),
                )
                for v in videos
            ),
        )
        self._remember(search)
        return search

    async def asample(
        self, keywords: Sequence[str], *, client_id: str, ip_hash: str | None
    ) -> SearchSampling:
        """``sample`` on a thread, awaited at most the budget plus a second: should a read
        outlast its timeout, the request still goes on (the thread finishes and caches)."""
        wanted = list(dict.fromkeys(keywords))
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(self.sample, wanted, client_id=client_id, ip_hash=ip_hash),
                timeout=self.settings.time_budget_s + 1.0,
            )
        except TimeoutError:
            reason = f"not sampled: time budget ({self.settings.time_budget_s:g} s) spent"
            return self._result(
                available=True,
                note="YouTube did not answer within the time budget.",
                searches=_not_sampled(wanted, reason),
            )


def _caps_from_settings(settings: SampleSettings, redis_url: str | None) -> SearchCaps:
    from backend.youtube.search_limits import InMemorySearchCap, RedisSearchCap

    limits = {
        "client": settings.client_daily_cap,
        "ip": settings.ip_daily_cap,
        "global": settings.global_daily_cap,
    }
    caps: dict[str, SearchCap]
    if redis_url:
        import redis

        connection = redis.Redis.from_url(redis_url)
        caps = {
            name: RedisSearchCap(
                redis_client=connection, limit=limit, key_prefix=f"youtube:keyword-cap:{name}"
            )
            for name, limit in limits.items()
        }
    else:
        caps = {name: InMemorySearchCap(limit=limit) for name, limit in limits.items()}
    return SearchCaps(per_client=caps["client"], per_ip=caps["ip"], whole_service=caps["global"])


@cache
def search_sampler() -> SearchSampler:
    """The process's sampler, from Django settings (``sample.env``: YOUTUBE_KEYWORD_*)."""
    from django.conf import settings
    from django.core.cache import caches

    from backend.youtube.quota import InMemoryQuotaCounter, QuotaCounter, RedisQuotaCounter

    env = settings.ENV
    sample_settings = SampleSettings.from_env(env)
    keys = [key.strip() for key in env.YOUTUBE_API_KEYS if key.strip()]
    manager = None
    if keys:
        quota: QuotaCounter
        if settings.REDIS_URL:
            import redis

            # The counter the process's other YouTube client uses: one count per key.
            quota = RedisQuotaCounter(redis_client=redis.Redis.from_url(settings.REDIS_URL))
        else:
            quota = InMemoryQuotaCounter()
        manager = KeyManager(keys, quota)
    return SearchSampler(
        keys=manager,
        base_url=env.YOUTUBE_API_BASE_URL,
        settings=sample_settings,
        caps=_caps_from_settings(sample_settings, settings.REDIS_URL),
        cache=caches["default"],
    )


__all__ = [
    "Deadline",
    "SampleSettings",
    "SearchCaps",
    "SearchSampler",
    "TimeBudgetSpent",
    "search_sampler",
]
