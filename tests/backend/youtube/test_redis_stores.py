"""Quota counts, search cache and search cap on the real (test) Redis."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis

from backend.youtube import RedisQuotaCounter, RedisSearchCache, RedisSearchCap, SearchCapExceeded
from backend.youtube.pacific import next_pacific_midnight, pacific_day, utc_now
from backend.youtube.quota import key_fingerprint
from tests.backend.youtube.conftest import FakeClock, MakeRig
from tests.fakes.youtube_server import fake_channel_id

pytestmark = pytest.mark.redis


@pytest.fixture
def clock() -> FakeClock:
    """Real time: Redis expires keys on its own clock, so a fixed past date would vanish."""
    return FakeClock(utc_now())


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    from django.conf import settings

    client = redis.Redis.from_url(str(settings.REDIS_URL))
    prefix = f"test-youtube:{uuid.uuid4().hex}"
    client.test_prefix = prefix  # type: ignore[attr-defined]
    yield client
    for name in client.scan_iter(f"{prefix}:*"):
        client.delete(name)
    client.close()


def test_quota_counted_per_key_in_redis(
    make_rig: MakeRig, redis_client: redis.Redis, clock: FakeClock
) -> None:
    prefix = redis_client.test_prefix  # type: ignore[attr-defined]
    counter = RedisQuotaCounter(redis_client=redis_client, key_prefix=f"{prefix}:quota")
    rig = make_rig(quota=counter)
    rig.server.quota_limits["key-a"] = 2

    rig.client.fetch_channel(channel_id=fake_channel_id("Thu Vu data analytics"))  # 1 + 2 + 2

    day = pacific_day(clock())
    assert counter.used(key_id=key_fingerprint("key-a"), day=day) == 2
    assert counter.used(key_id=key_fingerprint("key-b"), day=day) == 3
    assert rig.server.units_used == {"key-a": 2, "key-b": 3}
    name = counter.redis_key(key_id=key_fingerprint("key-b"), day=day)
    assert "key-b" not in name  # fingerprints only, never the key
    # Expires 6 h (the grace) after the Pacific day ends.
    expire_at = redis_client.expiretime(name)
    assert expire_at == int((next_pacific_midnight(clock()) + timedelta(hours=6)).timestamp())
    # A second process sharing Redis sees (and adds to) the same count.
    other = RedisQuotaCounter(redis_client=redis_client, key_prefix=f"{prefix}:quota")
    assert other.add(key_id=key_fingerprint("key-b"), day=day, units=100) == 103


def test_search_cache_in_redis_is_shared_between_clients(
    make_rig: MakeRig, redis_client: redis.Redis
) -> None:
    prefix = redis_client.test_prefix  # type: ignore[attr-defined]
    first = make_rig(search_cache=RedisSearchCache(redis_client=redis_client, key_prefix=prefix))
    second = make_rig(search_cache=RedisSearchCache(redis_client=redis_client, key_prefix=prefix))

    a = first.client.search(q="Docker", client_id="c1", max_results=5)
    b = second.client.search(q="docker", client_id="c1", max_results=5)

    assert [v.video_id for v in a] == [v.video_id for v in b]
    assert len(first.server.requests_to("search")) == 1
    (name,) = list(redis_client.scan_iter(f"{prefix}:*"))
    assert 0 < redis_client.ttl(name) <= 6 * 3600


def test_search_cap_in_redis(redis_client: redis.Redis, clock: FakeClock) -> None:
    prefix = redis_client.test_prefix  # type: ignore[attr-defined]
    cap = RedisSearchCap(redis_client=redis_client, limit=2, clock=clock, key_prefix=prefix)
    cap.take(client_id="c1")
    cap.take(client_id="c1")

    with pytest.raises(SearchCapExceeded) as caught:
        cap.take(client_id="c1")

    assert caught.value.limit == 2
    assert caught.value.resets_at == next_pacific_midnight(clock())
    assert cap.used(client_id="c1") == 2  # a refused attempt is not counted
    cap.take(client_id="c2")
    clock.now = next_pacific_midnight(clock())
    cap.take(client_id="c1")
    assert cap.used(client_id="c1") == 1
