"""Runs as tasks on a worker's loop: many in flight per thread, leases kept in one beat,
runs given back when the worker shuts down."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from backend.clients.services import client_create
from backend.core import task_runner
from backend.runs.eventlog import reset_for_tests
from backend.runs.lease_keeper import LeaseKeeper
from backend.runs.models import Run
from backend.runs.tasks import runs_reap
from tests.backend.runs.helpers import logged_events
from tests.conftest import wait_for

REQUEST = "hashtags for a home espresso channel"


@pytest.fixture
def celery_mode(settings):
    settings.TASK_RUNNER = "celery"
    reset_for_tests()
    yield
    reset_for_tests()


def _post_from_new_clients(count: int) -> list[str]:
    """One chat from each of ``count`` clients (a client's own in-flight limit stays out
    of the way)."""
    from rest_framework.test import APIClient

    run_ids = []
    for number in range(count):
        _client, token = client_create(ip_hash=f"in-flight-{number}")
        api = APIClient()
        api.credentials(HTTP_X_CLIENT_TOKEN=token)
        session = api.post("/api/chat/sessions/", {}, format="json").json()
        response = api.post(
            f"/api/chat/sessions/{session['id']}/messages/", {"content": REQUEST}, format="json"
        )
        assert response.status_code == 202, response.content
        run_ids.append(response.json()["run_id"])
    return run_ids


def _running(run_ids: list[str]) -> int:
    return Run.objects.filter(pk__in=run_ids, status=Run.Status.RUNNING).count()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_one_worker_thread_holds_many_runs_at_once_up_to_its_bound(
    celery_mode, celery_worker_factory
):
    """Before: a run held its Celery thread to the end, so one thread meant one run at a
    time. Now the thread only delivers; ``RUN_MAX_IN_FLIGHT`` bounds what is in flight."""
    celery_worker_factory(
        queues="default,long",
        pool="threads",
        concurrency=1,
        extra_env={"OFFLINE_TOKEN_DELAY_MS": "120", "RUN_MAX_IN_FLIGHT": "5"},
    )
    run_ids = _post_from_new_clients(7)
    most = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        most = max(most, _running(run_ids))
        done = Run.objects.filter(pk__in=run_ids, status=Run.Status.COMPLETED).count()
        if done == len(run_ids):
            break
        time.sleep(0.05)
    assert most == 5
    assert Run.objects.filter(pk__in=run_ids, status=Run.Status.COMPLETED).count() == 7
    assert set(Run.objects.filter(pk__in=run_ids).values_list("attempt", flat=True)) == {1}


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_shut_down_gives_its_runs_back_and_the_next_one_resumes_them(
    celery_mode, celery_worker_factory
):
    slow = {"OFFLINE_TOKEN_DELAY_MS": "150", "RUN_DRAIN_S": "0.5", "RUN_LEASE_S": "30"}
    first = celery_worker_factory(queues="default,long", pool="threads", extra_env=slow)
    (run_id,) = _post_from_new_clients(1)
    wait_for(lambda: any(e.type == "message.delta" for e in logged_events(run_id)), timeout=60)
    first.stop()
    run = Run.objects.get(pk=run_id)
    # Given back at once, not held for the 30 s lease by a process that is gone.
    assert run.status == Run.Status.RUNNING
    assert run.lease_expires_at is not None and run.lease_expires_at <= timezone.now()
    assert "runs_given_back_at_shutdown" in first.log()

    celery_worker_factory(
        queues="default,long", pool="threads", extra_env={"OFFLINE_TOKEN_DELAY_MS": "0"}
    )
    task_runner.enqueue(runs_reap)
    run = wait_for(lambda: Run.objects.filter(pk=run_id, status="completed").first(), timeout=60)
    assert run.attempt == 2
    log = logged_events(run_id)
    assert [e.seq for e in log] == list(range(1, len(log) + 1))
    assert log[-1].type == "run.completed"


def _running_run(*, owner: str, **fields) -> Run:
    client, _token = client_create(ip_hash="keeper")
    return Run.objects.create(
        client_id=str(client.id),
        kind="chat",
        status=Run.Status.RUNNING,
        attempt=1,
        lease_owner=owner,
        lease_expires_at=timezone.now() + timedelta(seconds=5),
        input={"content": "x"},
        **fields,
    )


@pytest.mark.django_db(transaction=True)
def test_the_lease_keeper_beats_for_all_its_runs_and_tells_each_what_happened(settings):
    settings.ENV = settings.ENV.model_copy(update={"RUN_LEASE_S": 60})
    kept = _running_run(owner="w:kept")
    taken = _running_run(owner="w:taken")
    cancelled = _running_run(owner="w:cancelled")
    heard: list[tuple[str, str]] = []
    # Another worker took one over (its lease ran out); a client cancelled another.
    Run.objects.filter(pk=taken.pk).update(lease_owner="other:worker")
    Run.objects.filter(pk=cancelled.pk).update(cancel_requested=True)

    async def beat_once() -> None:
        keeper = LeaseKeeper()
        for run, owner in ((kept, "w:kept"), (taken, "w:taken"), (cancelled, "w:cancelled")):
            keeper.hold(
                str(run.id),
                owner=owner,
                on_lost=lambda run=run: heard.append(("lost", str(run.id))),
                on_cancel=lambda run=run: heard.append(("cancel", str(run.id))),
            )
        await keeper.beat()
        assert keeper.held == 1
        await keeper.beat()  # the runs it let go are not told twice
        keeper.release(str(kept.id))

    asyncio.run(beat_once())
    assert sorted(heard) == sorted([("lost", str(taken.id)), ("cancel", str(cancelled.id))])
    kept.refresh_from_db()
    taken.refresh_from_db()
    assert kept.lease_expires_at > timezone.now() + timedelta(seconds=50)
    assert taken.lease_expires_at < timezone.now() + timedelta(seconds=10)
