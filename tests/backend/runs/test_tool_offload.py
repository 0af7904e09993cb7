"""Long tool calls as their own Celery tasks (queue ``long``), on real worker processes,
PostgreSQL and Redis: progress in the run's stream, no deadlock when every run slot is
busy, and a worker killed mid-tool does not lose or repeat the call."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import async_to_sync

from backend.chat.tool_calls import ToolCallStore
from backend.core import task_runner
from backend.guard.models import LlmCall
from backend.runs.eventlog import reset_for_tests
from backend.runs.models import Run
from backend.runs.tasks import runs_reap
from tests.backend.runs.helpers import collect, logged_events
from tests.conftest import wait_for
from tests.fakes.openai_server import Reply, ToolCallReply

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
MODEL = "test/priced"
DECLARED = [{"id": MODEL, "input_per_million": "1", "output_per_million": "2"}]


@pytest.fixture(autouse=True)
def celery_mode(settings):
    settings.TASK_RUNNER = "celery"
    reset_for_tests()
    yield
    reset_for_tests()


@pytest.fixture
def real_model(env, openai_server, never_ask):
    env(OPENROUTER_API_KEY="sk-test", OPENROUTER_BASE_URL=openai_server.base_url,
        DECLARED_MODELS=DECLARED)  # fmt: skip
    worker_env = {
        "OPENROUTER_API_KEY": "sk-test",
        "OPENROUTER_BASE_URL": openai_server.base_url,
        "DECLARED_MODELS": json.dumps(DECLARED),
        "RUN_LEASE_S": "3",
        "RUN_HEARTBEAT_S": "0.5",
    }
    return openai_server, worker_env


def is_tool_request(body: dict[str, Any]) -> bool:
    """The hashtags tool's own model call (no tools bound, not the agent's prompt)."""
    return "tools" not in body and "You are InsightStream" not in body["messages"][0]["content"]


def scripted(tool_gate: threading.Event):
    """Plan: call hashtags once; the tool's own call waits for ``tool_gate``; then text."""

    def reply(body: dict[str, Any]) -> Reply:
        if is_tool_request(body):
            return Reply(text='{"suggestions": []}', gate=tool_gate, cost=0.0002)
        has_tool_results = any(m.get("role") == "tool" for m in body["messages"])
        if body.get("tools") and not has_tool_results:
            return Reply(
                tool_calls=[ToolCallReply(name="hashtags", arguments={"topic": "espresso"})],
                cost=0.0003,
            )
        return Reply(text="Use #espresso.", cost=0.0005)

    return reply


def tool_requests(server) -> int:
    return sum(1 for body in server.requests if is_tool_request(body))


def post(client, content: str, model: str | None = None) -> dict[str, Any]:
    session = client.post("/api/chat/sessions/", {"model": model} if model else {}, format="json")
    response = client.post(
        f"/api/chat/sessions/{session.json()['id']}/messages/", {"content": content}, format="json"
    )
    assert response.status_code == 202, response.content
    return response.json()


def stored_result(run_id: str, call_id: str) -> dict[str, Any] | None:
    return async_to_sync(ToolCallStore(run_id=run_id, call_id=call_id).result)()


def test_a_long_tool_runs_on_the_long_queue_attributed_to_its_run(
    anon_client, real_model, celery_worker_factory
):
    server, worker_env = real_model
    gate = threading.Event()
    server.script(scripted(gate))
    runs = celery_worker_factory(queues="default", pool="threads", extra_env=worker_env)
    tools = celery_worker_factory(queues="long", pool="threads", extra_env=worker_env)
    body = post(anon_client, "hashtags for espresso", MODEL)
    # The tool's model call is held: the call runs on the tool worker, not the run's.
    assert server.wait_for_requests(2, timeout_s=30)
    received = "Task backend.runs.tasks.tool_execute["
    wait_for(lambda: received in tools.log(), timeout=10)
    assert received not in runs.log()
    gate.set()
    frames = asyncio.run(collect(body["stream_url"], timeout=60))

    types = [f["event"] for f in frames]
    assert types[-1] == "run.completed", frames[-1]
    assert [f["payload"]["seq"] for f in frames] == list(range(1, len(frames) + 1))
    [started] = [f["payload"]["data"] for f in frames if f["event"] == "tool.started"]
    call_id = started["call_id"]
    progress = [f for f in frames if f["event"] == "tool.progress"]
    assert progress and {f["payload"]["data"]["call_id"] for f in progress} == {call_id}
    completed = types.index("tool.completed")
    assert types.index("tool.started") < types.index("tool.progress") < completed
    stored = stored_result(body["run_id"], call_id)
    assert stored is not None and stored["ok"] is True
    assert (
        next(f for f in frames if f["event"] == "tool.completed")["payload"]["data"]["output"]
        == stored["output"]
    )
    # The guard's ledger saw the tool's call, attributed to the run, and the run's cost
    # (and the usage events' running total) include it.
    calls = list(LlmCall.objects.filter(run_id=body["run_id"]))
    assert sorted(c.feature for c in calls) == ["plan", "plan", "tool:hashtags"]
    run = Run.objects.get(pk=body["run_id"])
    assert run.cost_usd == sum((c.cost_usd for c in calls), Decimal(0))
    usage = [f["payload"]["data"] for f in frames if f["event"] == "usage"]
    assert len(usage) == 3 and Decimal(usage[-1]["run_cost_usd"]) == run.cost_usd
    assert tool_requests(server) == 1


