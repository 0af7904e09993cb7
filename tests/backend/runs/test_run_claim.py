"""The claim: one statement for a run that may start (with the highest stored seq of its
events), and the reason why not for one that may not — on whichever database the tests
run on (SQLite here, PostgreSQL in CI); two workers claiming one run at once on PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import close_old_connections
from django.utils import timezone

from backend.runs import lease
from backend.runs.models import Run, RunEvent

pytestmark = pytest.mark.django_db(transaction=True)


def new_run(**fields) -> Run:
    return Run.objects.create(kind="test_kind", client_id="c", model="none", **fields)


def claim(run: Run, worker: str = "w1") -> tuple[str, Run | None]:
    return lease.run_claim(run_id=str(run.id), worker_id=worker, lease_s=30)


def test_a_queued_run_is_claimed_with_its_lease_and_the_last_stored_seq():
    run = new_run()
    RunEvent.objects.create(run=run, seq=1, type="run.queued", ts=timezone.now())
    RunEvent.objects.create(run=run, seq=4, type="step.started", ts=timezone.now())
    before = timezone.now()
    outcome, claimed = claim(run)
    assert outcome == "claimed" and claimed is not None
    assert claimed.last_stored_seq == 4
    assert (claimed.status, claimed.attempt, claimed.lease_owner) == ("running", 1, "w1")
    assert claimed.input == {} and claimed.session_id is None  # the fields as stored
    stored = Run.objects.get(pk=run.pk)
    assert (stored.status, stored.attempt, stored.lease_owner) == ("running", 1, "w1")
    assert stored.lease_expires_at >= before + timedelta(seconds=29)
    assert stored.started_at is not None and stored.started_at == claimed.started_at


def test_a_run_with_no_stored_events_starts_numbering_at_zero():
    assert claim(new_run())[1].last_stored_seq == 0


def test_a_live_lease_is_busy_and_an_expired_one_is_claimed_again_keeping_its_start():
    run = new_run()
    first = claim(run)[1]
    assert claim(run, "w2")[0] == "busy"
    Run.objects.filter(pk=run.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    outcome, again = claim(run, "w2")
    assert outcome == "claimed"
    assert (again.attempt, again.lease_owner) == (2, "w2")
    assert again.started_at == first.started_at


def test_an_earlier_run_of_the_session_goes_first():
    session_id = uuid.uuid4()
    first = new_run(session_id=session_id, ordinal=1)
    second = new_run(session_id=session_id, ordinal=2)
    assert claim(second)[0] == "waiting"
    assert claim(first)[0] == "claimed"
    assert claim(second)[0] == "waiting"  # the first is running on a live lease
    Run.objects.filter(pk=first.pk).update(status="completed", lease_expires_at=None)
    assert claim(second)[0] == "claimed"


def test_finished_waiting_cancelled_and_exhausted_runs_are_not_claimed():
    done = new_run(status="completed")
    assert claim(done)[0] == "finished"
    parked = new_run(status="waiting")
    assert claim(parked)[0] == "waiting"
    cancelled = new_run(cancel_requested=True)
    assert claim(cancelled)[0] == "cancelled"
    assert Run.objects.get(pk=cancelled.pk).status == "cancelled"
    spent = new_run(status="running", attempt=lease.MAX_ATTEMPTS)
    assert claim(spent)[0] == "exhausted"
    assert Run.objects.get(pk=spent.pk).error_code == "INTERNAL_ERROR"
    assert claim(new_run(status="running", attempt=lease.MAX_ATTEMPTS - 1))[0] == "claimed"


def test_the_locked_path_claims_too_when_the_run_became_claimable_meanwhile(monkeypatch):
    """The one-statement claim found it not claimable; by the time the locked read looks,
    it is (its session's earlier run just ended): it is claimed there, seq and all."""
    monkeypatch.setattr(lease, "_claim_at_once", lambda **_: None)
    run = new_run()
    RunEvent.objects.create(run=run, seq=2, type="run.queued", ts=timezone.now())
    outcome, claimed = claim(run)
    assert outcome == "claimed" and claimed.last_stored_seq == 2
    assert Run.objects.get(pk=run.pk).status == "running"


@pytest.mark.postgres
def test_two_workers_claiming_one_run_at_once_one_wins():
    for _ in range(10):
        run = new_run()
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def worker(
            name: str,
            run: Run = run,
            barrier: threading.Barrier = barrier,
            outcomes: list[str] = outcomes,
        ) -> None:
            try:
                barrier.wait()
                outcomes.append(claim(run, name)[0])
            finally:
                close_old_connections()

        threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["busy", "claimed"]
        assert Run.objects.get(pk=run.pk).attempt == 1


def test_the_end_is_recorded_with_the_runs_its_session_has_left():
    session_id = uuid.uuid4()
    first = new_run(session_id=session_id, ordinal=1)
    claim(first)
    ended = lease.run_end(run_id=str(first.id), worker_id="w1", status="completed", result={"a": 1})
    assert (ended.status, ended.result, ended.lease_expires_at) == ("completed", {"a": 1}, None)
    assert ended.finished_at is not None and ended.session_runs_left == 0
    second = new_run(session_id=session_id, ordinal=2)
    new_run(session_id=session_id, ordinal=3)
    new_run(session_id=session_id, ordinal=4, status="failed")  # ended: not left
    claim(second)
    ended = lease.run_end(run_id=str(second.id), worker_id="w1", status="failed", code="X")
    assert (ended.error_code, ended.session_runs_left) == ("X", 1)


def test_the_end_is_not_recorded_by_a_worker_that_no_longer_holds_the_run():
    run = new_run()
    claim(run, "w1")
    Run.objects.filter(pk=run.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    claim(run, "w2")  # taken over
    assert lease.run_end(run_id=str(run.id), worker_id="w1", status="completed") is None
    assert Run.objects.get(pk=run.pk).status == "running"
