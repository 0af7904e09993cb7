"""What ``/metrics`` reads from the database: a few aggregate queries, each bounded by an
index (``created_at`` of runs, ledger rows and guard events; tool events through the recent
runs' ids and the events' run index; the ledger's partial indexes), so a scrape costs what
the traffic of its windows costs, not what the service has stored over time.

Histograms are counted in SQL, one ``COUNT(*) FILTER`` per bucket, so no rows travel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import CharField, Count, F, FloatField, Func, Q, QuerySet, Sum, Value
from django.db.models.sql.compiler import SQLCompiler

from backend.guard.models import GuardEvent, LlmCall
from backend.runs.models import Run, RunEvent

# "Recent": runs (and their tool calls) created in the last hour, guard events recorded in it.
RECENT_S = 3600
# Active runs are looked for among the runs of the last day: a run still queued or running
# after a day is the reaper's business, and the bound keeps the query on the index.
ACTIVE_WITHIN_S = 86_400


@dataclass(frozen=True)
class Distribution:
    """Observations of one label set: cumulative counts at each bucket bound, the count
    and the sum (seconds)."""

    labels: tuple[str, ...]
    cumulative: tuple[int, ...]
    count: int
    total_s: float
    rows: int = 0  # rows of the group, observed or not


class SecondsBetween(Func):
    """``end - start`` in seconds, in each database's own arithmetic: Django's duration
    expressions call a Python function per row on SQLite (10x slower at 10,000 runs)."""

    output_field = FloatField()

    def __init__(self, start: str, end: str) -> None:
        super().__init__(F(start), F(end))

    def as_sql(  # type: ignore[override]
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, tuple[Any, ...]]:
        start, end = self.get_source_expressions()
        start_sql, start_params = compiler.compile(start)
        end_sql, end_params = compiler.compile(end)
        if connection.vendor == "sqlite":
            sql = f"((julianday({end_sql}) - julianday({start_sql})) * 86400.0)"
        else:
            # date_part is double precision; EXTRACT is numeric (slower) since PostgreSQL 14.
            sql = f"date_part('epoch', {end_sql} - {start_sql})"
        return sql, (*end_params, *start_params)


class JsonValue(Func):
    """A value in a JSON column by a fixed path: text, or a number with ``number``. One
    ``json_extract`` on SQLite (Django's key transforms make two or three JSON calls of
    each value there), ``#>>`` on PostgreSQL."""

    def __init__(self, column: str, *path: str, number: bool = False) -> None:
        if not all(key.isidentifier() for key in path):
            raise ValueError(f"not a fixed JSON path: {path!r}")
        self.path = path
        self.number = number
        super().__init__(F(column), output_field=FloatField() if number else CharField())

    def as_sql(  # type: ignore[override]
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, tuple[Any, ...]]:
        column, params = compiler.compile(self.get_source_expressions()[0])
        if connection.vendor == "sqlite":
            return f"json_extract({column}, '$.{'.'.join(self.path)}')", tuple(params)
        text = f"({column} #>> '{{{','.join(self.path)}}}')"
        return (f"{text}::double precision" if self.number else text), tuple(params)


def _distributions(
    queryset: QuerySet[Any],
    *,
    seconds: Any,
    bounds: Sequence[float],
    group: dict[str, Any],
    observed_only: bool = True,
) -> list[Distribution]:
    """Bucket ``seconds`` (an expression; NULL: not observed) per ``group`` (label: a
    model field when None, else an expression), in one query; groups without an
    observation are left out unless ``observed_only`` is false."""
    fields = [name for name, expression in group.items() if expression is None]
    expressions = {name: expression for name, expression in group.items() if expression}
    buckets = {
        f"le_{i}": Count("pk", filter=Q(observed__lte=bound)) for i, bound in enumerate(bounds)
    }
    rows = (
        queryset.annotate(observed=seconds)
        .values(*fields, **expressions)
        .annotate(
            rows=Count("pk"), observations=Count("observed"), total=Sum("observed"), **buckets
        )
        .order_by()
    )
    return [
        Distribution(
            labels=tuple(str(row[name] or "") for name in group),
            cumulative=tuple(int(row[f"le_{i}"]) for i in range(len(bounds))),
            count=int(row["observations"]),
            total_s=float(row["total"] or 0),
            rows=int(row["rows"]),
        )
        for row in rows
        if row["observations"] or not observed_only
    ]


def runs_active(*, now: datetime) -> list[tuple[str, str, int]]:
    """(kind, status, runs) of the runs queued, running or waiting now."""
    rows = (
        Run.objects.filter(
            created_at__gte=now - timedelta(seconds=ACTIVE_WITHIN_S), status__in=Run.ACTIVE
        )
        .values("kind", "status")
        .annotate(runs=Count("pk"))
        .order_by()
    )
    return [(row["kind"], row["status"], row["runs"]) for row in rows]


def runs_recent(*, now: datetime) -> list[tuple[str, str, int, int]]:
    """(kind, status, runs, runs on a later attempt) of the runs created in the last hour."""
    rows = (
        Run.objects.filter(created_at__gte=now - timedelta(seconds=RECENT_S))
        .values("kind", "status")
        .annotate(runs=Count("pk"), retried=Count("pk", filter=Q(attempt__gt=1)))
        .order_by()
    )
    return [(row["kind"], row["status"], row["runs"], row["retried"]) for row in rows]


