"""A run recorded as ended whose terminal event never got out is announced by the reaper.

Before: four runs of the soak (a worker shut down while their ``run.completed`` waited for
Redis) were ``completed`` in the database with no terminal event in the log or the store;
their clients reconnected 40 times over 300 s and never saw the end.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from django.utils import timezone

from backend.runs.emitter import RunEmitter
from backend.runs.models import Run, RunEvent
from backend.runs.sse import Tail
from backend.runs.tasks import ANNOUNCE_GRACE_S, runs_reap

pytestmark = pytest.mark.django_db(transaction=True)


def ended_run(*, ago_s: float, **fields) -> Run:
    run = Run.objects.create(
        kind="chat",
        client_id="c",
        model="offline",
        attempt=1,
        started_at=timezone.now() - timedelta(seconds=ago_s + 5),
        finished_at=timezone.now() - timedelta(seconds=ago_s),
        **fields,
    )
    emitter = RunEmitter(run_id=str(run.id), attempt=1)
    emitter.emit("run.started", {})
    emitter.emit("message.completed", {"message_id": "m-1", "text": "Hello"})
    return run


def types(run: Run) -> list[str]:
    return list(RunEvent.objects.filter(run=run).order_by("seq").values_list("type", flat=True))


def test_the_reaper_announces_an_end_that_never_got_out():
    run = ended_run(
        ago_s=ANNOUNCE_GRACE_S + 30,
        status="completed",
        result={"message_id": "m-1"},
        input_tokens=12,
        output_tokens=34,
    )
    failed = ended_run(
        ago_s=ANNOUNCE_GRACE_S + 30, status="failed", error_code="RUN_TIMEOUT", error_message="x"
    )
    recent = ended_run(ago_s=5, status="completed", result={"message_id": "m-1"})
    runs_reap()
    assert types(run) == ["run.started", "message.completed", "run.completed"]
    end = RunEvent.objects.get(run=run, type="run.completed")
    assert end.data["message_id"] == "m-1"
    assert end.data["usage"] == {"input_tokens": 12, "output_tokens": 34, "cost_usd": "0.000000"}
    failed_end = RunEvent.objects.get(run=failed, type="run.failed")
    assert failed_end.data["error"]["code"] == "RUN_TIMEOUT"
    assert types(recent) == ["run.started", "message.completed"]  # its worker may still send it
    runs_reap()  # once only
    assert types(run) == ["run.started", "message.completed", "run.completed"]

    # A reader that had seen everything before it now gets the end.
    async def read() -> list[str]:
        return [event.type async for event in Tail(run_id=str(run.id), after_seq=2)]

    assert asyncio.run(asyncio.wait_for(read(), timeout=10)) == ["run.completed"]


def test_runs_with_their_end_announced_are_left_alone():
    run = ended_run(ago_s=ANNOUNCE_GRACE_S + 30, status="cancelled", error_message="stop")
    RunEmitter(run_id=str(run.id), attempt=1).emit("run.cancelled", {"reason": "stop"})
    runs_reap()
    assert types(run) == ["run.started", "message.completed", "run.cancelled"]
