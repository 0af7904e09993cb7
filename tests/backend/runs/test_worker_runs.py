"""Runs on real Celery worker processes against PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import time

import pytest

from backend.core import task_runner
from backend.guard.models import LlmCall
from backend.runs.emitter import NOT_STORED
from backend.runs.eventlog import reset_for_tests
from backend.runs.models import Run, RunEvent
from backend.runs.tasks import runs_reap
from tests.backend.runs.helpers import collect, logged_events
from tests.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

REQUEST = "give me video ideas for a home-espresso channel and the hashtags to use"


@pytest.fixture(autouse=True)
def celery_mode(settings):
    settings.TASK_RUNNER = "celery"
    reset_for_tests()
    yield
    reset_for_tests()


def post(client, session_id, content=REQUEST):
    response = client.post(
        f"/api/chat/sessions/{session_id}/messages/", {"content": content}, format="json"
    )
    assert response.status_code == 202, response.content
    return response.json()


def assert_store_matches_log(run_id: str) -> None:
    """The durable copy has every logged event but the deltas (replays after expiry)."""
    logged = [(e.seq, e.type) for e in logged_events(run_id) if e.type not in NOT_STORED]

    def stored() -> list:
        rows = RunEvent.objects.filter(run_id=run_id).order_by("seq").values_list("seq", "type")
        return list(rows)

    # The terminal event reaches the log (and so the client) just before its stored copy.
    wait_for(lambda: stored() == logged, timeout=10)
    assert stored() == logged


@pytest.mark.parametrize("pool", ["prefork", "threads"])
def test_chat_run_on_a_real_worker(anon_client, celery_worker_factory, pool):
    celery_worker_factory(queues="default,long", pool=pool, concurrency=4)
    session = anon_client.post("/api/chat/sessions/", {}, format="json").json()
    body = post(anon_client, session["id"])
    frames = asyncio.run(collect(body["stream_url"], timeout=60))
    assert frames[-1]["event"] == "run.completed"
    assert [f["payload"]["seq"] for f in frames] == list(range(1, len(frames) + 1))
    run = Run.objects.get(pk=body["run_id"])
    assert run.status == "completed" and run.attempt == 1
    assert_store_matches_log(body["run_id"])
    # The worker's ledger rows and the run's totals (one statement per model call).
    calls = LlmCall.objects.filter(run_id=body["run_id"])
    assert calls.count() >= 2
    assert run.input_tokens == sum(c.input_tokens for c in calls) > 0
    assert run.output_tokens == sum(c.output_tokens for c in calls) > 0
    assert {c.client_id for c in calls} == {run.client_id}


def test_worker_killed_mid_run_resumes_from_checkpoint(anon_client, celery_worker_factory):
    """SIGKILL the whole worker group while the answer streams; a new worker finishes the
    run as attempt 2, finished tool calls are not executed again, and the client's text is
    right after message.reset."""
    slow = {"OFFLINE_TOKEN_DELAY_MS": "80", "RUN_LEASE_S": "3", "RUN_HEARTBEAT_S": "0.5"}
    # The production pool (insightstream worker): threads sharing one event loop.
    first = celery_worker_factory(queues="default,long", extra_env=slow, pool="threads")
    session = anon_client.post("/api/chat/sessions/", {}, format="json").json()
    body = post(anon_client, session["id"])
    run_id = body["run_id"]
    wait_for(lambda: any(e.type == "message.delta" for e in logged_events(run_id)), timeout=60)
    first.kill()
    killed_at = time.monotonic()
    assert Run.objects.get(pk=run_id).status == "running"

    celery_worker_factory(
        queues="default,long", extra_env={**slow, "OFFLINE_TOKEN_DELAY_MS": "0"}, pool="threads"
    )
    # The periodic reaper's tick, once the dead worker's lease has run out.
    time.sleep(max(0.0, 3.5 - (time.monotonic() - killed_at)))
    task_runner.enqueue(runs_reap)
    run = wait_for(lambda: Run.objects.filter(pk=run_id, status="completed").first(), timeout=60)
    assert run.attempt == 2

    log = logged_events(run_id)
    assert [e.seq for e in log] == list(range(1, len(log) + 1))
    completed_calls = [e.data["call_id"] for e in log if e.type == "tool.completed"]
    assert completed_calls and len(completed_calls) == len(set(completed_calls))
    resets = [e for e in log if e.type == "message.reset"]
    assert len(resets) == 1 and resets[0].attempt == 2
    after_reset = [e for e in log if e.seq > resets[0].seq]
    text = "".join(e.data["text"] for e in after_reset if e.type == "message.delta")
    final = next(e for e in log if e.type == "message.completed").data["text"]
    assert text == final
    assert log[-1].type == "run.completed" and log[-1].attempt == 2
    # Events the killed attempt logged but had not stored yet are stored at the end.
    assert_store_matches_log(run_id)


WORKER_APP_NAME = "insightstream-test-worker"


def _terminate_worker_connections() -> int:
    """What a PostgreSQL restart does to a worker: every connection but this test's dies."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s",
            [WORKER_APP_NAME],
        )
        return cursor.fetchone()[0]


def test_worker_runs_again_after_its_database_connections_die(anon_client, celery_worker_factory):
    """Before: the worker's ORM thread kept its dead connection, and every later run failed
    to be claimed (``the connection is closed``) until the worker was restarted."""
    # libpq names the worker's connections, so only they are cut (not this test's pool).
    celery_worker_factory(
        queues="default,long",
        pool="threads",
        concurrency=4,
        extra_env={"PGAPPNAME": WORKER_APP_NAME},
    )
    session = anon_client.post("/api/chat/sessions/", {}, format="json").json()
    first = post(anon_client, session["id"])
    frames = asyncio.run(collect(first["stream_url"], timeout=60))
    assert frames[-1]["event"] == "run.completed"
    assert _terminate_worker_connections() > 0
    second = post(anon_client, session["id"], content="and three more ideas")
    frames = asyncio.run(collect(second["stream_url"], timeout=60))
    assert frames[-1]["event"] == "run.completed", frames[-1]
    assert Run.objects.get(pk=second["run_id"]).attempt == 1
