"""Real Redis for the guard store tests: each test gets its own key prefix, cleaned up.

The ``redis`` marker (see tests/conftest.py) skips these tests when Redis is not
configured or reachable, and fails them instead under ``REQUIRE_SERVICES=1``. They use
the test settings' Redis URL (its own database), like every other Redis test.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import redis
import redis.asyncio as aioredis


@pytest.fixture
def redis_url() -> str:
    from django.conf import settings

    if not settings.REDIS_URL:  # only reachable without the marker
        pytest.skip("Redis not configured (set REDIS_URL=redis://...)")
    return str(settings.REDIS_URL)


@pytest.fixture
def key_prefix(redis_url: str) -> Iterator[str]:
    prefix = f"test:guard:{uuid.uuid4().hex}:{{g}}:"
    yield prefix
    cleaner = redis.Redis.from_url(redis_url)
    keys = list(cleaner.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        cleaner.delete(*keys)
    cleaner.close()


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()
