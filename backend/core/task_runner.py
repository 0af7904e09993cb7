"""One interface for "run this task later", used by all backend code.

Production hands tasks to Celery (Redis broker). The embedded default runs the very same
task functions on a thread pool inside the web process — not Celery's eager mode, which
would run them inside the request and block streaming — and runs the periodic jobs from
``CELERY_BEAT_SCHEDULE`` on an in-process scheduler instead of beat. Either way every
periodic job runs once at start-up, then on its interval.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from celery import Task
from celery.beat import PersistentScheduler
from celery.schedules import schedule as every
from django.conf import settings
from django.db import close_old_connections, transaction

logger = structlog.get_logger(__name__)

# One thread pool per queue the embedded runner keeps apart: calls to other people's
# servers (webhooks, emails) wait on their own few threads, never on the runs' threads.
OWN_POOL_QUEUES = frozenset({"outbound"})
OUTBOUND_THREADS = 2
_pools: dict[str, ThreadPoolExecutor] = {}
_pool_lock = threading.Lock()


def uses_celery() -> bool:
    return settings.TASK_RUNNER == "celery"


def enqueue(
    task: Task,
    *args: Any,
    queue: str | None = None,
    countdown: float | None = None,
    task_id: str | None = None,
    **kwargs: Any,
) -> str:
    """Run ``task`` later with JSON-serialisable arguments; returns the task id."""
    task_id = task_id or uuid.uuid4().hex
    if uses_celery():
        task.apply_async(
            args=args, kwargs=kwargs, queue=queue, countdown=countdown, task_id=task_id
        )
        return task_id
    local = (task, args, kwargs, task_id, queue)
    if countdown:
        timer = threading.Timer(countdown, _submit_local, args=local)
        timer.daemon = True
        timer.start()
    else:
        _submit_local(*local)
    return task_id


def enqueue_on_commit(task: Task, *args: Any, **options: Any) -> None:
    """Enqueue once the current transaction commits (immediately outside one)."""
    transaction.on_commit(lambda: enqueue(task, *args, **options))


def queue_of(task: Task, queue: str | None = None) -> str:
    """The queue a task goes to: the one asked for, else its route, else ``default``."""
    if queue:
        return queue
    route = settings.CELERY_TASK_ROUTES.get(task.name) or {}
    return str(route.get("queue") or settings.CELERY_TASK_DEFAULT_QUEUE)


def _executor(queue: str) -> ThreadPoolExecutor:
    name = queue if queue in OWN_POOL_QUEUES else "default"
    with _pool_lock:
        pool = _pools.get(name)
        if pool is None:
            threads = OUTBOUND_THREADS if name == "outbound" else settings.TASK_RUNNER_THREADS
            pool = _pools[name] = ThreadPoolExecutor(
                max_workers=threads, thread_name_prefix=f"task-{name}"
            )
        return pool


def _submit_local(
    task: Task,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    task_id: str,
    queue: str | None = None,
) -> None:
    _executor(queue_of(task, queue)).submit(_run_local, task, args, kwargs, task_id)


def _run_local(task: Task, args: tuple[Any, ...], kwargs: dict[str, Any], task_id: str) -> None:
    close_old_connections()
    log = logger.bind(task=task.name, task_id=task_id)
    started = time.perf_counter()
    try:
        task.run(*args, **kwargs)
        log.info("task_succeeded", duration_ms=round((time.perf_counter() - started) * 1000, 1))
    except Exception:
        log.exception("task_failed")
    finally:
        close_old_connections()


def embedded_backlog() -> dict[str, int]:
    """Tasks waiting for a thread, per pool of the embedded runner (``default`` takes
    every queue but ``outbound``): the in-process counterpart of a broker queue's length."""
    with _pool_lock:
        pools = dict(_pools)
    # The executor's own queue (no public accessor): submitted, not yet picked up.
    return {name: pool._work_queue.qsize() for name, pool in pools.items()}


def _take_pools() -> list[ThreadPoolExecutor]:
    with _pool_lock:
        pools = list(_pools.values())
        _pools.clear()
    return pools


def shutdown(*, wait: bool = True) -> None:
    for pool in _take_pools():
        pool.shutdown(wait=wait, cancel_futures=not wait)


def drain() -> None:
    """Wait until the embedded runner is idle, including tasks that running ones enqueue."""
    while True:
        pools = _take_pools()
        if not pools:
            return
        for pool in pools:
            pool.shutdown(wait=True)


LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


class RunAtStartScheduler(PersistentScheduler):
    """Celery beat's scheduler, except that every job of ``CELERY_BEAT_SCHEDULE`` runs once
    when beat starts, then on its interval.

    Stock beat counts a job's first interval from its own start (a new entry's last run is
    "now"), and its schedule file does not outlive a deploy on an ephemeral disk: the model
    catalogue (daily) first loaded a day after each deploy, and real models were refused
    as having no known price until then. The embedded scheduler behaves the same way.
    """

    def setup_schedule(self) -> None:
        super().setup_schedule()
        for name in settings.CELERY_BEAT_SCHEDULE:
            entry = self.schedule.get(name)
            if entry is not None:
                entry.last_run_at = LONG_AGO


class PeriodicScheduler:
    """In-process stand-in for Celery beat, driven by the same ``CELERY_BEAT_SCHEDULE``."""

    def __init__(
        self,
        *,
        entries: dict[str, dict[str, Any]],
        resolve: Callable[[str], Task],
        tick_s: float = 1.0,
    ) -> None:
        self._entries = {
            name: (resolve(entry["task"]), _as_schedule(entry["schedule"]))
            for name, entry in entries.items()
        }
        self._tick_s = tick_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Every job runs once at start-up, as beat does with ``RunAtStartScheduler``.
        self._last_run = dict.fromkeys(self._entries, LONG_AGO)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run_due(self) -> list[str]:
        """Enqueue every job that is due now; returns their names."""
        due = []
        for name, (task, sched) in self._entries.items():
            state = sched.is_due(self._last_run[name])
            if state.is_due:
                self._last_run[name] = datetime.now(UTC)
                enqueue(task)
                due.append(name)
        return due

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_due()
            except Exception:
                logger.exception("scheduler_tick_failed")
            self._stop.wait(self._tick_s)


def _as_schedule(value: Any) -> Any:
    if isinstance(value, int | float):
        return every(run_every=timedelta(seconds=value))
    if isinstance(value, timedelta):
        return every(run_every=value)
    return value  # a celery schedule object (crontab, schedule, solar)


_scheduler: PeriodicScheduler | None = None


def start_embedded_scheduler() -> PeriodicScheduler:
    """Start the in-process periodic jobs (embedded default only)."""
    global _scheduler
    from backend.config.celery_app import app

    if _scheduler is None or not _scheduler.alive:
        app.loader.import_default_modules()  # autodiscovery is lazy; the scheduler needs names
        _scheduler = PeriodicScheduler(
            entries=settings.CELERY_BEAT_SCHEDULE, resolve=lambda name: app.tasks[name]
        )
        _scheduler.start()
    return _scheduler


def embedded_scheduler() -> PeriodicScheduler | None:
    return _scheduler
