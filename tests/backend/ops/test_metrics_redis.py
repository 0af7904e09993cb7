"""GET /metrics with Redis: what other processes count, hold open or queue (a worker, a
second web process) shows in this process's scrape, because it is read from Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
import redis
from asgiref.sync import async_to_sync
from django.conf import settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from backend.core import counters
from backend.ops import metrics
from backend.runs import stream_slots
from backend.runs.emitter import RunEmitter
from backend.runs.eventlog import reset_for_tests as reset_event_log
from backend.runs.models import Run
from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

TOKEN = "metrics-token-for-tests-0123456789"

# Another process (a Celery worker, a second web process) counting a refusal, queueing a
# task and opening a stream; it leaves the stream open for the scrape and exits.
OTHER_PROCESS = """
import asyncio
import django

django.setup()
from backend.config.celery_app import app
from backend.core.counters import counter_add
from backend.guard.services import GUARD_REFUSALS_COUNTER
from backend.runs.stream_slots import RedisSlotStore

labels = {"where": "call", "kind": "rate_limited", "bucket": "concurrency"}
for _ in range(3):
    counter_add(GUARD_REFUSALS_COUNTER, labels)
app.send_task("backend.core.tasks.worker_heartbeat", queue="long")
store = RedisSlotStore(url=django.conf.settings.REDIS_URL)
assert asyncio.run(store.acquire(client_id="elsewhere", slot_id="slot-1", limit=5))
"""


@pytest.fixture(autouse=True)
def _fresh(env):
    env(METRICS_TOKEN=TOKEN)
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in ("long", "default", stream_slots.OPEN_STREAMS_KEY):
        client.delete(key)
    reset_event_log()
    stream_slots.reset_for_tests()
    counters.reset_for_tests()
    metrics.reset_for_tests()
    yield client
    for key in ("long", "default", stream_slots.OPEN_STREAMS_KEY):
        client.delete(key)
    counters.reset_for_tests()
    metrics.reset_for_tests()


def scrape(client) -> dict[str, dict[tuple, float]]:
    metrics.reset_for_tests()
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    samples: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def value(samples, name: str, **labels: str) -> float:
    return samples[name][tuple(sorted(labels.items()))]


def test_counts_queues_and_streams_of_another_process_show_here(client):
    before = scrape(client)
    assert value(before, "insightstream_queue_length", queue="long") == 0
    assert value(before, "insightstream_sse_streams_open") == 0
    assert "insightstream_guard_refusals_total" not in before
    subprocess.run(
        [sys.executable, "-c", OTHER_PROCESS],
        cwd=REPO_ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "backend.config.settings.test"},
        check=True,
        timeout=120,
    )
    got = scrape(client)
    assert (
        value(
            got,
            "insightstream_guard_refusals_total",
            where="call",
            kind="rate_limited",
            bucket="concurrency",
        )
        == 3
    )
    assert value(got, "insightstream_queue_length", queue="long") == 1
    assert value(got, "insightstream_queue_length", queue="default") == 0
    assert value(got, "insightstream_sse_streams_open") == 1
    assert all(up == 1 for up in got["insightstream_metrics_source_up"].values())
    # That process died without closing its stream: the stream stops counting when its
    # lease runs out (moved into the past here).
    redis.Redis.from_url(settings.REDIS_URL).zadd(
        stream_slots.OPEN_STREAMS_KEY, {"slot-1": time.time() * 1000 - 1}
    )
    assert value(scrape(client), "insightstream_sse_streams_open") == 0


def test_streams_of_this_process_and_their_refusals(client, settings):
    settings.SSE_MAX_STREAMS_PER_CLIENT = 1
    slot = async_to_sync(stream_slots.slot_open)(client_id="c")
    with pytest.raises(Exception, match="streams open"):
        async_to_sync(stream_slots.slot_open)(client_id="c")
    got = scrape(client)
    assert value(got, "insightstream_sse_streams_open") == 1
    assert value(got, "insightstream_sse_streams_refused_total") == 1
    async_to_sync(stream_slots.slot_close)(slot)
    assert value(scrape(client), "insightstream_sse_streams_open") == 0


def test_event_log_lag_from_the_redis_log(client, monkeypatch):
    run = Run.objects.create(kind="chat", client_id="c", model="offline", status="running")
    RunEmitter(run_id=str(run.id), attempt=1).emit("run.started", {"model": "offline"})
    later = timezone.now() + timedelta(seconds=30)
    monkeypatch.setattr(metrics, "timezone", SimpleNamespace(now=lambda: later))
    got = scrape(client)
    assert value(got, "insightstream_event_log_lag_seconds", kind="chat") == pytest.approx(
        30, abs=2
    )
    # The embedded log's size is not a Redis figure.
    assert "insightstream_event_log_events" not in got
