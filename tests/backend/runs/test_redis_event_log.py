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


def test_appends_of_many_runs_share_round_trips_and_keep_each_runs_order():
    """200 runs appending at once: a few pipelines, not 200 × 5 script calls, and every
    run's events numbered 1..5 in the order it appended them — across a SCRIPT FLUSH (a
    restarted Redis no longer knows the script)."""
    log = RedisEventLog(url=settings.REDIS_URL, retention_s=60)
    run_ids = [str(uuid.uuid4()) for _ in range(200)]

    async def run(run_id: str) -> list[int]:
        seqs = []
        for step in range(5):
            if step == 3 and run_id == run_ids[0]:
                await log._client().script_flush()
            event = await log.aappend(run_id=run_id, type="step", attempt=1, data={"n": step})
            seqs.append(event.seq)
        return seqs

    async def all_runs() -> tuple[list[list[int]], int]:
        client = log._client()
        sent = {"pipelines": 0}
        real_pipeline = client.pipeline

        def counting_pipeline(*args, **kwargs):
            sent["pipelines"] += 1
            return real_pipeline(*args, **kwargs)

        client.pipeline = counting_pipeline  # type: ignore[method-assign]
        seqs = await asyncio.gather(*(run(run_id) for run_id in run_ids))
        return seqs, sent["pipelines"]

    seqs, pipelines = asyncio.run(all_runs())
    assert all(run_seqs == [1, 2, 3, 4, 5] for run_seqs in seqs)
    assert 0 < pipelines <= 20
    for run_id in run_ids:
        events = log.range(run_id=run_id)
        assert [event.data["n"] for event in events] == [0, 1, 2, 3, 4]
        log.delete(run_id=run_id)


def _xread_calls(client) -> int:
    stats = client.info("commandstats")
    return int(stats.get("cmdstat_xread", {}).get("calls", 0))


def test_live_streams_of_many_runs_share_one_blocking_read():
    """100 streams following 100 runs through 10 events each: every stream gets its own
    events in order, and Redis serves a few XREADs for all of them, not one per stream
    per event (1,000)."""
    log = RedisEventLog(url=settings.REDIS_URL, retention_s=60)
    run_ids = [str(uuid.uuid4()) for _ in range(100)]

    async def follow(run_id: str) -> list[int]:
        seen, after = [], 0
        while len(seen) < 10:
            events = await log.read(run_id=run_id, after_seq=after, timeout_s=10, verify=False)
            seen += [event.data["n"] for event in events]
            after = events[-1].seq if events else after
        return seen

    async def produce() -> None:
        for step in range(10):
            await asyncio.gather(
                *(
                    log.aappend(run_id=run_id, type="step", attempt=1, data={"n": step})
                    for run_id in run_ids
                )
            )
            await asyncio.sleep(0.01)

    async def both() -> list[list[int]]:
        followers = [asyncio.create_task(follow(run_id)) for run_id in run_ids]
        await asyncio.sleep(0.05)  # every stream is waiting
        await produce()
        return await asyncio.wait_for(asyncio.gather(*followers), timeout=30)

    before = _xread_calls(log._sync)
    seen = asyncio.run(both())
    calls = _xread_calls(log._sync) - before
    assert all(run_seen == list(range(10)) for run_seen in seen)
    assert 0 < calls <= 200
    for run_id in run_ids:
        log.delete(run_id=run_id)


def test_a_stream_that_starts_waiting_during_a_long_block_is_answered_at_once():
    """The reader is blocked (up to 10 s) on another run's key; a second stream's event
    reaches it without waiting for that block to end."""
    log = RedisEventLog(url=settings.REDIS_URL, retention_s=60)
    quiet, busy = str(uuid.uuid4()), str(uuid.uuid4())

    async def scenario() -> float:
        waiting_quiet = asyncio.create_task(
            log.read(run_id=quiet, after_seq=0, timeout_s=10, verify=False)
        )
        await asyncio.sleep(0.2)  # the reader now blocks on the quiet run only
        await log.aappend(run_id=busy, type="run.started", attempt=1, data={})
        started = time.monotonic()
        events = await log.read(run_id=busy, after_seq=0, timeout_s=10, verify=False)
        took = time.monotonic() - started
        assert [event.type for event in events] == ["run.started"]
        waiting_quiet.cancel()
        return took

    took = asyncio.run(scenario())
    assert took < 1.0
    log.delete(run_id=quiet)
    log.delete(run_id=busy)
