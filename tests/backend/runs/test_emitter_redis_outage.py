"""A run's events through a Redis restart, on a Redis of the test's own (never the shared one).

Before: the first append while Redis was down failed the run with INTERNAL_ERROR, and its
``run.failed`` never reached the log nor the store (the soak bench counted 16 such runs).
"""

from __future__ import annotations

import shutil
import socket
import threading

import pytest

from backend.runs import emitter as emitter_module
from backend.runs.emitter import RunEmitter
from backend.runs.eventlog import factory
from backend.runs.eventlog.redis_log import RedisEventLog
from backend.runs.models import Run, RunEvent
from backend.runs.worker_loop import run_on_process_loop
from tests.bench._harness import OwnRedis

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def own_redis(tmp_path, monkeypatch):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = OwnRedis(tmp_path, free_port())
    server.start()
    monkeypatch.setattr(factory, "_log", RedisEventLog(url=server.url(), retention_s=60))
    yield server
    server.stop()


def stored(run_id: str) -> list[tuple[int, str]]:
    return list(RunEvent.objects.filter(run_id=run_id).order_by("seq").values_list("seq", "type"))


def test_an_append_rides_out_a_redis_restart(own_redis):
    run = Run.objects.create(kind="chat", client_id="c", model="offline", status="running")
    emitter = RunEmitter(run_id=str(run.id), attempt=1, buffered=True)
    run_on_process_loop(emitter.aemit("run.started", {}))
    own_redis.stop()
    threading.Timer(1.5, own_redis.start).start()
    event = run_on_process_loop(emitter.aemit("tool.started", {"name": "hashtags"}))
    assert event.seq == 2
    final = run_on_process_loop(emitter.aemit("run.completed", {}))
    assert final.seq == 3
    assert stored(str(run.id)) == [(1, "run.started"), (2, "tool.started"), (3, "run.completed")]


def test_the_run_end_reaches_the_store_when_redis_stays_down(own_redis, monkeypatch):
    monkeypatch.setattr(emitter_module, "APPEND_RETRY_S", (0.05, 0.05))
    run = Run.objects.create(kind="chat", client_id="c", model="offline", status="running")
    emitter = RunEmitter(run_id=str(run.id), attempt=1, buffered=True)
    run_on_process_loop(emitter.aemit("run.started", {}))
    run_on_process_loop(emitter.aemit("message.delta", {"text": "Hel"}))
    own_redis.stop()
    failed = run_on_process_loop(emitter.aemit("run.failed", {"error": {"code": "X"}}))
    assert failed.seq == 3  # after the delta the log numbered 2
    assert stored(str(run.id)) == [(1, "run.started"), (3, "run.failed")]


def test_a_shutdown_during_the_end_announcement_still_announces_it(own_redis, monkeypatch):
    """The soak's lost ends: a worker shut down while a run's terminal append waited for
    Redis cancelled the append after the end was recorded; readers waited for ever."""
    import asyncio

    from backend.runs import executor
    from backend.runs.drivers import RunContext

    monkeypatch.setattr(emitter_module, "APPEND_RETRY_S", (0.4,))
    run = Run.objects.create(
        kind="chat", client_id="c", model="offline", status="running", lease_owner="w", attempt=1
    )
    ctx = RunContext(run=run, emitter=RunEmitter(run_id=str(run.id), attempt=1, buffered=True))
    run_on_process_loop(ctx.emit("run.started", {}))
    own_redis.stop()

    async def finish_then_cancel() -> None:
        finishing = asyncio.ensure_future(
            executor._finish(
                ctx,
                me="w",
                status=Run.Status.COMPLETED,
                code="",
                message="",
                result={"message_id": "m-1"},
                duration_s=1.0,
            )
        )
        await asyncio.sleep(0.2)  # in the append's retry wait
        finishing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await finishing

    run_on_process_loop(finish_then_cancel())
    assert stored(str(run.id)) == [(1, "run.started"), (2, "run.completed")]
    end = RunEvent.objects.get(run_id=run.id, seq=2)
    assert end.data["message_id"] == "m-1" and "usage" in end.data


def test_a_draining_worker_stores_the_end_without_waiting_for_redis(own_redis, monkeypatch):
    import asyncio

    from backend.runs import worker_loop

    monkeypatch.setattr(emitter_module, "APPEND_RETRY_S", (30.0,))  # would outlast the test
    monkeypatch.setattr(worker_loop, "_draining", threading.Event())
    run = Run.objects.create(kind="chat", client_id="c", model="offline", status="running")
    emitter = RunEmitter(run_id=str(run.id), attempt=1, buffered=True)
    run_on_process_loop(emitter.aemit("run.started", {}))
    own_redis.stop()
    worker_loop._draining.set()
    # Not after the 30 s retry wait: the shutdown gives its runs seconds, not minutes.
    run_on_process_loop(
        asyncio.wait_for(emitter.aemit("run.cancelled", {"reason": "shutdown"}), timeout=5)
    )
    assert stored(str(run.id)) == [(1, "run.started"), (2, "run.cancelled")]


def test_a_draining_worker_still_waits_for_redis_with_other_events(own_redis, monkeypatch):
    """Only the end skips the wait: a step's event failing at once failed the run
    (INTERNAL_ERROR) instead of letting the drain give it back (102 runs in a soak)."""
    import asyncio

    from backend.runs import worker_loop

    monkeypatch.setattr(emitter_module, "APPEND_RETRY_S", (0.3, 0.3, 0.3))
    monkeypatch.setattr(worker_loop, "_draining", threading.Event())
    run = Run.objects.create(kind="chat", client_id="c", model="offline", status="running")
    emitter = RunEmitter(run_id=str(run.id), attempt=1, buffered=True)
    run_on_process_loop(emitter.aemit("run.started", {}))
    own_redis.stop()
    worker_loop._draining.set()
    threading.Timer(0.4, own_redis.start).start()
    event = run_on_process_loop(
        asyncio.wait_for(emitter.aemit("tool.started", {"name": "hashtags"}), timeout=10)
    )
    assert event.seq == 2
