"""The per-client limit on open streams: slots are taken, given back however a stream
ends, and lapse on their own when the process holding them died."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from django.conf import settings

from backend.core.errors import RateLimitedError
from backend.runs import stream_slots
from backend.runs.stream_slots import MemorySlotStore, RedisSlotStore, held, slot_open


def _store(kind: str):
    if kind == "redis":
        return RedisSlotStore(url=settings.REDIS_URL)
    return MemorySlotStore()


STORES = [
    pytest.param("memory", id="memory"),
    pytest.param("redis", id="redis", marks=pytest.mark.redis),
]


@pytest.mark.parametrize("kind", STORES)
async def test_a_client_holds_at_most_the_limit_and_a_release_frees_one(kind):
    store = _store(kind)
    client, other = uuid.uuid4().hex, uuid.uuid4().hex
    slots = [uuid.uuid4().hex for _ in range(3)]
    assert [await store.acquire(client_id=client, slot_id=s, limit=3) for s in slots] == [
        True,
        True,
        True,
    ]
    assert not await store.acquire(client_id=client, slot_id="one-more", limit=3)
    assert await store.acquire(client_id=other, slot_id="theirs", limit=3)  # per client
    await store.release(client_id=client, slot_id=slots[0])
    assert await store.acquire(client_id=client, slot_id="now-fits", limit=3)
    assert not await store.acquire(client_id=client, slot_id="full-again", limit=3)


async def test_memory_slots_of_a_stream_that_never_ended_lapse():
    store = MemorySlotStore(ttl_s=0.05)
    client = uuid.uuid4().hex
    assert await store.acquire(client_id=client, slot_id="a", limit=1)
    assert not await store.acquire(client_id=client, slot_id="b", limit=1)
    await asyncio.sleep(0.1)  # nobody renewed "a": its holder is gone
    assert await store.acquire(client_id=client, slot_id="b", limit=1)


@pytest.mark.redis
async def test_redis_slots_of_a_dead_process_lapse_and_the_key_expires():
    import redis.asyncio as aioredis

    store = RedisSlotStore(url=settings.REDIS_URL)
    client = uuid.uuid4().hex
    key = f"insightstream:streams:{{{client}}}"
    for slot in ("a", "b"):
        assert await store.acquire(client_id=client, slot_id=slot, limit=2)
    assert not await store.acquire(client_id=client, slot_id="c", limit=2)
    raw = aioredis.Redis.from_url(settings.REDIS_URL)
    try:
        # The whole count goes with its lease even if no one comes back to clean it up.
        ttl_ms = await raw.pttl(key)
        assert 0 < ttl_ms <= stream_slots.SLOT_TTL_S * 1000
        leases = dict(await raw.zrange(key, 0, -1, withscores=True))
        now_ms = time.time() * 1000
        assert all(
            now_ms < until <= now_ms + stream_slots.SLOT_TTL_S * 1000 + 1000
            for until in leases.values()
        )
        # The process holding "a" died: its lease runs out (moved into the past here).
        await raw.zadd(key, {"a": now_ms - 1})
        assert await store.acquire(client_id=client, slot_id="c", limit=2)
        assert set(await raw.zrange(key, 0, -1)) == {b"b", b"c"}
        # A live stream renews its lease: it does not lapse.
        await raw.zadd(key, {"b": now_ms - 1})
        await store.renew(client_id=client, slot_id="b")
        assert not await store.acquire(client_id=client, slot_id="d", limit=2)
    finally:
        await raw.delete(key)
        await raw.aclose()


@pytest.fixture
def memory_slots(monkeypatch):
    store = MemorySlotStore()
    monkeypatch.setattr(stream_slots, "get_slot_store", lambda: store)
    return store


async def _ticks(count: int, *, fail: bool = False):
    for index in range(count):
        yield f"{index}".encode()
    if fail:
        raise RuntimeError("the log went away")


async def test_a_stream_gives_its_slot_back_when_it_ends_however_it_ends(memory_slots, settings):
    settings.SSE_MAX_STREAMS_PER_CLIENT = 1
    client = uuid.uuid4().hex

    # Read to the end.
    slot = await slot_open(client_id=client)
    with pytest.raises(RateLimitedError) as refused:
        await slot_open(client_id=client)
    assert refused.value.status == 429 and refused.value.code == "RATE_LIMITED"
    assert refused.value.headers()["Retry-After"] == str(int(stream_slots.RETRY_AFTER_S))
    assert refused.value.details["limit"] == 1
    assert [chunk async for chunk in held(_ticks(2), slot)] == [b"0", b"1"]

    # The client went away mid-stream (the server closes the response's iterator).
    slot = await slot_open(client_id=client)
    stream = held(_ticks(5), slot)
    assert await stream.__anext__() == b"0"
    await stream.aclose()

    # The body failed.
    slot = await slot_open(client_id=client)
    with pytest.raises(RuntimeError):
        async for _chunk in held(_ticks(1, fail=True), slot):
            pass

    # Cancelled while waiting inside the body (a disconnect during a blocking read).
    slot = await slot_open(client_id=client)

    async def waits_forever():
        yield b"first"
        await asyncio.Event().wait()
        yield b"never"

    async def read_all():
        async for _chunk in held(waits_forever(), slot):
            pass

    reader = asyncio.create_task(read_all())
    await asyncio.sleep(0.05)
    reader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reader
    assert await slot_open(client_id=client)
