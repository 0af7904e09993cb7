"""Shared fixtures: which real services are available, and real Celery worker processes.

Tests that need PostgreSQL, Redis or a worker carry the ``postgres``, ``redis`` or
``worker`` marker. Without the service they skip with a one-line reason; with
``REQUIRE_SERVICES=1`` (as in CI) a missing service fails them instead.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# The local protocol peers (OpenAI-compatible server, PostHog capture, ...).
pytest_plugins = (
    ["tests.fakes.fixtures"] if (REPO_ROOT / "tests/fakes/fixtures.py").exists() else []
)
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


def _require_services() -> bool:
    return os.environ.get("REQUIRE_SERVICES", "").strip() not in ("", "0", "false", "no")


@cache
def _postgres_problem() -> str | None:
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return "PostgreSQL not configured (set DATABASE_URL=postgres://...)"
    import psycopg

    db = settings.DATABASES["default"]
    try:
        psycopg.connect(
            host=db.get("HOST") or None,
            port=db.get("PORT") or None,
            user=db.get("USER") or None,
            password=db.get("PASSWORD") or None,
            dbname="postgres",
            connect_timeout=3,
        ).close()
    except Exception as exc:
        return f"PostgreSQL not reachable: {exc}".splitlines()[0]
    return None


@cache
def _redis_problem() -> str | None:
    from django.conf import settings

    if not settings.REDIS_URL:
        return "Redis not configured (set REDIS_URL=redis://...)"
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:
        return f"Redis not reachable at {settings.REDIS_URL}: {exc}"
    return None


def service_problem(*names: str) -> str | None:
    checks = {"postgres": _postgres_problem, "redis": _redis_problem}
    for name in names:
        problem = checks[name]()
        if problem:
            return problem
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    needed = [m for m in ("postgres", "redis") if item.get_closest_marker(m)]
    if item.get_closest_marker("worker"):
        needed = ["postgres", "redis"]
    problem = service_problem(*needed) if needed else None
    if problem:
        if _require_services():
            pytest.fail(f"REQUIRE_SERVICES=1 but {problem}", pytrace=False)
        pytest.skip(problem)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Background work a test started (embedded runner) ends before its database goes."""
    yield
    from backend.core import task_runner

    task_runner.drain()


@pytest.fixture(scope="session", autouse=True)
def _flush_test_redis() -> None:
    """Start each session from an empty test Redis database (never the app's own)."""
    from django.conf import settings

    if settings.REDIS_URL and _redis_problem() is None:
        import redis

        redis.Redis.from_url(settings.REDIS_URL).flushdb()


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA}")
    return SHARED_DATA


# --- Real Celery worker processes -------------------------------------------------------


@dataclass
class WorkerProcess:
    """The Celery worker processes of one ``celery_worker_factory`` call: one per queue,
    each with its own pool (as ``insightstream worker`` runs them), in one process group."""

    processes: list[subprocess.Popen[bytes]]
    log_paths: list[Path]
    queues: str

    @property
    def process(self) -> subprocess.Popen[bytes]:
        return self.processes[0]

    @property
    def pid(self) -> int:
        """The process group's id (the first worker's pid)."""
        return self.processes[0].pid

    def kill(self) -> None:
        """SIGKILL the whole process group: every worker and its pool children."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for process in self.processes:
            process.wait(timeout=10)

    def stop(self, timeout: float = 15) -> None:
        if all(process.poll() is not None for process in self.processes):
            return
        try:
            os.killpg(self.pid, signal.SIGTERM)
            for process in self.processes:
                process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        except ProcessLookupError:
            pass

    def log(self) -> str:
        return "".join(path.read_text(errors="replace") for path in self.log_paths if path.exists())


@dataclass
class WorkerFactory:
    tmp_path: Path
    started: list[WorkerProcess] = field(default_factory=list)

    def __call__(
        self,
        *,
        queues: str = "default,long",
        concurrency: int = 2,
        extra_env: dict[str, str] | None = None,
        pool: str = "prefork",
        long_concurrency: int | None = None,
    ) -> WorkerProcess:
        """Start one worker per queue in ``queues`` (comma-separated), each with its own
        pool of ``concurrency`` slots (``long_concurrency`` for ``long``)."""
        from django.db import connection

        db = connection.settings_dict
        database_url = (
            f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        )
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "backend.config.settings.test",
            "DATABASE_URL": database_url,
            "PYTHONPATH": str(REPO_ROOT),
            **(extra_env or {}),
        }
        number = len(self.started)
        processes: list[subprocess.Popen[bytes]] = []
        log_paths: list[Path] = []
        for queue in [name.strip() for name in queues.split(",") if name.strip()]:
            slots = long_concurrency if queue == "long" and long_concurrency else concurrency
            log_path = self.tmp_path / f"worker-{number}-{queue}.log"
            log_file = log_path.open("wb")
            # One process group, so kill() takes them all down like a dying machine.
            group: dict[str, Any] = {"process_group": processes[0].pid if processes else 0}
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "celery",
                        "-A",
                        "backend.config.celery_app",
                        "worker",
                        "--loglevel=INFO",
                        "-Q",
                        queue,
                        f"--concurrency={slots}",
                        f"--pool={pool}",
                        "--without-gossip",
                        "--without-mingle",
                        "--without-heartbeat",
                        f"--hostname=test-{number}-{queue}-{os.getpid()}@%h",
                    ],
                    cwd=REPO_ROOT,
                    env=env,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    **group,
                )
            )
            log_paths.append(log_path)
            if len(processes) == 1:  # teardown stops the group even if a later start fails
                self.started.append(
                    WorkerProcess(processes=processes, log_paths=log_paths, queues=queues)
                )
        worker = self.started[-1]
        self._wait_ready(worker)
        return worker

    @staticmethod
    def _wait_ready(worker: WorkerProcess, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(process.poll() is not None for process in worker.processes):
                raise RuntimeError(f"Celery worker exited early:\n{worker.log()[-4000:]}")
            logs = [p.read_text(errors="replace") if p.exists() else "" for p in worker.log_paths]
            if all(" ready." in text for text in logs):
                return
            time.sleep(0.2)
        worker.kill()
        raise RuntimeError(f"Celery worker not ready in {timeout}s:\n{worker.log()[-4000:]}")


@pytest.fixture
def celery_worker_factory(tmp_path: Path) -> Iterator[WorkerFactory]:
    """Start real Celery worker subprocesses against the test database and Redis."""
    factory = WorkerFactory(tmp_path=tmp_path)
    yield factory
    for worker in factory.started:
        worker.stop()


def wait_for(
    predicate: Callable[[], object], *, timeout: float = 30, interval: float = 0.1
) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")
