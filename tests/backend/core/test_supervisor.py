"""The worker supervisor restarts a worker process that exits by itself (as a Celery
worker does when kombu gives up on a broker reconnect) and stops them all on a signal."""

from __future__ import annotations

import itertools
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from backend.core.supervisor import Supervisor

REPO_ROOT = Path(__file__).resolve().parents[3]

# Exits 3 on its first start (no marker yet), then runs until SIGTERM and exits 0.
FLAKY = """
import os, signal, sys, time
marker = sys.argv[1]
with open(marker, "a") as f:
    f.write("start\\n")
if open(marker).read().count("start") == 1:
    sys.exit(3)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
while True:
    time.sleep(0.05)
"""


def _wait(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def test_a_child_that_exits_by_itself_is_started_again(tmp_path):
    marker = tmp_path / "starts"
    steady = tmp_path / "steady"
    supervisor = Supervisor(
        [
            [sys.executable, "-c", FLAKY, str(marker)],
            [sys.executable, "-c", FLAKY.replace("== 1", "== 0"), str(steady)],
        ],
        backoff_s=0.05,
        poll_s=0.02,
    )
    supervisor.start()
    try:
        _wait(lambda: supervisor.check() or supervisor.restarts == 1)
        _wait(lambda: marker.exists() and marker.read_text().count("start") == 2)
        time.sleep(0.3)
        supervisor.check()
        assert supervisor.restarts == 1  # the steady child was left alone
        assert steady.read_text().count("start") == 1
    finally:
        code = supervisor.stop(signal.SIGTERM, timeout_s=10)
    assert code == 0


def test_a_child_failing_fast_waits_longer_each_time(tmp_path, caplog):
    caplog.set_level(logging.ERROR, logger="backend.core.supervisor")
    supervisor = Supervisor(
        [[sys.executable, "-c", "import sys; sys.exit(1)"]],
        backoff_s=0.1,
        max_backoff_s=0.4,
        poll_s=0.01,
    )
    supervisor.start()
    starts = []
    try:
        deadline = time.monotonic() + 10
        while supervisor.restarts < 4 and time.monotonic() < deadline:
            before = supervisor.restarts
            supervisor.check()
            if supervisor.restarts != before:
                starts.append(time.monotonic())
            time.sleep(0.01)
    finally:
        supervisor.stop(signal.SIGTERM, timeout_s=5)
    # The delay chosen after each exit: doubling from 0.1 s, capped at max_backoff_s.
    delays = [record.args[3] for record in caplog.records if "restarting in" in record.msg]
    assert delays[:4] == [0.1, 0.2, 0.4, 0.4]
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert len(gaps) == 3
    # Each gap is the child's own run plus the delay, so never shorter than the delay.
    assert gaps[0] >= 0.2 and gaps[1] >= 0.4 and gaps[2] >= 0.4


def test_nothing_is_restarted_after_stop(tmp_path):
    marker = tmp_path / "starts"
    supervisor = Supervisor(
        [[sys.executable, "-c", FLAKY.replace("== 1", "== 0"), str(marker)]], backoff_s=0.01
    )
    supervisor.start()
    _wait(lambda: marker.exists())
    assert supervisor.stop(signal.SIGTERM, timeout_s=10) == 0
    supervisor.check()
    time.sleep(0.1)
    supervisor.check()
    assert supervisor.restarts == 0
    assert marker.read_text().count("start") == 1


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(line) for line in out.stdout.split()]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_insightstream_worker_starts_a_dead_celery_worker_again(tmp_path):
    """The real command: its Celery worker is SIGKILLed (as when it stops by itself), a new
    one comes up and is ready, and a SIGTERM ends the command with code 0."""
    from django.db import connection

    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backend.config.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        "PYTHONPATH": str(REPO_ROOT),
    }
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        command = subprocess.Popen(
            # One run process (the default is one per core): the one child is the one killed.
            [
                *(sys.executable, "-m", "backend.cli", "worker"),
                *("--queues", "default", "--run-processes", "1"),
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait(lambda: log_path.read_text(errors="replace").count(" ready.") == 1, timeout=60)
        [first] = _children(command.pid)
        os.kill(first, signal.SIGKILL)
        _wait(lambda: log_path.read_text(errors="replace").count(" ready.") == 2, timeout=60)
        [second] = _children(command.pid)
        assert second != first
        assert "restarting in" in log_path.read_text(errors="replace")
        command.send_signal(signal.SIGTERM)
        assert command.wait(timeout=60) == 0
    finally:
        if command.poll() is None:
            for child in _children(command.pid):
                os.kill(child, signal.SIGKILL)
            command.kill()
