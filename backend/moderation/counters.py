"""Rejection counters: ``moderation:rejected:<category>`` and ``moderation:unavailable`` in
Redis when it is configured (shared by every process), else in this process. A counter that
cannot be written is logged and skipped: counting never fails a request."""

from __future__ import annotations

import threading
from collections import Counter
from functools import cache

import redis
import structlog
from django.conf import settings

logger = structlog.get_logger(__name__)

REJECTED_PREFIX = "moderation:rejected:"
UNAVAILABLE_KEY = "moderation:unavailable"

_lock = threading.Lock()
_local: Counter[str] = Counter()


@cache
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)


def incr(key: str) -> None:
    url = settings.REDIS_URL
    if not url:
        with _lock:
            _local[key] += 1
        return
    try:
        _redis(url).incr(key)
    except redis.RedisError as exc:
        logger.warning("moderation_count_failed", key=key, error=type(exc).__name__)


def read() -> dict[str, int]:
    """Every counter's value, by key."""
    url = settings.REDIS_URL
    if not url:
        with _lock:
            return dict(_local)
    client = _redis(url)
    keys = [*client.scan_iter(match=f"{REJECTED_PREFIX}*", count=500), UNAVAILABLE_KEY]
    values = client.mget(keys)
    return {
        (key.decode() if isinstance(key, bytes) else str(key)): int(value)
        for key, value in zip(keys, values, strict=True)
        if value is not None
    }


def reset_for_tests() -> None:
    with _lock:
        _local.clear()
    url = settings.REDIS_URL
    if url:
        client = _redis(url)
        for key in [*client.scan_iter(match=f"{REJECTED_PREFIX}*"), UNAVAILABLE_KEY]:
            client.delete(key)
