"""The process's YouTube client, built once from Django settings.

Settings (``sample.env``): ``YOUTUBE_API_KEYS``, ``YOUTUBE_API_BASE_URL``,
``YOUTUBE_SEARCH_DAILY_CAP``, ``YOUTUBE_SEARCH_CACHE_TTL_S`` and ``REDIS_URL``. With
Redis, quota counts, the search cache and the search cap are shared by all processes;
without it (the embedded default) they live in this process.
"""

from __future__ import annotations

from functools import cache

import redis
from django.conf import settings

from backend.youtube.client import YouTubeClient
from backend.youtube.keys import KeyManager
from backend.youtube.quota import InMemoryQuotaCounter, QuotaCounter, RedisQuotaCounter
from backend.youtube.search_limits import (
    InMemorySearchCache,
    InMemorySearchCap,
    RedisSearchCache,
    RedisSearchCap,
    SearchCache,
    SearchCap,
)


def _api_keys() -> list[str]:
    return [key.strip() for key in settings.ENV.YOUTUBE_API_KEYS if key.strip()]


@cache
def youtube_client() -> YouTubeClient:
    redis_url = settings.REDIS_URL
    cap_limit = settings.ENV.YOUTUBE_SEARCH_DAILY_CAP
    ttl_s = settings.ENV.YOUTUBE_SEARCH_CACHE_TTL_S
    quota: QuotaCounter
    search_cache: SearchCache
    search_cap: SearchCap
    if redis_url:
        connection = redis.Redis.from_url(redis_url)
        quota = RedisQuotaCounter(redis_client=connection)
        search_cache = RedisSearchCache(redis_client=connection, ttl_s=ttl_s)
        search_cap = RedisSearchCap(redis_client=connection, limit=cap_limit)
    else:
        quota = InMemoryQuotaCounter()
        search_cache = InMemorySearchCache(ttl_s=ttl_s)
        search_cap = InMemorySearchCap(limit=cap_limit)
    return YouTubeClient(
        keys=KeyManager(_api_keys(), quota),
        base_url=settings.ENV.YOUTUBE_API_BASE_URL,
        search_cache=search_cache,
        search_cap=search_cap,
    )


__all__ = ["youtube_client"]
