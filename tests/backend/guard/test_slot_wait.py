"""Five chats at once from one anonymous client (its plan allows 4 model calls in flight):
every post is accepted and every run completes; the fifth run waits for a model-call slot
instead of failing with RATE_LIMITED after its 202."""

from __future__ import annotations

import threading

import pytest

from backend.runs.eventlog import reset_for_tests
from backend.runs.models import Run
from tests.conftest import wait_for
from tests.fakes.openai_server import Reply

pytestmark = pytest.mark.django_db(transaction=True)
MODEL = "test/priced"
CHATS = 5


@pytest.fixture
def gated_model(env, openai_server, settings):
    # The embedded default: thread runner, in-process store and event log.
    settings.TASK_RUNNER = "thread"
    settings.TASK_RUNNER_THREADS = CHATS + 2
    settings.REDIS_URL = None
    reset_for_tests()
    env(
        OPENROUTER_API_KEY="sk-test",
        OPENROUTER_BASE_URL=openai_server.base_url,
        DECLARED_MODELS=[{"id": MODEL, "input_per_million": "1", "output_per_million": "2"}],
        GUARD_MAX_CONCURRENT_CALLS=4,
        GUARD_ANON_CLIENT_DAILY_USD="1",
        GUARD_IP_DAILY_USD="1",
        GUARD_ANON_SESSION_USD="1",
    )
    # Count the store's concurrency refusals, so the test knows when the fifth run asked.
    from backend.guard import instance as guard_instance

    store = guard_instance._memory_store
    refusals = []
    reserve = store.reserve

    async def counting_reserve(**kwargs):
        result = await reserve(**kwargs)
        if result.failure == "concurrency":
            refusals.append(result)
        return result

    store.reserve = counting_reserve  # type: ignore[method-assign]
    gate = threading.Event()
    # Every model call answers directly, but only once the gate opens: the first four
    # calls then hold all four of the client's slots while the fifth run asks for one.
    openai_server.script(lambda body: Reply(text="Short answer.", cost=0.0001, gate=gate))
    yield openai_server, gate, refusals
    gate.set()
    reset_for_tests()


def test_a_fifth_concurrent_chat_waits_for_a_slot_and_completes(anon_client, gated_model):
    from backend.core import task_runner

    server, gate, refusals = gated_model
    runs = []
    for index in range(CHATS):
        session = anon_client.post("/api/chat/sessions/", {"model": MODEL}, format="json").json()
        response = anon_client.post(
            f"/api/chat/sessions/{session['id']}/messages/",
            {"content": f"question {index}"},
            format="json",
        )
        assert response.status_code == 202, response.json()
        runs.append(response.json()["run_id"])
    assert server.wait_for_requests(4, timeout_s=30)
    # The fifth run asked for a slot while the first four held them all.
    wait_for(lambda: refusals)
    gate.set()
    task_runner.drain()

    outcomes = {str(run.id): (run.status, run.error_code) for run in Run.objects.all()}
    assert outcomes == {run_id: ("completed", "") for run_id in runs}
    assert len(server.requests) == CHATS
