"""GET /metrics: the token, and the numbers, read from what every process shares (the
database here; the embedded counterparts of Redis), parsed as Prometheus parses them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone
from langchain_core.messages import HumanMessage
from prometheus_client.parser import text_string_to_metric_families

from agents.guard import BudgetExceededError, CallMeta
from backend.core import counters, task_runner
from backend.core.errors import RateLimitedError
from backend.guard.models import GuardEvent, LlmCall
from backend.ops import metrics
from backend.runs import stream_slots
from backend.runs.emitter import RunEmitter
from backend.runs.eventlog import reset_for_tests as reset_event_log
from backend.runs.models import Run, RunEvent
from tests.conftest import REPO_ROOT, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "metrics-token-for-tests-0123456789"
MODEL = "test/priced"


@pytest.fixture(autouse=True)
def _fresh(settings):
    settings.TASK_RUNNER = "thread"
    settings.REDIS_URL = None
    reset_event_log()
    stream_slots.reset_for_tests()
    counters.reset_for_tests()
    metrics.reset_for_tests()
    yield
    reset_event_log()
    stream_slots.reset_for_tests()
    counters.reset_for_tests()
    metrics.reset_for_tests()


@pytest.fixture
def token(env):
    env(METRICS_TOKEN=TOKEN)
    return TOKEN


def scrape(client, **headers) -> dict[str, dict[tuple, float]]:
    """Every sample of a scrape: {sample name: {sorted label items: value}}."""
    metrics.reset_for_tests()
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    samples: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        assert family.name.startswith("insightstream_")
        assert family.documentation, family.name
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def value(samples, name: str, **labels: str) -> float:
    return samples[name][tuple(sorted(labels.items()))]


def make_run(*, ago_s: float, started_after_s=None, lasted_s=None, **fields) -> Run:
    """A run created ``ago_s`` seconds ago, started and finished as given."""
    run = Run.objects.create(client_id=fields.pop("client_id", "c"), model="offline", **fields)
    created = timezone.now() - timedelta(seconds=ago_s)
    update: dict = {"created_at": created}
    if started_after_s is not None:
        update["started_at"] = created + timedelta(seconds=started_after_s)
        if lasted_s is not None:
            update["finished_at"] = update["started_at"] + timedelta(seconds=lasted_s)
    Run.objects.filter(pk=run.pk).update(**update)
    return run


def test_no_token_setting_is_no_endpoint(client):
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token-wrong-token-0000", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer"],
)
def test_a_missing_or_wrong_token_is_401(client, token, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = client.get("/metrics", **headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"insightstream_" not in response.content


def test_only_get(client, token):
    response = client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


def test_a_short_token_setting_is_refused_at_start():
    from backend.config.env import SettingsError, load_settings

    with pytest.raises(SettingsError, match="METRICS_TOKEN"):
        load_settings(METRICS_TOKEN="short")
    assert load_settings(METRICS_TOKEN="  ").METRICS_TOKEN is None


def test_runs_tools_and_spend_from_the_database(client, token):
    done = make_run(kind="chat", status="completed", ago_s=60, started_after_s=0.2, lasted_s=3)
    make_run(
        kind="chat",
        status="failed",
        error_code="RUN_TIMEOUT",
        ago_s=120,
        started_after_s=4,
        lasted_s=0.5,
    )
    make_run(kind="chat", status="running", attempt=2, ago_s=30, started_after_s=0.03)
    make_run(kind="factoid", status="queued", ago_s=10)
    make_run(kind="factoid", status="waiting", ago_s=2 * 3600, started_after_s=1)
    # Outside every window: a day and a half old.
    make_run(kind="chat", status="queued", ago_s=36 * 3600)
    now = timezone.now()
    for seq, (type, data) in enumerate(
        [
            ("tool.completed", {"name": "hashtags", "duration_ms": 120}),
            ("tool.completed", {"name": "hashtags", "duration_ms": 2500}),
            ("tool.completed", {"name": "keyword_research", "duration_ms": 40}),
            ("tool.failed", {"name": "keyword_research", "error": {"code": "TOOL_ERROR"}}),
            ("tool.failed", {"name": "keyword_research", "error": {"code": "TOOL_ERROR"}}),
            ("tool.failed", {"name": "hashtags", "error": {"code": "TOOL_TIMEOUT"}}),
        ],
        start=1,
    ):
        RunEvent.objects.create(run=done, seq=seq, type=type, data=data, ts=now)

    def call(model: str, plan: str, cost: str, **fields) -> LlmCall:
        return LlmCall.objects.create(
            client_id="c", plan=plan, feature="chat", model=model, cost_usd=Decimal(cost), **fields
        )

    call("m/one", "anonymous", "0.25")
    call("m/one", "anonymous", "0.5", is_error=True)
    call("m/two", "free", "1.125", estimated=True)
    call("m/two", "free", "0", settle_pending=True)
    yesterday = call("m/one", "anonymous", "9")
    LlmCall.objects.filter(pk=yesterday.pk).update(created_at=now - timedelta(days=2))
    GuardEvent.objects.create(kind=GuardEvent.Kind.SOFT_LIMIT, bucket="client")
    GuardEvent.objects.create(kind=GuardEvent.Kind.SOFT_LIMIT, bucket="client")
    GuardEvent.objects.create(kind=GuardEvent.Kind.BUDGET_EXCEEDED, bucket="client")

    got = scrape(client)

    assert got["insightstream_runs_active"] == {
        (("kind", "chat"), ("status", "running")): 1,
        (("kind", "factoid"), ("status", "queued")): 1,
        (("kind", "factoid"), ("status", "waiting")): 1,
    }
    assert got["insightstream_runs_recent"] == {
        (("kind", "chat"), ("status", "completed")): 1,
        (("kind", "chat"), ("status", "failed")): 1,
        (("kind", "chat"), ("status", "running")): 1,
        (("kind", "factoid"), ("status", "queued")): 1,
    }
    assert value(got, "insightstream_runs_retried_recent", kind="chat") == 1
    assert got["insightstream_run_failures_recent"] == {
        (("code", "RUN_TIMEOUT"), ("kind", "chat")): 1
    }
    # Durations: 3 s (completed), 0.5 s (failed).
    duration = "insightstream_run_duration_seconds"
    assert value(got, f"{duration}_bucket", kind="chat", status="completed", le="2.0") == 0
    assert value(got, f"{duration}_bucket", kind="chat", status="completed", le="5.0") == 1
    assert value(got, f"{duration}_bucket", kind="chat", status="failed", le="1.0") == 1
    # (SQLite's julianday arithmetic is exact to ~50 µs.)
    assert value(got, f"{duration}_gsum", kind="chat", status="completed") == pytest.approx(
        3, abs=1e-3
    )
    assert value(got, f"{duration}_gcount", kind="chat", status="failed") == 1
    # Accepted to run.started: 0.2 s, 4 s and 0.03 s for the three chat runs.
    first = "insightstream_run_time_to_first_event_seconds"
    assert value(got, f"{first}_bucket", kind="chat", le="0.05") == 1
    assert value(got, f"{first}_bucket", kind="chat", le="0.25") == 2
    assert value(got, f"{first}_bucket", kind="chat", le="2.0") == 2
    assert value(got, f"{first}_bucket", kind="chat", le="5.0") == 3
    assert value(got, f"{first}_gcount", kind="chat") == 3
    assert value(got, f"{first}_gsum", kind="chat") == pytest.approx(4.23, abs=1e-3)
    tools = "insightstream_tool_duration_seconds"
    assert value(got, f"{tools}_bucket", tool="hashtags", le="0.1") == 0
    assert value(got, f"{tools}_bucket", tool="hashtags", le="0.25") == 1
    assert value(got, f"{tools}_bucket", tool="hashtags", le="5.0") == 2
    assert value(got, f"{tools}_gsum", tool="hashtags") == pytest.approx(2.62)
    assert value(got, f"{tools}_bucket", tool="keyword_research", le="0.05") == 1
    assert got["insightstream_tool_failures_recent"] == {
        (("code", "TOOL_ERROR"), ("tool", "keyword_research")): 2,
        (("code", "TOOL_TIMEOUT"), ("tool", "hashtags")): 1,
    }
    spend = "insightstream_llm_spend_usd_today"
    assert value(got, spend, model="m/one", plan="anonymous") == pytest.approx(0.75)
    assert value(got, spend, model="m/two", plan="free") == pytest.approx(1.125)
    calls = "insightstream_llm_calls_today"
    assert value(got, calls, model="m/one", plan="anonymous", outcome="ok") == 1
    assert value(got, calls, model="m/one", plan="anonymous", outcome="error") == 1
    assert value(got, calls, model="m/two", plan="free", outcome="ok") == 2
    assert value(got, "insightstream_llm_calls_unreconciled") == 1
    assert value(got, "insightstream_llm_calls_settle_pending") == 1
    assert got["insightstream_guard_soft_limits_recent"] == {(("bucket", "client"),): 2}
    assert all(up == 1 for up in got["insightstream_metrics_source_up"].values())
    assert set(got["insightstream_metrics_source_up"]) == {
        (("source", name),)
        for name in ("database", "queues", "streams", "event_log", "counters", "moderation")
    }


def test_labels_from_stored_data_stay_a_small_set(client, token):
    run = make_run(kind="chat", status="completed", ago_s=5, started_after_s=0.1, lasted_s=1)
    now = timezone.now()
    for seq, name in enumerate(["drop table;", "naïve tool", "x" * 300], start=1):
        RunEvent.objects.create(
            run=run,
            seq=seq,
            type="tool.failed",
            data={"name": name, "error": {"code": "TOOL_ERROR"}},
            ts=now,
        )
    RunEvent.objects.create(
        run=run, seq=9, type="tool.completed", data={"name": "a b", "duration_ms": 5}, ts=now
    )
    got = scrape(client)
    # Three names, one series.
    assert got["insightstream_tool_failures_recent"] == {
        (("code", "TOOL_ERROR"), ("tool", "other")): 3
    }
    assert value(got, "insightstream_tool_duration_seconds_gcount", tool="other") == 1


def test_the_windows_move_on(client, token, monkeypatch):
    make_run(kind="chat", status="completed", ago_s=60, started_after_s=1, lasted_s=1)
    later = timezone.now() + timedelta(hours=2)
    monkeypatch.setattr(metrics, "timezone", SimpleNamespace(now=lambda: later))
    got = scrape(client)
    assert "insightstream_runs_recent" not in got
    assert "insightstream_run_duration_seconds_bucket" not in got


def test_open_streams_refusals_lag_and_backlog_embedded(client, token, settings, monkeypatch):
    # Streams: two held by one client, a third refused at its limit.
    settings.SSE_MAX_STREAMS_PER_CLIENT = 2
    held = [async_to_sync(stream_slots.slot_open)(client_id="c") for _ in range(2)]
    with pytest.raises(RateLimitedError):
        async_to_sync(stream_slots.slot_open)(client_id="c")
    # Event log: a running run whose newest event is 42 s old when the scrape looks.
    silent = make_run(kind="chat", status="running", ago_s=50, started_after_s=1)
    RunEmitter(run_id=str(silent.id), attempt=1).emit("run.started", {"model": "offline"})
    later = timezone.now() + timedelta(seconds=42)
    monkeypatch.setattr(metrics, "timezone", SimpleNamespace(now=lambda: later))
    # The embedded runner: every thread of its pool busy, three tasks waiting.
    release = threading.Event()
    pool = task_runner._executor("default")
    for _ in range(pool._max_workers + 3):
        pool.submit(release.wait, 30)
    try:
        wait_for(lambda: task_runner.embedded_backlog().get("default") == 3)
        got = scrape(client)
    finally:
        release.set()
    assert value(got, "insightstream_sse_streams_open") == 2
    assert value(got, "insightstream_sse_streams_refused_total") == 1
    assert value(got, "insightstream_event_log_lag_seconds", kind="chat") == pytest.approx(
        42, abs=2
    )
    assert value(got, "insightstream_queue_length", queue="default") == 3
    assert value(got, "insightstream_event_log_events") == 1
    for slot in held:
        async_to_sync(stream_slots.slot_close)(slot)
    assert value(scrape(client), "insightstream_sse_streams_open") == 0


def test_guard_refusals_at_an_entry_point_and_in_a_model_call(
    client, anon_client, token, env, openai_server
):
    env(
        OPENROUTER_API_KEY="sk-test",
        OPENROUTER_BASE_URL=openai_server.base_url,
        DECLARED_MODELS=[{"id": MODEL, "input_per_million": "1", "output_per_million": "2"}],
        GUARD_ANON_CLIENT_DAILY_USD=0,
    )
    # An entry point: the message is refused (402) before a run is queued.
    session = anon_client.post("/api/chat/sessions/", {"model": MODEL}, format="json").json()
    refused = anon_client.post(
        f"/api/chat/sessions/{session['id']}/messages/", {"content": "ideas"}, format="json"
    )
    assert refused.status_code == 402
    # A model call (a run's, or a tool's): refused by the guard before any request is sent.
    from backend.model_calls.factory import load_prices, model_factory

    async def call() -> None:
        factory = model_factory(prices=await asyncio.to_thread(load_prices, [MODEL]))
        meta = CallMeta(client_id="someone", feature="chat", plan="anonymous")
        await factory.chat_model(MODEL, meta=meta, max_tokens=100).ainvoke([HumanMessage("hi")])

    for _ in range(2):
        with pytest.raises(BudgetExceededError):
            async_to_sync(call)()
    assert openai_server.requests == []

    got = scrape(client)
    refusals = "insightstream_guard_refusals_total"
    assert got[refusals] == {
        (("bucket", "client"), ("kind", "budget_exceeded"), ("where", "entry")): 1,
        (("bucket", "client"), ("kind", "budget_exceeded"), ("where", "call")): 2,
    }


def test_rows_written_by_another_process_show_in_this_ones_scrape(client, token):
    """A worker is another process: what it records is in the web's next scrape."""
    from django.db import connection

    script = (
        "import sys, django\n"
        "from django.conf import settings\n"
        "settings.DATABASES['default']['NAME'] = sys.argv[1]\n"
        "django.setup()\n"
        "from decimal import Decimal\n"
        "from backend.guard.models import LlmCall\n"
        "from backend.runs.models import Run\n"
        "Run.objects.create(kind='factoid', client_id='w', model='offline', status='running')\n"
        "LlmCall.objects.create(client_id='w', plan='free', feature='factoid',\n"
        "    model='m/worker', cost_usd=Decimal('0.375'))\n"
    )
    before = scrape(client)
    assert "insightstream_runs_active" not in before
    subprocess.run(
        [sys.executable, "-c", script, str(connection.settings_dict["NAME"])],
        cwd=REPO_ROOT,
        # The same database as this test's (PostgreSQL under CI, else the SQLite file).
        env={
            "DJANGO_SETTINGS_MODULE": "backend.config.settings.test",
            "PATH": "/usr/bin:/bin",
            **{k: os.environ[k] for k in ("DATABASE_URL", "REDIS_URL") if k in os.environ},
        },
        check=True,
        timeout=120,
    )
    got = scrape(client)
    assert value(got, "insightstream_runs_active", kind="factoid", status="running") == 1
    assert value(got, "insightstream_llm_spend_usd_today", model="m/worker", plan="free") == (
        pytest.approx(0.375)
    )


