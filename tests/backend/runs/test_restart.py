from unittest import mock

import psycopg
import pytest
from django.utils import timezone

from backend.core import task_runner
from backend.runs import drivers, executor
from backend.runs.eventlog import reset_for_tests
from backend.runs.lease import (
    runs_release_all_leases,
    runs_waiting_to_start,
    runs_with_expired_lease,
)
from backend.runs.models import Run, RunEvent
from backend.runs.tasks import runs_reap
from tests.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def interrupted_run(client_id: str, session_id: str) -> Run:
    """A run a dead process left 'running', its lease not yet run out."""
    return Run.objects.create(
        kind="chat",
        client_id=client_id,
        model="offline",
        session_id=session_id,
        ordinal=1,
        status="running",
        attempt=1,
        lease_owner="dead-process",
        lease_expires_at=timezone.now() + timezone.timedelta(minutes=5),
        input={"content": "hashtags for espresso"},
    )


def test_embedded_restart_resumes_interrupted_and_queued_runs(anon_client, settings):
    """A run left 'running' by a dead process and a queued run nobody started are both
    picked up at start-up (release leases, then the reaper's first tick)."""
    settings.TASK_RUNNER = "thread"
    session = anon_client.post("/api/chat/sessions/", {}, format="json").json()
    interrupted = interrupted_run(anon_client.client_id, session["id"])
    assert runs_with_expired_lease() == []
    assert runs_release_all_leases() == 1
    assert runs_with_expired_lease() == [str(interrupted.id)]
    task_runner.enqueue(runs_reap)
    run = wait_for(
        lambda: Run.objects.filter(pk=interrupted.pk, status="completed").first(), timeout=30
    )
    assert run.attempt == 2


def test_a_resumed_run_numbers_its_events_after_the_stored_ones(anon_client, settings):
    """The embedded log lives in memory: after a restart it has forgotten the interrupted
    attempt, while the database kept its events. Before: attempt 2 numbered from 1 again and
    failed on the store's unique (run_id, seq)."""
    settings.TASK_RUNNER = "thread"
    session = anon_client.post("/api/chat/sessions/", {}, format="json").json()
    interrupted = interrupted_run(anon_client.client_id, session["id"])
    # What the dead process stored of attempt 1 (its log went with it).
    RunEvent.objects.bulk_create(
        RunEvent(run_id=interrupted.id, seq=seq, type=kind, attempt=1, data={}, ts=timezone.now())
        for seq, kind in enumerate(["run.started", "tool.started", "tool.completed"], start=1)
    )
    reset_for_tests()
    runs_release_all_leases()
    task_runner.enqueue(runs_reap)
    # The run's end is recorded before its terminal event is: wait for the event.
    wait_for(
        lambda: RunEvent.objects.filter(
            run_id=interrupted.id, type__in=["run.completed", "run.failed"]
        ).exists(),
        timeout=30,
    )
    run = Run.objects.get(pk=interrupted.pk)
    assert run.status == "completed", run.error_code
    attempt_two = RunEvent.objects.filter(run_id=interrupted.id, attempt=2).order_by("seq")
    assert attempt_two.first().seq == 4  # right after the stored ones (deltas are not stored)
    assert attempt_two.last().type == "run.completed"


def test_stale_queued_heads_only(settings):
    old = Run.objects.create(kind="chat", client_id="c", model="offline")
    Run.objects.filter(pk=old.pk).update(created_at=timezone.now() - timezone.timedelta(minutes=10))
    Run.objects.create(kind="chat", client_id="c", model="offline")
    assert runs_waiting_to_start(older_than_s=60) == [str(old.id)]


def test_an_attempt_whose_database_went_away_is_given_back_and_resumed(anon_client, settings):
    """A PostgreSQL restart under a running attempt (the checkpointer's write fails with
    "server closed the connection unexpectedly"): before, the run failed with
    INTERNAL_ERROR; now the attempt gives its lease back and the next attempt finishes it."""
    settings.TASK_RUNNER = "thread"
    real = drivers.driver_for
    failed_once: list[str] = []

    class Flaky:
        def __init__(self, kind):
            self.inner = real(kind)

        async def run(self, ctx):
            if not failed_once:
                failed_once.append(ctx.run_id)
                raise psycopg.OperationalError("server closed the connection unexpectedly")
            return await self.inner.run(ctx)

        def finished(self, run):
            self.inner.finished(run)

    session = anon_client.post("/api/chat/sessions/", {}, format="json").json()
    with mock.patch.object(executor, "driver_for", Flaky):
        response = anon_client.post(
            f"/api/chat/sessions/{session['id']}/messages/",
            {"content": "hashtags for espresso"},
            format="json",
        )
        assert response.status_code == 202
        run_id = response.json()["run_id"]
        wait_for(lambda: failed_once, timeout=30)
        run = wait_for(
            lambda: Run.objects.filter(pk=run_id, lease_expires_at__lte=timezone.now()).first(),
            timeout=30,
        )
        assert run.status == "running"  # given back, not failed
        task_runner.enqueue(runs_reap)
        run = wait_for(
            lambda: Run.objects.filter(pk=run_id, status__in=Run.TERMINAL).first(), timeout=30
        )
    assert (run.status, run.attempt) == ("completed", 2), run.error_message
