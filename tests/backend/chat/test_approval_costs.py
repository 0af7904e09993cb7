"""Approval before a costly model call, priced as the guard reserves it, with the real model
client talking to the local OpenAI-compatible server: over the client's threshold, or
about to take a budget past its soft limit, the run waits before the request is sent."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from backend.chat.models import Approval, ChatMessage
from backend.guard.instance import reset_for_tests as reset_guard
from backend.guard.models import LlmCall
from backend.runs.eventlog import reset_for_tests
from backend.runs.models import Run
from tests.backend.runs.helpers import logged_events
from tests.conftest import wait_for
from tests.fakes.openai_server import Reply, ToolCallReply

pytestmark = pytest.mark.django_db(transaction=True)
MODEL = "test/priced"


@pytest.fixture
def priced(env, openai_server, settings):
    settings.TASK_RUNNER = "thread"
    reset_for_tests()
    reset_guard()
    env(
        OPENROUTER_API_KEY="sk-test",
        OPENROUTER_BASE_URL=openai_server.base_url,
        DECLARED_MODELS=[{"id": MODEL, "input_per_million": "1", "output_per_million": "2"}],
    )
    openai_server.script(_script)
    yield openai_server
    reset_for_tests()
    reset_guard()


def _script(body: dict) -> Reply:
    if body.get("tools") and not any(m.get("role") == "tool" for m in body["messages"]):
        return Reply(
            tool_calls=[ToolCallReply(name="hashtags", arguments={"topic": "espresso"})],
            prompt_tokens=100,
            completion_tokens=10,
            cost=0.0003,
        )
    return Reply(text="Use #espresso.", prompt_tokens=200, completion_tokens=20, cost=0.0005)


def _chat(client: APIClient) -> str:
    session = client.post("/api/chat/sessions/", {"model": MODEL}, format="json").json()
    response = client.post(
        f"/api/chat/sessions/{session['id']}/messages/",
        {"content": "hashtags for espresso"},
        format="json",
    )
    assert response.status_code == 202, response.content
    return str(response.json()["run_id"])


def _waiting(run_id: str) -> list[Approval]:
    wait_for(
        lambda: Run.objects.filter(pk=run_id, status__in=["waiting", *Run.TERMINAL]).exists(),
        timeout=30,
    )
    return list(Approval.objects.filter(run_id=run_id, status="pending"))


def _ended(run_id: str) -> Run:
    run = wait_for(
        lambda: Run.objects.filter(pk=run_id, status__in=Run.TERMINAL).first(), timeout=30
    )
    assert isinstance(run, Run)
    return run


def test_a_model_call_over_the_threshold_waits_unsent_and_a_denial_answers(
    anon_client, priced
) -> None:
    # The plan call's worst case (its prompt's byte bound and 1,024 answer tokens) is about
    # a cent at $1/$2 per million: over a $0.001 threshold.
    settings = {"mode": "costly", "threshold_usd": "0.001"}
    assert anon_client.put("/api/clients/me/approvals/", settings, format="json").status_code == 200
    run_id = _chat(anon_client)

    [approval] = _waiting(run_id)
    assert approval.name == "model_call" and approval.args == {"feature": "plan", "model": MODEL}
    assert approval.estimate["model"] == MODEL
    assert 0.001 < approval.estimate["worst_case_usd"] < 0.1
    assert "over $0.001" in approval.reason
    assert priced.requests == []  # nothing was sent to the model
    requested = next(e for e in logged_events(run_id) if e.type == "approval.requested").data
    assert requested["name"] == "model_call" and requested["call_id"] == approval.call_id

    answer = anon_client.post(
        f"/api/runs/{run_id}/approvals/{approval.id}/",
        {"approved": False, "reason": "too dear"},
        format="json",
    )
    assert answer.status_code == 200, answer.content

    run = _ended(run_id)
    assert run.status == "completed"
    assert priced.requests == [] and not LlmCall.objects.filter(run_id=run_id).exists()
    text = ChatMessage.objects.get(run_id=run_id, role="assistant").content
    assert "declined" in text and "too dear" in text
    # A model call's approval has no arguments to edit.
    [edit] = _waiting(_chat(anon_client))
    bad = anon_client.post(
        f"/api/runs/{edit.run_id}/approvals/{edit.id}/",
        {"approved": True, "args": {"feature": "respond"}},
        format="json",
    )
    assert bad.status_code == 400 and "args" in bad.json()["error"]["details"]["fields"]


def test_a_call_that_would_cross_the_soft_limit_asks_once_then_runs(
    anon_client, priced, env
) -> None:
    # Soft limit at 0.01 % of the anonymous client's day: the first call's worst case
    # crosses it; once that call is spent, the budget is past it and nothing more asks.
    env(GUARD_SOFT_LIMIT_FRACTION="0.0001")
    run_id = _chat(anon_client)

    [approval] = _waiting(run_id)
    assert approval.name == "model_call"
    assert "soft limit" in approval.reason and "client budget" in approval.reason
    assert priced.requests == []

    assert (
        anon_client.post(
            f"/api/runs/{run_id}/approvals/{approval.id}/", {"approved": True}, format="json"
        ).status_code
        == 200
    )
    run = _ended(run_id)
    assert run.status == "completed" and run.attempt == 1
    assert Approval.objects.filter(run_id=run_id).count() == 1
    assert len(priced.requests) == LlmCall.objects.filter(run_id=run_id).count() >= 2
    assert ChatMessage.objects.get(run_id=run_id, role="assistant").content == "Use #espresso."
