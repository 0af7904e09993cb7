"""A log that lost a run (an embedded restart; a Redis without its data) continues the run's
numbering after what the store holds, and readers behind that are sent to the store."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from django.conf import settings

from backend.runs.eventlog.memory import MemoryEventLog
from backend.runs.eventlog.redis_log import RedisEventLog


def memory_log():
    return MemoryEventLog(retention_s=60)


def redis_log():
    if not settings.REDIS_URL:
        pytest.skip("Redis not configured (set REDIS_URL=redis://...)")
    return RedisEventLog(url=settings.REDIS_URL, retention_s=60)


@pytest.mark.parametrize("make", [memory_log, pytest.param(redis_log, marks=pytest.mark.redis)])
def test_resume_continues_after_the_stored_seq(make):
    log = make()
    run_id = str(uuid.uuid4())

    async def scenario():
        await log.aresume(run_id=run_id, after_seq=7)
        first = await log.aappend(run_id=run_id, type="run.started", attempt=2, data={})
        second = await log.aappend(run_id=run_id, type="message.delta", attempt=2, data={})
        behind = await log.read(run_id=run_id, after_seq=3, timeout_s=0.1)
        at_store = await log.read(run_id=run_id, after_seq=7, timeout_s=0.1)
        return first, second, behind, at_store, await log.alast_seq(run_id=run_id)

    first, second, behind, at_store, last = asyncio.run(scenario())
    assert (first.seq, second.seq, last) == (8, 9, 9)
    assert behind is None  # the log cannot serve seq 4..7: the reader replays the store
    assert [event.seq for event in at_store] == [8, 9]
    log.delete(run_id=run_id)


@pytest.mark.parametrize("make", [memory_log, pytest.param(redis_log, marks=pytest.mark.redis)])
def test_resume_never_renumbers_a_run_the_log_still_has(make):
    log = make()
    run_id = str(uuid.uuid4())

    async def scenario():
        for _ in range(5):
            await log.aappend(run_id=run_id, type="message.delta", attempt=1, data={})
        await log.aresume(run_id=run_id, after_seq=3)
        return await log.aappend(run_id=run_id, type="run.completed", attempt=2, data={})

    assert asyncio.run(scenario()).seq == 6
    log.delete(run_id=run_id)
