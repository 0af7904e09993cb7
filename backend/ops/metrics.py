"""The Prometheus collector behind ``/metrics``: every family is read at scrape time from
shared state (``selectors``: the database; ``live``: Redis or its embedded counterparts),
so whichever web process answers, the numbers are the whole service's, workers included.
Nothing is kept per process but a few seconds' cache of the last scrape.

Distributions over the last hour are gauge histograms (their buckets go down as the
window moves on): ``histogram_quantile`` works on their ``_bucket`` series as they are,
without ``rate``.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import structlog
from django.utils import timezone
from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeHistogramMetricFamily,
    GaugeMetricFamily,
    Metric,
)
from prometheus_client.utils import floatToGoString

from backend.core import selectors as core_selectors
from backend.core import task_runner
from backend.guard.services import GUARD_REFUSALS_COUNTER
from backend.moderation.selectors import moderation_counts
from backend.ops import live, selectors
from backend.runs.stream_slots import STREAMS_REFUSED_COUNTER

logger = structlog.get_logger(__name__)

PREFIX = "insightstream_"
# A scrape within this long of the last one is answered from it (several Prometheus
# servers, or one retrying, cost one set of queries).
CACHE_S = 5.0
# The running runs whose event logs are looked at for the lag (the newest first).
LAG_RUNS_MAX = 500

RUN_DURATION_BUCKETS_S = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600)
TIME_TO_FIRST_EVENT_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60)
TOOL_DURATION_BUCKETS_S = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60)

# Labels taken from stored data (tool names, error codes, models) must stay a small set:
# a value of another shape is counted as "other".
_NAME = re.compile(r"[A-Za-z0-9_.:/@+-]{1,100}")

T = TypeVar("T")


def _label(value: str) -> str:
    return value if _NAME.fullmatch(value) else "other"


def _without_duplicates(family: Metric) -> Metric:
    """Samples whose labels became the same (two values counted as "other") added into one:
    a scrape with a repeated series would be refused. Counts, sums and cumulative buckets
    all add up."""
    merged: dict[tuple[str, tuple[tuple[str, str], ...]], Any] = {}
    for sample in family.samples:
        key = (sample.name, tuple(sorted(sample.labels.items())))
        found = merged.get(key)
        merged[key] = sample if found is None else found._replace(value=found.value + sample.value)
    family.samples = list(merged.values())
    return family


def _gauge(name: str, documentation: str, labels: Sequence[str] = ()) -> GaugeMetricFamily:
    return GaugeMetricFamily(PREFIX + name, documentation, labels=list(labels))


def _histogram(
    name: str,
    documentation: str,
    labels: Sequence[str],
    bounds: Sequence[float],
    rows: Iterable[selectors.Distribution],
) -> GaugeHistogramMetricFamily:
    family = GaugeHistogramMetricFamily(PREFIX + name, documentation, labels=list(labels))
    for row in rows:
        buckets = [
            (floatToGoString(bound), float(count))
            for bound, count in zip(bounds, row.cumulative, strict=True)
        ]
        buckets.append(("+Inf", float(row.count)))
        family.add_metric([_label(value) for value in row.labels], buckets, row.total_s)
    return family


class _Scrape:
    """One scrape's families, and whether each source of them answered."""

    def __init__(self) -> None:
        self.families: list[Metric] = []
        self.up = _gauge(
            "metrics_source_up",
            "1 when this source answered the last scrape, 0 when it failed (its families "
            "are then missing).",
            ["source"],
        )

    def read(self, source: str, fn: Callable[[], T]) -> T | None:
        try:
            value = fn()
        except Exception as exc:
            logger.warning("metrics_source_failed", source=source, error=f"{exc!r}"[:500])
            self.up.add_metric([source], 0)
            return None
        self.up.add_metric([source], 1)
        return value

    def add(self, *families: Metric) -> None:
        self.families.extend(families)


