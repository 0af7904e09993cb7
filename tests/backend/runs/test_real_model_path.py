"""The production model path: ChatOpenAI over HTTP to a local OpenAI-compatible server,
guarded and reported to PostHog, inside a real chat run."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from backend.guard.models import LlmCall
from backend.llm.models import CatalogueModel
from backend.llm.services import catalogue_refresh
from backend.runs.eventlog import reset_for_tests
from backend.runs.models import Run
from tests.backend.runs.helpers import collect
from tests.fakes.openai_server import Reply, ToolCallReply

pytestmark = pytest.mark.django_db(transaction=True)
MODEL = "test/priced"


@pytest.fixture
def real_model(env, openai_server, settings):
    settings.TASK_RUNNER = "thread"
    reset_for_tests()
    env(
        OPENROUTER_API_KEY="sk-test",
        OPENROUTER_BASE_URL=openai_server.base_url,
        DECLARED_MODELS=[{"id": MODEL, "input_per_million": "1", "output_per_million": "2"}],
    )
    return openai_server


def script(body: dict) -> Reply:
    """Plan: call `hashtags` once; afterwards (or for the tool's own calls): text."""
    has_tool_results = any(m.get("role") == "tool" for m in body["messages"])
    if body.get("tools") and not has_tool_results:
        return Reply(
            tool_calls=[ToolCallReply(name="hashtags", arguments={"topic": "espresso"})],
            prompt_tokens=100,
            completion_tokens=10,
            cost=0.0003,
        )
    return Reply(
        text="Use #espresso and #homebarista.", prompt_tokens=200, completion_tokens=20, cost=0.0005
    )


def test_chat_run_on_an_openai_compatible_server(anon_client, real_model, posthog_server):
    real_model.script(script)
    session = anon_client.post("/api/chat/sessions/", {"model": MODEL}, format="json").json()
    body = anon_client.post(
        f"/api/chat/sessions/{session['id']}/messages/",
        {"content": "hashtags for espresso"},
        format="json",
    ).json()
    frames = asyncio.run(collect(body["stream_url"], timeout=60))
    types = [f["event"] for f in frames]
    assert types[-1] == "run.completed", frames[-1]
    assert frames[1]["payload"]["data"] == {"model": MODEL, "offline": False}
    assert "tool.completed" in types
    answer = next(f for f in frames if f["event"] == "message.completed")["payload"]["data"]
    assert answer["text"] == "Use #espresso and #homebarista."

    # Every request used the real client's wire format, with the guard's explicit limits.
    assert real_model.requests, "the server saw no request"
    for request in real_model.requests:
        assert request["model"] == MODEL
        assert request.get("max_completion_tokens") or request.get("max_tokens")
    # The ledger holds what the provider reported (usage.cost), call by call.
    calls = list(LlmCall.objects.filter(run_id=body["run_id"]))
    assert len(calls) == len(real_model.requests)
    run = Run.objects.get(pk=body["run_id"])
    assert run.cost_usd == sum((c.cost_usd for c in calls), Decimal(0))
    assert Decimal("0.0008") <= run.cost_usd
    usage_events = [f["payload"]["data"] for f in frames if f["event"] == "usage"]
    assert Decimal(usage_events[-1]["run_cost_usd"]) == run.cost_usd

    generations = posthog_server.wait_for("$ai_generation", count=len(calls))
    for event in generations:
        props = event["properties"]
        assert props["$ai_trace_id"] == body["run_id"]
        assert props["$ai_model"] == MODEL
        assert props["$ai_session_id"] == session["id"]
        assert event["distinct_id"] == anon_client.client_id
        assert props["$ai_is_error"] is False
    posthog_total = sum(
        Decimal(str(e["properties"]["$ai_input_cost_usd"]))
        + Decimal(str(e["properties"]["$ai_output_cost_usd"]))
        for e in generations
    )
    assert abs(posthog_total - run.cost_usd) < Decimal("0.000001")
    assert "$ai_input" not in generations[0]["properties"]  # privacy mode: no prompts
    posthog_server.wait_for("run_completed")
    posthog_server.wait_for("chat_message_sent")


def test_zero_budget_means_zero_requests_upstream(anon_client, real_model, env):
    env(GUARD_ANON_CLIENT_DAILY_USD=0)
    real_model.script(script)
    session = anon_client.post("/api/chat/sessions/", {"model": MODEL}, format="json").json()
    response = anon_client.post(
        f"/api/chat/sessions/{session['id']}/messages/", {"content": "hashtags"}, format="json"
    )
    assert response.status_code == 402
    assert real_model.requests == []


def test_budget_running_out_mid_run_fails_the_run_with_the_code(
    anon_client, never_ask, real_model, env
):
    # (never_ask: a call about to cross the soft limit would otherwise wait for approval)
    # Room for the entry check and the first call's hold, not for the answer after tools.
    env(GUARD_ANON_CLIENT_DAILY_USD="0.0125", GUARD_ANON_MAX_CALL_USD="1")
    real_model.script(
        lambda body: Reply(
            tool_calls=[ToolCallReply(name="hashtags", arguments={"topic": "espresso"})]
            if body.get("tools") and not any(m.get("role") == "tool" for m in body["messages"])
            else [],
            text="" if body.get("tools") else "x",
            cost=0.012,
        )
    )
    session = anon_client.post("/api/chat/sessions/", {"model": MODEL}, format="json").json()
    body = anon_client.post(
        f"/api/chat/sessions/{session['id']}/messages/", {"content": "hashtags"}, format="json"
    ).json()
    frames = asyncio.run(collect(body["stream_url"], timeout=60))
    assert frames[-1]["event"] == "run.failed"
    assert frames[-1]["payload"]["data"]["error"]["code"] == "BUDGET_EXCEEDED"


def test_a_soft_limit_crossed_by_a_runs_call_reaches_that_runs_stream(anon_client, real_model, env):
    # The first call's settled cost alone crosses 80 % of the client's day.
    env(GUARD_ANON_CLIENT_DAILY_USD="0.1", GUARD_ANON_MAX_CALL_USD="1")
    real_model.script(lambda body: Reply(text="x", cost=0.09))
    session = anon_client.post("/api/chat/sessions/", {"model": MODEL}, format="json").json()
    body = anon_client.post(
        f"/api/chat/sessions/{session['id']}/messages/", {"content": "hashtags"}, format="json"
    ).json()
    frames = asyncio.run(collect(body["stream_url"], timeout=60))
    warnings = [f["payload"]["data"] for f in frames if f["event"] == "guard.warning"]
    by_bucket = {w["bucket"]: w for w in warnings}
    assert set(by_bucket) == {"client", "session"}, frames[-1]["payload"]["data"]
    assert by_bucket["client"]["used_fraction"] >= 0.8
    assert by_bucket["client"]["message"].endswith("of the client budget is used.")
    assert frames[-1]["event"] == "run.completed"


def test_catalogue_refresh_reads_openrouter_prices(real_model):
    assert catalogue_refresh() == 1
    row = CatalogueModel.objects.get(model_id="test/model")
    assert row.input_per_token == Decimal("0.000001")
    assert row.output_per_token == Decimal("0.000002")
    assert row.context_length == 8192