def test_runs_do_not_deadlock_when_every_run_slot_waits_on_a_tool(
    anon_client, celery_worker_factory
):
    """Two run slots, one tool slot, five chats each calling two long tools: the runs
    fill every run slot while they wait, and the tool tasks still go through on their own
    pool. (Sharing one pool, the queued runs would hold the tool tasks back until every
    tool call timed out.)"""
    celery_worker_factory(
        queues="default,long",
        pool="threads",
        concurrency=2,
        long_concurrency=1,
        extra_env={"TOOL_OFFLOAD": "always", "OFFLINE_TOKEN_DELAY_MS": "5"},
    )
    bodies = [post(anon_client, "ideas and hashtags for a home-espresso channel") for _ in range(5)]
    started = time.monotonic()
    for body in bodies:
        wait_for(
            lambda body=body: Run.objects.get(pk=body["run_id"]).is_finished,
            timeout=max(1.0, 60 - (time.monotonic() - started)),
        )
    for body in bodies:
        run = Run.objects.get(pk=body["run_id"])
        assert run.status == "completed", (run.error_code, run.error_message)
        log = logged_events(body["run_id"])
        assert not [e for e in log if e.type == "tool.failed"]
        calls = [e.data["call_id"] for e in log if e.type == "tool.completed"]
        assert len(calls) == 2
        # Both calls went through the tool task (their outcome is stored by call id).
        assert all(stored_result(body["run_id"], call_id) for call_id in calls)


def test_run_worker_killed_mid_tool_resumes_with_the_same_tool_result(
    anon_client, real_model, celery_worker_factory
):
    """The run's worker dies while its tool call runs on the tool worker: the tool task
    finishes and stores its result; the resumed run (attempt 2) takes that result
    without calling the tool again."""
    server, worker_env = real_model
    gate = threading.Event()
    server.script(scripted(gate))
    runs = celery_worker_factory(queues="default", pool="threads", extra_env=worker_env)
    celery_worker_factory(queues="long", pool="threads", extra_env=worker_env)
    body = post(anon_client, "hashtags for espresso", MODEL)
    run_id = body["run_id"]
    assert server.wait_for_requests(2, timeout_s=30)  # the tool's call is held
    runs.kill()
    killed_at = time.monotonic()
    gate.set()
    call_id = next(e.data["call_id"] for e in logged_events(run_id) if e.type == "tool.started")
    wait_for(lambda: stored_result(run_id, call_id), timeout=30)

    celery_worker_factory(queues="default", pool="threads", extra_env=worker_env)
    time.sleep(max(0.0, 3.5 - (time.monotonic() - killed_at)))  # the lease runs out
    task_runner.enqueue(runs_reap)
    run = wait_for(lambda: Run.objects.filter(pk=run_id, status="completed").first(), timeout=60)

    assert run.attempt == 2
    assert tool_requests(server) == 1
    log = logged_events(run_id)
    assert [e.seq for e in log] == list(range(1, len(log) + 1))
    [completed] = [e for e in log if e.type == "tool.completed"]
    assert (
        completed.attempt == 2
        and completed.data["output"] == stored_result(run_id, call_id)["output"]
    )


def test_whole_worker_killed_mid_tool_runs_the_call_again_once(
    anon_client, real_model, celery_worker_factory
):
    """SIGKILL every worker process while the tool's model call is in flight: the resumed
    attempt re-enqueues the same tool task id; the dead claim expires and the call runs
    once more (its first try never finished); the run completes as attempt 2."""
    server, worker_env = real_model
    gate = threading.Event()
    server.script(scripted(gate))
    first = celery_worker_factory(
        queues="default,long", pool="threads", extra_env=worker_env, long_concurrency=2
    )
    body = post(anon_client, "hashtags for espresso", MODEL)
    run_id = body["run_id"]
    assert server.wait_for_requests(2, timeout_s=30)
    first.kill()
    killed_at = time.monotonic()
    gate.set()

    celery_worker_factory(queues="default,long", pool="threads", extra_env=worker_env)
    time.sleep(max(0.0, 3.5 - (time.monotonic() - killed_at)))
    task_runner.enqueue(runs_reap)
    run = wait_for(lambda: Run.objects.filter(pk=run_id, status="completed").first(), timeout=60)

    assert run.attempt == 2
    assert tool_requests(server) == 2
    log = logged_events(run_id)
    assert len([e for e in log if e.type == "tool.completed"]) == 1
    assert log[-1].type == "run.completed"
