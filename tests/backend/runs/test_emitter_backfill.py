"""A killed attempt's logged-but-unstored events reach the store at the next attempt's
end; a first attempt stores its own pending events and reads nothing back."""

from __future__ import annotations

import pytest

from backend.runs.emitter import RunEmitter
from backend.runs.eventlog import get_event_log
from backend.runs.models import Run, RunEvent
from backend.runs.worker_loop import run_on_process_loop

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def stored(run_id: str) -> list[tuple[int, str, int]]:
    rows = RunEvent.objects.filter(run_id=run_id).order_by("seq")
    return list(rows.values_list("seq", "type", "attempt"))


def test_the_next_attempt_stores_what_a_killed_one_only_logged():
    run = Run.objects.create(kind="chat", client_id="c", model="offline", status="running")
    run_id = str(run.id)
    first = RunEmitter(run_id=run_id, attempt=1, buffered=True)
    run_on_process_loop(first.aemit("run.started", {}))
    run_on_process_loop(first.aemit("plan", {"tool_calls": []}))
    assert stored(run_id) == []  # pending: the attempt dies before its next flush point

    second = RunEmitter(run_id=run_id, attempt=2, buffered=True)
    run_on_process_loop(second.aemit("message.delta", {"text": "hi"}))
    run_on_process_loop(second.aemit("run.completed", {}))

    assert stored(run_id) == [(1, "run.started", 1), (2, "plan", 1), (4, "run.completed", 2)]


def test_a_first_attempt_stores_its_own_events_without_reading_the_log(monkeypatch):
    run = Run.objects.create(kind="chat", client_id="c", model="offline", status="running")
    run_id = str(run.id)
    emitter = RunEmitter(run_id=run_id, attempt=1, buffered=True)
    run_on_process_loop(emitter.aemit("run.started", {}))
    run_on_process_loop(emitter.aemit("plan", {"tool_calls": []}))

    log = get_event_log()

    async def no_reads(**_kwargs):
        raise AssertionError("a first attempt read its log back")

    monkeypatch.setattr(log, "arange", no_reads)
    run_on_process_loop(emitter.aemit("run.completed", {}))

    assert stored(run_id) == [(1, "run.started", 1), (2, "plan", 1), (3, "run.completed", 1)]


def test_a_log_gone_at_the_end_still_stores_the_attempts_own_events(monkeypatch):
    """Redis goes away between the end's append and the read-back (a restart): the end
    and what this attempt holds are stored, instead of the run crashing unrecorded."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    run = Run.objects.create(kind="chat", client_id="c", model="offline", status="running")
    run_id = str(run.id)
    second = RunEmitter(run_id=run_id, attempt=2, buffered=True)
    run_on_process_loop(second.aemit("run.started", {}))
    log = get_event_log()

    async def away(**_kwargs):
        raise RedisConnectionError("Redis is restarting")

    monkeypatch.setattr(log, "arange", away)
    run_on_process_loop(second.aemit("run.completed", {}))

    assert stored(run_id) == [(1, "run.started", 2), (2, "run.completed", 2)]
