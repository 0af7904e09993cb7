"""The run engine's driver interface, with a driver of the test's own: the engine runs any
registered kind, reports an ApplicationError's code, calls ``finished`` once the end is
recorded, and parks a run whose driver raises ``RunWaiting`` until it is resumed."""

from __future__ import annotations

from typing import Any

import pytest

from backend.core.errors import ApplicationError, ConflictError
from backend.runs import drivers, lease
from backend.runs.drivers import Driver, RunContext, RunWaiting, driver_for, register_driver
from backend.runs.eventlog import get_event_log, reset_for_tests
from backend.runs.executor import execute_run
from backend.runs.models import Run, RunEvent
from backend.runs.services import run_cancel, run_resume
from backend.runs.worker_loop import run_on_process_loop

pytestmark = pytest.mark.django_db(transaction=True)
KIND = "test_kind"


class Recorder:
    def __init__(self) -> None:
        self.attempts: list[int] = []
        self.finished: list[str] = []
        self.outcomes: list[Any] = []  # what each attempt does: a result or an exception

    async def drive(self, ctx: RunContext) -> dict[str, Any] | None:
        self.attempts.append(ctx.run.attempt)
        await ctx.emit("step.started", {"node": "work", "step": len(self.attempts)})
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def on_finished(self, run: Run) -> None:
        self.finished.append(run.status)


@pytest.fixture
def recorder(settings, monkeypatch):
    settings.TASK_RUNNER = "thread"
    reset_for_tests()
    monkeypatch.setattr(drivers, "_drivers", dict(drivers._drivers))
    found = Recorder()
    register_driver(KIND, Driver(drive=found.drive, on_finished=found.on_finished))
    enqueued: list[str] = []
    monkeypatch.setattr("backend.runs.services.run_enqueue", lambda **kw: enqueued.append(kw))
    found.enqueued = enqueued  # type: ignore[attr-defined]
    return found


def execute(run: Run) -> Run:
    # On the worker's long-lived loop, as in production (buffered events with PostgreSQL).
    run_on_process_loop(execute_run(run_id=str(run.id)))
    run.refresh_from_db()
    return run


def logged(run: Run) -> list[tuple[str, dict]]:
    return [(e.type, e.data) for e in get_event_log().range(run_id=str(run.id))]


def new_run() -> Run:
    return Run.objects.create(kind=KIND, client_id="c", model="none")


def test_every_app_registers_its_kind_and_an_unknown_kind_is_an_internal_error():
    assert {"chat", "factoid", "channel_fetch"} <= set(drivers._drivers)
    assert driver_for("channel_fetch").queue == "long"
    assert driver_for("chat").queue == "default"
    with pytest.raises(ApplicationError) as missing:
        driver_for("no_such_kind")
    assert missing.value.code == "INTERNAL_ERROR"


def test_a_kind_has_one_driver(recorder):
    with pytest.raises(RuntimeError):
        register_driver(KIND, Driver(drive=recorder.drive))


def test_a_completed_run_reports_its_result_then_calls_finished(recorder):
    recorder.outcomes = [{"answer": 42}]
    run = execute(new_run())
    assert (run.status, run.result) == ("completed", {"answer": 42})
    assert recorder.finished == ["completed"]
    assert logged(run)[-1][0] == "run.completed"
    assert logged(run)[-1][1]["result"] == {"answer": 42}


def test_an_application_error_fails_the_run_with_its_code(recorder):
    class Duplicate(ConflictError):
        code = "DUPLICATE_THING"

    recorder.outcomes = [Duplicate("It is there already.")]
    run = execute(new_run())
    assert (run.status, run.error_code, run.error_message) == (
        "failed",
        "DUPLICATE_THING",
        "It is there already.",
    )
    assert logged(run)[-1] == (
        "run.failed",
        {"error": {"code": "DUPLICATE_THING", "message": "It is there already."}},
    )
    assert recorder.finished == ["failed"]


def test_a_failing_finished_hook_does_not_lose_the_end_event(recorder, monkeypatch):
    def broken(run: Run) -> None:
        raise RuntimeError("webhook store down")

    monkeypatch.setattr(recorder, "on_finished", broken)
    drivers._drivers[KIND] = Driver(drive=recorder.drive, on_finished=recorder.on_finished)
    recorder.outcomes = [{"ok": True}]
    run = execute(new_run())
    assert run.status == "completed"
    assert logged(run)[-1][0] == "run.completed"


def test_a_waiting_run_is_parked_without_failing_or_retrying_and_resumes(recorder):
    recorder.outcomes = [RunWaiting({"approval_id": "ap-1"}), {"done": True}]
    run = execute(new_run())
    # Parked: not a failure, no worker or lease held, the attempt handed back.
    assert (run.status, run.error_code, run.lease_owner, run.lease_expires_at) == (
        "waiting",
        "",
        "",
        None,
    )
    assert run.attempt == 0 and not run.is_finished
    assert logged(run)[-1] == ("run.waiting", {"approval_id": "ap-1"})
    # The parked attempt's events are in the store too (its emitter is flushed).
    stored = list(RunEvent.objects.filter(run=run).order_by("seq").values_list("type", flat=True))
    assert stored[-2:] == ["step.started", "run.waiting"]
    assert recorder.finished == []  # it has not ended
    # Nobody hands it to a worker meanwhile: not the reaper, not a duplicate delivery.
    assert str(run.id) not in lease.runs_with_expired_lease()
    assert str(run.id) not in lease.runs_waiting_to_start()
    assert lease.run_claim(run_id=str(run.id), worker_id="w", lease_s=30)[0] == "waiting"

    assert run_resume(run_id=str(run.id)) is True
    assert recorder.enqueued == [{"run_id": str(run.id), "kind": KIND}]
    assert run_resume(run_id=str(run.id)) is False  # queued, no longer waiting
    run = execute(run)
    assert (run.status, run.result, run.attempt) == ("completed", {"done": True}, 1)
    assert recorder.attempts == [1, 1]  # the same attempt, continued
    assert [t for t, _ in logged(run)].count("run.failed") == 0
    assert recorder.finished == ["completed"]


def test_a_waiting_run_holds_its_session_and_a_cancel_ends_it_at_once(recorder):
    import uuid

    from backend.runs.services import session_advance

    session_id = uuid.uuid4()
    recorder.outcomes = [RunWaiting({"approval_id": "ap-2"})]
    first = Run.objects.create(kind=KIND, client_id="c", model="none", session_id=session_id)
    second = Run.objects.create(
        kind=KIND, client_id="c", model="none", session_id=session_id, ordinal=2
    )
    first = execute(first)
    assert first.status == "waiting"
    recorder.enqueued.clear()
    assert session_advance(session_id=str(session_id)) is None  # the parked run goes first
    assert lease.run_claim(run_id=str(second.id), worker_id="w", lease_s=30)[0] == "waiting"

    assert run_cancel(run=first).status == "cancelled"
    assert logged(first)[-1][0] == "run.cancelled"
    assert session_advance(session_id=str(session_id)) == str(second.id)
