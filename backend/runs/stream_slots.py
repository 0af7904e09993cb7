"""At most ``SSE_MAX_STREAMS_PER_CLIENT`` streams open per client at once.

Each open stream holds a slot on a lease (``SLOT_TTL_S``), renewed as the stream writes (it
writes at least a ping every 15 s) and given back when the response ends, however it ends
(a finished run, the client going away, an error). A slot of a process that died lapses
with its lease. Counted in Redis when configured, so every web process shares the count;
in this process otherwise (embedded). Every open slot is also held, on the same lease, in
one set for the whole service, so ``/metrics`` counts open streams with one command.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import redis
import redis.asyncio as aioredis
import structlog
from asgiref.sync import sync_to_async
from django.conf import settings
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from backend.core.counters import acounter_add
from backend.core.db import release_connections
from backend.core.errors import RateLimitedError

logger = structlog.get_logger(__name__)

SLOT_TTL_S = 60.0
RENEW_EVERY_S = 15.0
RETRY_AFTER_S = 5.0
# Every open stream of the service (member = slot, score = when its lease ends), apart from
# the per-client sets: its own key, so no script touches two clients' keys at once.
OPEN_STREAMS_KEY = "insightstream:streams:open"
# Counted each time a stream is refused at the per-client limit (``backend.core.counters``).
STREAMS_REFUSED_COUNTER = "sse_streams_refused"


class SlotStore(Protocol):
    async def acquire(self, *, client_id: str, slot_id: str, limit: int) -> bool:
        """Take a slot unless ``limit`` live ones are held; lapsed ones do not count."""
        ...

    async def renew(self, *, client_id: str, slot_id: str) -> None: ...

    async def release(self, *, client_id: str, slot_id: str) -> None: ...

    def open_streams(self) -> int:
        """Slots held now across every client (lapsed ones do not count)."""
        ...


_NOW_MS = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
"""
_ACQUIRE = (
    _NOW_MS
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], now_ms + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""
)
_RENEW = (
    _NOW_MS
    + """
redis.call('ZADD', KEYS[1], now_ms + tonumber(ARGV[1]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
"""
)
_COUNT_LIVE = (
    _NOW_MS
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms)
return redis.call('ZCARD', KEYS[1])
"""
)


class RedisSlotStore:
    """A sorted set per client: member = slot, score = when its lease ends (Redis time)."""

    def __init__(self, *, url: str, ttl_s: float = SLOT_TTL_S) -> None:
        self._url = url
        self._ttl_ms = int(ttl_s * 1000)
        # redis.asyncio connections belong to the loop that opened them.
        self._clients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[aioredis.Redis, AsyncScript, AsyncScript]
        ] = weakref.WeakKeyDictionary()
        self._sync: redis.Redis | None = None

    @staticmethod
    def _key(client_id: str) -> str:
        return f"insightstream:streams:{{{client_id}}}"

    def _client(self) -> tuple[aioredis.Redis, AsyncScript, AsyncScript]:
        loop = asyncio.get_running_loop()
        found = self._clients.get(loop)
        if found is None:
            # Short commands: a burst of stream opens waits for a connection (up to 5 s)
            # rather than failing as redis-py's plain pool does past its 100.
            pool = aioredis.BlockingConnectionPool.from_url(
                self._url, max_connections=50, timeout=5, socket_connect_timeout=2, socket_timeout=5
            )
            client = aioredis.Redis(connection_pool=pool)
            found = self._clients[loop] = (
                client,
                client.register_script(_ACQUIRE),
                client.register_script(_RENEW),
            )
        return found

    async def acquire(self, *, client_id: str, slot_id: str, limit: int) -> bool:
        _client, acquire, renew = self._client()
        taken = await acquire(keys=[self._key(client_id)], args=[limit, self._ttl_ms, slot_id])
        if int(taken):
            await renew(keys=[OPEN_STREAMS_KEY], args=[self._ttl_ms, slot_id])
        return bool(int(taken))

    async def renew(self, *, client_id: str, slot_id: str) -> None:
        client, _acquire, renew = self._client()
        async with client.pipeline(transaction=False) as pipe:
            await renew(keys=[self._key(client_id)], args=[self._ttl_ms, slot_id], client=pipe)
            await renew(keys=[OPEN_STREAMS_KEY], args=[self._ttl_ms, slot_id], client=pipe)
            await pipe.execute()

    async def release(self, *, client_id: str, slot_id: str) -> None:
        client, _acquire, _renew = self._client()
        async with client.pipeline(transaction=False) as pipe:
            pipe.zrem(self._key(client_id), slot_id)
            pipe.zrem(OPEN_STREAMS_KEY, slot_id)
            await pipe.execute()

    def open_streams(self) -> int:
        if self._sync is None:
            self._sync = redis.Redis.from_url(self._url, socket_connect_timeout=2, socket_timeout=5)
        return int(self._sync.eval(_COUNT_LIVE, 1, OPEN_STREAMS_KEY))  # type: ignore[arg-type]


class MemorySlotStore:
    def __init__(self, *, ttl_s: float = SLOT_TTL_S) -> None:
        self._ttl_s = ttl_s
        self._held: dict[str, dict[str, float]] = {}
        self._lock = threading.Lock()

    async def acquire(self, *, client_id: str, slot_id: str, limit: int) -> bool:
        now = time.monotonic()
        with self._lock:
            held = self._held.setdefault(client_id, {})
            for lapsed in [slot for slot, until in held.items() if until <= now]:
                del held[lapsed]
            if len(held) >= limit:
                return False
            held[slot_id] = now + self._ttl_s
            return True

    async def renew(self, *, client_id: str, slot_id: str) -> None:
        with self._lock:
            self._held.setdefault(client_id, {})[slot_id] = time.monotonic() + self._ttl_s

    async def release(self, *, client_id: str, slot_id: str) -> None:
        with self._lock:
            held = self._held.get(client_id, {})
            held.pop(slot_id, None)
            if not held:
                self._held.pop(client_id, None)

    def open_streams(self) -> int:
        now = time.monotonic()
        with self._lock:
            return sum(until > now for held in self._held.values() for until in held.values())


_store: SlotStore | None = None
_store_url: str | None = None
_lock = threading.Lock()


def get_slot_store() -> SlotStore:
    global _store, _store_url
    with _lock:
        url = settings.REDIS_URL
        if _store is None or url != _store_url:
            _store = RedisSlotStore(url=url) if url else MemorySlotStore()
            _store_url = url
        return _store


def reset_for_tests() -> None:
    global _store
    with _lock:
        _store = None


@dataclass
class Slot:
    client_id: str
    slot_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    renewed_at: float = field(default_factory=time.monotonic)


async def slot_open(*, client_id: str) -> Slot:
    """One more open stream for the client, or 429 ``RATE_LIMITED`` at the limit.

    A Redis failure lets the stream open (the limit is protection, not accounting).
    """
    limit = settings.SSE_MAX_STREAMS_PER_CLIENT
    slot = Slot(client_id=client_id)
    try:
        taken = await get_slot_store().acquire(
            client_id=client_id, slot_id=slot.slot_id, limit=limit
        )
    except RedisError as exc:
        logger.warning("stream_slot_unavailable", error=str(exc))
        return slot
    if not taken:
        await acounter_add(STREAMS_REFUSED_COUNTER)
        raise RateLimitedError(
            f"This client already has {limit} streams open; close one and try again.",
            retry_after_s=RETRY_AFTER_S,
            details={"limit": limit, "scope": "open_streams"},
        )
    return slot


async def slot_close(slot: Slot) -> None:
    try:
        await get_slot_store().release(client_id=slot.client_id, slot_id=slot.slot_id)
    except RedisError as exc:  # the lease lapses on its own
        logger.warning("stream_slot_release_failed", error=str(exc))


async def held(body: AsyncIterator[bytes], slot: Slot | None) -> AsyncIterator[bytes]:
    """``body``, holding ``slot`` while it streams and giving it back when it ends.

    First the request thread's database connection (if a lookup left one) goes back to
    the pool: otherwise it would stay checked out until the stream ends.
    """
    try:
        await sync_to_async(release_connections)()
        async for chunk in body:
            yield chunk
            if slot is not None and time.monotonic() - slot.renewed_at >= RENEW_EVERY_S:
                slot.renewed_at = time.monotonic()
                try:
                    await get_slot_store().renew(client_id=slot.client_id, slot_id=slot.slot_id)
                except RedisError as exc:
                    logger.warning("stream_slot_renew_failed", error=str(exc))
    finally:
        await _close_quietly(body)
        if slot is not None:
            await slot_close(slot)


async def _close_quietly(body: Any) -> None:
    aclose = getattr(body, "aclose", None)
    if aclose is not None:
        await aclose()
