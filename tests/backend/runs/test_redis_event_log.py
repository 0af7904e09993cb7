"""The Redis event log on a real Redis: a quiet stream waits, it does not break."""

import asyncio
import time
import uuid

import pytest
from django.conf import settings

from backend.runs.eventlog.redis_log import RedisEventLog

pytestmark = pytest.mark.redis


def test_a_read_blocks_longer_than_redis_default_socket_timeout():
    # redis-py's default socket timeout is 5 s; a stream quiet for longer (a slow tool, a
    # queued run) used to end with "Timeout reading from" and a cut-off SSE response.
    log = RedisEventLog(url=settings.REDIS_URL, retention_s=60)
    run_id = str(uuid.uuid4())

    async def quiet_then_event() -> tuple[list, list, float]:
        started = time.monotonic()
        quiet = await log.read(run_id=run_id, after_seq=0, timeout_s=6)
        waited = time.monotonic() - started
        await log.aappend(run_id=run_id, type="run.started", attempt=1, data={})
        events = await log.read(run_id=run_id, after_seq=0, timeout_s=6)
        return quiet, events, waited

    quiet, events, waited = asyncio.run(quiet_then_event())
    assert quiet == []
    assert waited >= 5.5
    assert [event.type for event in events] == ["run.started"]
    log.delete(run_id=run_id)
