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
