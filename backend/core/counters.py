"""Counters that every process adds to and the metrics endpoint reads (``backend.ops``):
only for what no table records, such as the guard's refusals by reason.

One Redis hash (``HINCRBY``, one round trip), so web and worker processes share each
count; in this process when embedded (one process does everything there). Best effort: a
count that cannot be written is logged and dropped, never raised to the code it counts.
"""

from __future__ import annotations

import asyncio
import json
import threading
import weakref
from collections import Counter

import redis
import redis.asyncio as aioredis
import structlog
from django.conf import settings

logger = structlog.get_logger(__name__)

COUNTERS_KEY = "insightstream:metrics:counters"
# A counter must never hold up what it counts: a Redis that does not answer in this
# long loses the count.
TIMEOUT_S = 0.5

Labels = tuple[tuple[str, str], ...]

_local: Counter[str] = Counter()
_local_lock = threading.Lock()
_sync_clients: dict[str, redis.Redis] = {}
_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = (
    weakref.WeakKeyDictionary()
)


def _field(name: str, labels: dict[str, str] | None) -> str:
    return json.dumps([name, sorted((labels or {}).items())], separators=(",", ":"))


def _sync_client(url: str) -> redis.Redis:
    client = _sync_clients.get(url)
    if client is None:
        client = _sync_clients[url] = redis.Redis.from_url(
            url, socket_connect_timeout=TIMEOUT_S, socket_timeout=TIMEOUT_S
        )
    return client


def counter_add(name: str, labels: dict[str, str] | None = None, amount: int = 1) -> None:
    """Add ``amount`` to the counter ``name`` with ``labels`` (a few fixed values each)."""
    field = _field(name, labels)
    url = settings.REDIS_URL
    if not url:
        with _local_lock:
            _local[field] += amount
        return
    try:
        _sync_client(url).hincrby(COUNTERS_KEY, field, amount)
    except redis.RedisError as exc:
        logger.warning("counter_not_recorded", counter=name, error=str(exc))


async def acounter_add(name: str, labels: dict[str, str] | None = None, amount: int = 1) -> None:
    """``counter_add`` from async code, on the running loop's own connection."""
    url = settings.REDIS_URL
    if not url:
        counter_add(name, labels, amount)
        return
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        client = _async_clients[loop] = aioredis.Redis.from_url(
            url, socket_connect_timeout=TIMEOUT_S, socket_timeout=TIMEOUT_S
        )
    try:
        await client.hincrby(COUNTERS_KEY, _field(name, labels), amount)
    except redis.RedisError as exc:
        logger.warning("counter_not_recorded", counter=name, error=str(exc))


def counters_read() -> dict[tuple[str, Labels], int]:
    """Every counter's value, by name and labels (raises ``RedisError`` when unreachable)."""
    url = settings.REDIS_URL
    if url:
        raw = _sync_client(url).hgetall(COUNTERS_KEY)
        items = [(_text(field), int(value)) for field, value in raw.items()]
    else:
        with _local_lock:
            items = list(_local.items())
    found: dict[tuple[str, Labels], int] = {}
    for field, value in items:
        try:
            name, labels = json.loads(field)
        except ValueError:
            continue
        found[(str(name), tuple((str(k), str(v)) for k, v in labels))] = value
    return found


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def reset_for_tests() -> None:
    with _local_lock:
        _local.clear()
    url = settings.REDIS_URL
    if url:
        _sync_client(url).delete(COUNTERS_KEY)