def test_a_scrape_within_seconds_of_the_last_is_answered_from_it(client, token):
    metrics.reset_for_tests()
    first = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content
    make_run(kind="chat", status="queued", ago_s=1)
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content == first
    metrics.reset_for_tests()
    assert b'insightstream_runs_active{kind="chat",status="queued"} 1.0' in (
        client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content
    )


def test_openmetrics_for_a_scraper_that_asks(client, token):
    make_run(kind="chat", status="completed", ago_s=5, started_after_s=0.1, lasted_s=1)
    response = client.get(
        "/metrics",
        HTTP_AUTHORIZATION=f"Bearer {TOKEN}",
        HTTP_ACCEPT="application/openmetrics-text; version=1.0.0,text/plain;q=0.5",
    )
    assert response["Content-Type"].startswith("application/openmetrics-text")
    from prometheus_client.openmetrics.parser import text_string_to_metric_families as om

    families = {family.name: family for family in om(response.content.decode())}
    assert families["insightstream_run_duration_seconds"].type == "gaugehistogram"
    assert families["insightstream_guard_refusals"].type == "counter"


def test_a_source_that_fails_is_reported_and_the_rest_still_answer(client, token, monkeypatch):
    from backend.ops import live

    def down() -> int:
        raise ConnectionError("redis is away")

    monkeypatch.setattr(live, "open_streams", down)
    make_run(kind="chat", status="queued", ago_s=1)
    got = scrape(client)
    assert value(got, "insightstream_metrics_source_up", source="streams") == 0
    assert value(got, "insightstream_metrics_source_up", source="database") == 1
    assert "insightstream_sse_streams_open" not in got
    assert value(got, "insightstream_runs_active", kind="chat", status="queued") == 1


def test_moderation_refusals_are_counted_by_category(anon_client, env) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    from backend.ops import metrics

    env(METRICS_TOKEN="t" * 32)
    before = _moderation_rejected(anon_client, text_string_to_metric_families)
    session = anon_client.post("/api/chat/sessions/", {}, format="json").json()
    refused = anon_client.post(
        f"/api/chat/sessions/{session['id']}/messages/",
        {"content": "how to make a pipe bomb at home"},
        format="json",
    )
    assert refused.status_code == 400
    metrics.reset_for_tests()
    after = _moderation_rejected(anon_client, text_string_to_metric_families)
    assert after.get("illicit/violent", 0) == before.get("illicit/violent", 0) + 1


def _moderation_rejected(client, parse) -> dict[str, float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer " + "t" * 32)
    assert response.status_code == 200, response.content
    found = {}
    for family in parse(response.content.decode()):
        if family.name == "insightstream_moderation_rejected":
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    found[sample.labels["category"]] = sample.value
    return found