def _database(scrape: _Scrape, now: Any) -> None:
    def read() -> dict[str, Any]:
        return {
            "active": selectors.runs_active(now=now),
            "recent": selectors.runs_recent(now=now),
            "failures": selectors.run_failures_recent(now=now),
            "durations": selectors.run_durations_recent(now=now, bounds=RUN_DURATION_BUCKETS_S),
            "first_event": selectors.run_time_to_first_event_recent(
                now=now, bounds=TIME_TO_FIRST_EVENT_BUCKETS_S
            ),
            "tools": selectors.tool_calls_recent(now=now, bounds=TOOL_DURATION_BUCKETS_S),
            "llm_today": selectors.llm_calls_today(now=now),
            "llm_open": selectors.llm_calls_open(),
            "soft_limits": selectors.guard_soft_limits_recent(now=now),
            "heartbeat": core_selectors.worker_heartbeat_latest(runner="celery")
            if task_runner.uses_celery()
            else None,
        }

    data = scrape.read("database", read)
    if data is None:
        return
    active = _gauge(
        "runs_active",
        "Runs queued, running or waiting now, by kind and status (among runs created in the "
        "last 24 h).",
        ["kind", "status"],
    )
    for kind, status, runs in data["active"]:
        active.add_metric([kind, status], runs)
    recent = _gauge(
        "runs_recent",
        "Runs created in the last hour, by kind and current status.",
        ["kind", "status"],
    )
    retried = _gauge(
        "runs_retried_recent",
        "Runs created in the last hour that are on a later attempt (their worker died or "
        "gave them back), by kind.",
        ["kind"],
    )
    retried_by_kind: dict[str, int] = {}
    for kind, status, runs, later in data["recent"]:
        recent.add_metric([kind, status], runs)
        retried_by_kind[kind] = retried_by_kind.get(kind, 0) + later
    for kind, later in sorted(retried_by_kind.items()):
        retried.add_metric([kind], later)
    failures = _gauge(
        "run_failures_recent",
        "Failed runs created in the last hour, by kind and error code (run.failed's code).",
        ["kind", "code"],
    )
    for kind, code, runs in data["failures"]:
        failures.add_metric([kind, _label(code)], runs)
    tool_failures = _gauge(
        "tool_failures_recent",
        "tool.failed events of runs created in the last hour, by tool and error code.",
        ["tool", "code"],
    )
    for tool, code, calls in data["tools"].failures:
        tool_failures.add_metric([_label(tool), _label(code)], calls)
    spend = _gauge(
        "llm_spend_usd_today",
        "USD the model-call ledger recorded since 00:00 UTC (the guard's budget day), by "
        "model and plan.",
        ["model", "plan"],
    )
    calls = _gauge(
        "llm_calls_today",
        "Model call attempts in the ledger since 00:00 UTC, by model, plan and outcome "
        "(ok, error).",
        ["model", "plan", "outcome"],
    )
    for model, plan, count, errors, usd in data["llm_today"]:
        labels = [_label(model), _label(plan)]
        spend.add_metric(labels, usd)
        calls.add_metric([*labels, "ok"], count - errors)
        calls.add_metric([*labels, "error"], errors)
    unreconciled, settle_pending = data["llm_open"]
    soft = _gauge(
        "guard_soft_limits_recent",
        "Soft budget limits crossed in the last hour, by bucket.",
        ["bucket"],
    )
    for bucket, warnings in data["soft_limits"]:
        soft.add_metric([_label(bucket)], warnings)
    scrape.add(
        active,
        recent,
        retried,
        failures,
        _histogram(
            "run_duration_seconds",
            "Started to finished, of the finished runs created in the last hour, by kind and "
            "status.",
            ["kind", "status"],
            RUN_DURATION_BUCKETS_S,
            data["durations"],
        ),
        _histogram(
            "run_time_to_first_event_seconds",
            "Accepted (queued) to the first event from a worker (run.started), of the runs "
            "created in the last hour that started, by kind.",
            ["kind"],
            TIME_TO_FIRST_EVENT_BUCKETS_S,
            data["first_event"],
        ),
        _histogram(
            "tool_duration_seconds",
            "Duration of the completed tool calls (tool.completed) of runs created in the last "
            "hour, by tool.",
            ["tool"],
            TOOL_DURATION_BUCKETS_S,
            data["tools"].durations,
        ),
        tool_failures,
        spend,
        calls,
        GaugeMetricFamily(
            PREFIX + "llm_calls_unreconciled",
            "Ledger rows charged at their reservation's worst case, waiting for the provider's "
            "billed cost (guard-reconcile-spend).",
            value=unreconciled,
        ),
        GaugeMetricFamily(
            PREFIX + "llm_calls_settle_pending",
            "Ledger rows whose settle the budget store has not taken yet (completed by "
            "guard-reconcile-spend).",
            value=settle_pending,
        ),
        soft,
    )
    if data["heartbeat"] is not None:
        scrape.add(
            GaugeMetricFamily(
                PREFIX + "worker_heartbeat_age_seconds",
                "Seconds since the newest Celery worker heartbeat.",
                value=(now - data["heartbeat"]).total_seconds(),
            )
        )