def run_failures_recent(*, now: datetime) -> list[tuple[str, str, int]]:
    """(kind, error code, runs) of the failed runs created in the last hour."""
    rows = (
        Run.objects.filter(
            created_at__gte=now - timedelta(seconds=RECENT_S), status=Run.Status.FAILED
        )
        .values("kind", "error_code")
        .annotate(runs=Count("pk"))
        .order_by()
    )
    return [(row["kind"], row["error_code"] or "", row["runs"]) for row in rows]


def run_durations_recent(*, now: datetime, bounds: Sequence[float]) -> list[Distribution]:
    """Started to finished, per kind and status, of the finished runs created in the last hour."""
    return _distributions(
        Run.objects.filter(
            created_at__gte=now - timedelta(seconds=RECENT_S),
            status__in=Run.TERMINAL,
            started_at__isnull=False,
            finished_at__isnull=False,
        ),
        seconds=SecondsBetween("started_at", "finished_at"),
        bounds=bounds,
        group={"kind": None, "status": None},
    )


def run_time_to_first_event_recent(*, now: datetime, bounds: Sequence[float]) -> list[Distribution]:
    """Accepted to its first event from a worker (``run.started``: the run was claimed),
    per kind, of the runs created in the last hour that started."""
    return _distributions(
        Run.objects.filter(
            created_at__gte=now - timedelta(seconds=RECENT_S), started_at__isnull=False
        ),
        seconds=SecondsBetween("created_at", "started_at"),
        bounds=bounds,
        group={"kind": None},
    )


@dataclass(frozen=True)
class ToolCalls:
    durations: list[Distribution]  # per tool, of tool.completed
    failures: list[tuple[str, str, int]]  # (tool, error code, calls) of tool.failed


def tool_calls_recent(*, now: datetime, bounds: Sequence[float]) -> ToolCalls:
    """The ``tool.completed`` (``duration_ms``) and ``tool.failed`` (``error.code``) events
    of runs created in the last hour, in one query: through the runs' indexed
    ``created_at`` to their events."""
    recent_runs = Run.objects.filter(created_at__gte=now - timedelta(seconds=RECENT_S))
    # ``run_id IN (recent runs)``, not a join: SQLite then walks the events' run_id index
    # from those runs (with a join it scanned every event and looked each run up).
    events = RunEvent.objects.filter(
        run_id__in=recent_runs.values("id"), type__in=("tool.completed", "tool.failed")
    )
    found = _distributions(
        events,
        seconds=JsonValue("data", "duration_ms", number=True) / Value(1000.0),
        bounds=bounds,
        group={
            "type": None,
            "tool": JsonValue("data", "name"),
            "code": JsonValue("data", "error", "code"),
        },
        observed_only=False,
    )
    durations: dict[str, Distribution] = {}
    failures = []
    for row in found:
        event_type, tool, code = row.labels
        if event_type == "tool.failed":
            failures.append((tool, code, row.rows))
        elif row.count:
            durations[tool] = _merged(durations.get(tool), row, labels=(tool,))
    return ToolCalls(durations=list(durations.values()), failures=failures)


def _merged(a: Distribution | None, b: Distribution, *, labels: tuple[str, ...]) -> Distribution:
    if a is None:
        return Distribution(
            labels=labels, cumulative=b.cumulative, count=b.count, total_s=b.total_s, rows=b.rows
        )
    return Distribution(
        labels=labels,
        cumulative=tuple(x + y for x, y in zip(a.cumulative, b.cumulative, strict=True)),
        count=a.count + b.count,
        total_s=a.total_s + b.total_s,
        rows=a.rows + b.rows,
    )


def llm_calls_today(*, now: datetime) -> list[tuple[str, str, int, int, float]]:
    """(model, plan, calls, failed calls, USD) of the ledger since 00:00 UTC: the day the
    guard's daily budgets count."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    rows = (
        LlmCall.objects.filter(created_at__gte=midnight)
        .values("model", "plan")
        .annotate(
            calls=Count("pk"), errors=Count("pk", filter=Q(is_error=True)), spend=Sum("cost_usd")
        )
        .order_by()
    )
    return [
        (row["model"], row["plan"], row["calls"], row["errors"], float(row["spend"] or 0))
        for row in rows
    ]


def llm_calls_open() -> tuple[int, int]:
    """(estimated calls awaiting their billed cost, calls whose settle the budget store has
    yet to take): the reconcile job's two queues, each on its own partial index."""
    unreconciled = LlmCall.objects.filter(estimated=True, reconciled_at__isnull=True).count()
    settle_pending = LlmCall.objects.filter(settle_pending=True).count()
    return unreconciled, settle_pending


def guard_soft_limits_recent(*, now: datetime) -> list[tuple[str, int]]:
    """(bucket, warnings) of the soft limits crossed in the last hour."""
    rows = (
        GuardEvent.objects.filter(
            created_at__gte=now - timedelta(seconds=RECENT_S),
            kind=GuardEvent.Kind.SOFT_LIMIT,
        )
        .values("bucket")
        .annotate(warnings=Count("pk"))
        .order_by()
    )
    return [(row["bucket"], row["warnings"]) for row in rows]


def runs_running(*, now: datetime, limit: int) -> list[tuple[str, str]]:
    """(run id, kind) of up to ``limit`` running runs, the newest first."""
    rows = (
        Run.objects.filter(
            created_at__gte=now - timedelta(seconds=ACTIVE_WITHIN_S), status=Run.Status.RUNNING
        )
        .order_by("-created_at")
        .values_list("id", "kind")[:limit]
    )
    return [(str(run_id), kind) for run_id, kind in rows]
