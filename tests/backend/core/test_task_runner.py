import threading
import time

import pytest

from backend.core import task_runner
from backend.core.models import WorkerHeartbeat
from backend.core.tasks import worker_heartbeat
from tests.conftest import wait_for


@pytest.mark.django_db(transaction=True)
def test_thread_runner_runs_the_task_outside_the_caller(settings):
    settings.TASK_RUNNER = "thread"
    caller = threading.current_thread().name
    task_runner.enqueue(worker_heartbeat)
    beat = wait_for(lambda: WorkerHeartbeat.objects.filter(runner="thread").first(), timeout=10)
    assert beat.hostname.startswith("embedded@")
    assert caller == threading.current_thread().name


@pytest.mark.django_db(transaction=True)
def test_embedded_scheduler_runs_periodic_jobs(settings):
    settings.TASK_RUNNER = "thread"
    scheduler = task_runner.PeriodicScheduler(
        entries={"hb": {"task": "hb", "schedule": 0.2}},
        resolve=lambda _name: worker_heartbeat,
        tick_s=0.05,
    )
    scheduler.start()
    try:
        first = wait_for(lambda: WorkerHeartbeat.objects.first(), timeout=10).seen_at
        wait_for(lambda: WorkerHeartbeat.objects.get().seen_at > first, timeout=10)
    finally:
        scheduler.stop()
    assert not scheduler.alive


@pytest.mark.django_db(transaction=True)
def test_enqueue_on_commit_waits_for_the_commit(settings):
    from django.db import transaction

    settings.TASK_RUNNER = "thread"
    with transaction.atomic():
        task_runner.enqueue_on_commit(worker_heartbeat)
        time.sleep(0.3)
        assert not WorkerHeartbeat.objects.exists()
    wait_for(lambda: WorkerHeartbeat.objects.exists(), timeout=10)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_task_enqueued_by_web_process_runs_on_real_celery_worker(settings, celery_worker_factory):
    """The web side enqueues through Redis; a separate worker process writes to PostgreSQL."""
    settings.TASK_RUNNER = "celery"
    worker = celery_worker_factory(queues="default")
    task_runner.enqueue(worker_heartbeat)
    beat = wait_for(lambda: WorkerHeartbeat.objects.filter(runner="celery").first(), timeout=30)
    assert beat.hostname.startswith("test-0-"), beat.hostname
    assert "backend.core.tasks.worker_heartbeat" in worker.log()


def beat_jobs_sent_at_start(schedule_file) -> list[str]:
    """The tasks Celery beat sends in its first passes, with the configured scheduler."""
    from celery.utils.imports import symbol_by_name

    from backend.config.celery_app import app

    scheduler_cls = symbol_by_name(app.conf.beat_scheduler)
    sent: list[str] = []
    scheduler = scheduler_cls(app=app, schedule_filename=str(schedule_file), lazy=False)
    scheduler.apply_async = lambda entry, producer=None, advance=True, **kw: sent.append(entry.task)
    for _ in range(3 * len(scheduler.schedule)):
        if scheduler.tick() > 0:  # nothing more is due now
            break
    scheduler.close()
    return sent


def test_beat_runs_every_periodic_job_when_it_starts(tmp_path, settings):
    """After a deploy the model catalogue loads at once, not a day later."""
    jobs = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    first = beat_jobs_sent_at_start(tmp_path / "celerybeat-schedule")
    assert "backend.llm.tasks.catalogue_refresh" in first
    assert set(first) == jobs and len(first) == len(jobs)
    # A restart that finds the schedule file of the last run does the same.
    assert set(beat_jobs_sent_at_start(tmp_path / "celerybeat-schedule")) == jobs


@pytest.mark.django_db(transaction=True)
def test_embedded_scheduler_runs_every_job_at_start(settings):
    settings.TASK_RUNNER = "thread"
    ran: list[str] = []
    scheduler = task_runner.PeriodicScheduler(
        entries={"daily": {"task": "daily", "schedule": 86_400.0}},
        resolve=lambda name: type("T", (), {"name": name, "run": lambda *a: ran.append(name)}),
    )
    assert scheduler.run_due() == ["daily"]
    task_runner.drain()
    assert ran == ["daily"]
    assert scheduler.run_due() == []