def _live(scrape: _Scrape, now: Any) -> None:
    queues = scrape.read("queues", live.queue_lengths)
    if queues is not None:
        family = _gauge(
            "queue_length",
            "Tasks waiting in each Celery queue of the broker (embedded: waiting for a thread "
            "in each pool of the in-process runner).",
            ["queue"],
        )
        for queue, length in sorted(queues.items()):
            family.add_metric([queue], length)
        scrape.add(family)
    streams = scrape.read("streams", live.open_streams)
    if streams is not None:
        scrape.add(
            GaugeMetricFamily(
                PREFIX + "sse_streams_open",
                "SSE streams open now across every web process.",
                value=streams,
            )
        )

    def lag() -> dict[str, float]:
        return live.event_log_lag(
            running=selectors.runs_running(now=now, limit=LAG_RUNS_MAX), now=now
        )

    lags = scrape.read("event_log", lag)
    if lags is not None:
        family = _gauge(
            "event_log_lag_seconds",
            "The longest time since the newest event in the event log of a running run, by "
            "kind (a run that has gone silent).",
            ["kind"],
        )
        for kind, seconds in sorted(lags.items()):
            family.add_metric([kind], seconds)
        scrape.add(family)
        size = live.embedded_event_log_size()
        if size is not None:
            scrape.add(
                GaugeMetricFamily(
                    PREFIX + "event_log_events",
                    "Events the embedded (in-memory) event log holds.",
                    value=size["events"],
                ),
                GaugeMetricFamily(
                    PREFIX + "event_log_bytes",
                    "Estimated bytes the embedded (in-memory) event log holds.",
                    value=size["bytes"],
                ),
            )
    counted = scrape.read("counters", live.counters)
    if counted is not None:
        refusals = CounterMetricFamily(
            PREFIX + "guard_refusals",
            "Calls the cost guard refused, by where (entry: an HTTP entry point before work "
            "is queued; call: a model call in a run or tool), kind (rate_limited, "
            "budget_exceeded) and bucket.",
            labels=["where", "kind", "bucket"],
        )
        refused_streams = 0
        for (name, labels), value in sorted(counted.items()):
            by_name = dict(labels)
            if name == GUARD_REFUSALS_COUNTER:
                refusals.add_metric(
                    [_label(by_name.get(key, "")) for key in ("where", "kind", "bucket")],
                    value,
                )
            elif name == STREAMS_REFUSED_COUNTER:
                refused_streams += value
        scrape.add(
            refusals,
            CounterMetricFamily(
                PREFIX + "sse_streams_refused",
                "SSE streams refused because their client already held SSE_MAX_STREAMS_PER_CLIENT.",
                value=refused_streams,
            ),
        )


def _moderation(scrape: _Scrape) -> None:
    counts = scrape.read("moderation", moderation_counts)
    if counts is None:
        return
    rejected = CounterMetricFamily(
        PREFIX + "moderation_rejected",
        "User texts the moderation step refused before any model saw them, by category.",
        labels=["category"],
    )
    for category, value in sorted(counts["rejected"].items()):
        rejected.add_metric([_label(category)], value)
    scrape.add(
        rejected,
        CounterMetricFamily(
            PREFIX + "moderation_unavailable",
            "Moderation checks the moderation service could not answer (refused with 503 "
            "unless MODERATION_FAIL_OPEN).",
            value=counts["unavailable"],
        ),
    )


def collect_now() -> list[Metric]:
    """Read every source once and build the families (uncached)."""
    started = time.perf_counter()
    now = timezone.now()
    scrape = _Scrape()
    _database(scrape, now)
    _live(scrape, now)
    _moderation(scrape)
    scrape.add(
        scrape.up,
        GaugeMetricFamily(
            PREFIX + "metrics_scrape_duration_seconds",
            "Seconds the last uncached scrape took to read every source.",
            value=time.perf_counter() - started,
        ),
    )
    return [_without_duplicates(family) for family in scrape.families]


_cache: tuple[float, list[Metric]] | None = None
_cache_lock = threading.Lock()


def collect_cached() -> list[Metric]:
    """The families of a scrape at most ``CACHE_S`` old; one scrape at a time reads."""
    global _cache
    with _cache_lock:
        if _cache is not None and time.monotonic() - _cache[0] < CACHE_S:
            return _cache[1]
        families = collect_now()
        _cache = (time.monotonic(), families)
        return families


def reset_for_tests() -> None:
    global _cache
    with _cache_lock:
        _cache = None


class SharedStateCollector:
    """A ``prometheus_client`` collector over the service's shared state."""

    def collect(self) -> Iterable[Metric]:
        return collect_cached()


registry = CollectorRegistry(auto_describe=False)
registry.register(SharedStateCollector())
