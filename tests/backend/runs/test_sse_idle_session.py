"""An idle session stream waits on the event log for the session's next run, not on the
database: it asks the database once, then again only when a run is announced (or after
the long re-check interval)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from django.conf import settings

from backend.runs.eventlog import get_event_log, reset_for_tests
from backend.runs.eventlog.memory import MemoryEventLog
from backend.runs.eventlog.redis_log import RedisEventLog
from backend.runs.sse import PING, session_stream_body


@pytest.fixture(autouse=True)
def _fresh_log():
    reset_for_tests()
    yield
    reset_for_tests()


class SessionRuns:
    """The session's runs as the database would list them, counting every lookup."""

    def __init__(self) -> None:
        self.runs: list[tuple[int, str]] = []
        self.lookups = 0

    async def __call__(self, ordinal: int) -> list[tuple[int, str]]:
        self.lookups += 1
        return [(n, run_id) for n, run_id in self.runs if n >= ordinal]


def _finish(log, run_id: str, session_id: str) -> None:
    log.append(run_id=run_id, type="run.queued", attempt=1, data={"session_id": session_id})
    log.append(run_id=run_id, type="run.completed", attempt=1, data={"message_id": "m"})


async def _next_frame(body) -> bytes:
    while True:
        chunk = await asyncio.wait_for(body.__anext__(), timeout=10)
        if chunk != PING:
            return chunk


async def test_an_idle_session_stream_asks_the_database_once_then_waits_on_the_log():
    session_id = str(uuid.uuid4())
    runs = SessionRuns()
    body = session_stream_body(
        session_id=session_id, runs_from=runs, ordinal=0, after_seq=0, ping_interval_s=0.02
    )
    # Fifty pings of an idle session (the old stream polled the database every 0.5 s).
    pings = [await asyncio.wait_for(body.__anext__(), timeout=10) for _ in range(50)]
    assert set(pings) == {PING}
    assert runs.lookups == 1

    # A new run is announced by its run.queued in the log: one more lookup, and it streams.
    run_id = str(uuid.uuid4())
    runs.runs.append((1, run_id))
    _finish(get_event_log(), run_id, session_id)
    frame = await _next_frame(body)
    assert b"id: 1-1\n" in frame and b"event: run.queued" in frame
    assert runs.lookups == 2
    await body.aclose()


async def test_a_run_created_between_the_lookup_and_the_wait_is_not_missed():
    session_id = str(uuid.uuid4())
    log = get_event_log()
    run_id = str(uuid.uuid4())

    class CreatedRightAfterTheLookup(SessionRuns):
        async def __call__(self, ordinal: int) -> list[tuple[int, str]]:
            found = await super().__call__(ordinal)
            if self.lookups == 1:  # the run commits and is announced just after this read
                self.runs.append((1, run_id))
                _finish(log, run_id, session_id)
            return found

    runs = CreatedRightAfterTheLookup()
    body = session_stream_body(
        session_id=session_id, runs_from=runs, ordinal=0, after_seq=0, recheck_s=3600
    )
    frame = await _next_frame(body)
    assert b"event: run.queued" in frame
    await body.aclose()


async def test_without_an_announcement_the_database_is_asked_again_after_the_recheck():
    session_id = str(uuid.uuid4())
    runs = SessionRuns()
    body = session_stream_body(
        session_id=session_id,
        runs_from=runs,
        ordinal=0,
        after_seq=0,
        recheck_s=0.05,
        ping_interval_s=0.01,
    )
    assert await asyncio.wait_for(body.__anext__(), timeout=10) == PING
    # The run reaches the database, its announcement never reaches the log (Redis away).
    run_id = str(uuid.uuid4())
    runs.runs.append((1, run_id))
    log = get_event_log()
    log.append(run_id=run_id, type="run.started", attempt=1, data={})
    log.append(run_id=run_id, type="run.completed", attempt=1, data={"message_id": "m"})
    frame = await _next_frame(body)
    assert b"id: 1-1\n" in frame and b"event: run.started" in frame
    await body.aclose()


@pytest.mark.parametrize(
    "make_log",
    [
        pytest.param(MemoryEventLog, id="memory"),
        pytest.param(RedisEventLog, id="redis", marks=pytest.mark.redis),
    ],
)
async def test_the_log_announces_a_sessions_runs(make_log):
    log = (
        make_log(url=settings.REDIS_URL, retention_s=60)
        if make_log is RedisEventLog
        else make_log(retention_s=60)
    )
    session_id, other = str(uuid.uuid4()), str(uuid.uuid4())
    mark = await log.session_marker(session_id=session_id)
    assert await log.wait_session(session_id=session_id, after=mark, timeout_s=0.05) is None

    waiting = asyncio.create_task(log.wait_session(session_id=session_id, after=mark, timeout_s=10))
    await asyncio.sleep(0.05)
    # Another session's run, and this run's later events, announce nothing here.
    await log.aappend(run_id="r0", type="run.queued", attempt=1, data={"session_id": other})
    await log.aappend(run_id="r1", type="run.started", attempt=1, data={"session_id": session_id})
    await asyncio.sleep(0.05)
    assert not waiting.done()
    await log.aappend(run_id="r1", type="run.queued", attempt=1, data={"session_id": session_id})
    announced = await asyncio.wait_for(waiting, timeout=10)
    assert announced is not None and announced != mark

    # An announcement made before the wait (after the mark) is found at once; a wait from
    # the newest mark is not woken by it again.
    log.append(run_id="r2", type="run.queued", attempt=1, data={"session_id": session_id})
    assert await log.wait_session(session_id=session_id, after=announced, timeout_s=5)
    newest = await log.session_marker(session_id=session_id)
    assert await log.wait_session(session_id=session_id, after=newest, timeout_s=0.05) is None
    for run_id in ("r0", "r1", "r2"):
        log.delete(run_id=run_id)


@pytest.mark.redis
async def test_more_streams_than_redis_pys_default_pool_can_wait_on_the_log_at_once():
    # Each waiting stream holds a connection while its XREAD blocks; redis-py's async pool
    # stops at 100 and fails the rest at once ("Too many connections"), which cut 163 of
    # 200 concurrent chats' streams off mid-run.
    log = RedisEventLog(url=settings.REDIS_URL, retention_s=60)
    waits = [
        log.wait_session(session_id=str(uuid.uuid4()), after="0-0", timeout_s=1.0)
        for _ in range(80)
    ] + [log.read(run_id=str(uuid.uuid4()), after_seq=0, timeout_s=1.0) for _ in range(80)]
    results = await asyncio.gather(*waits, return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    assert not failures, failures[:1]
    assert results == [None] * 80 + [[]] * 80
