"""What one GET /metrics costs with N rows in the windows it reads, and ten times as many
older rows it must not read (runs, their stored events, ledger rows), on a PostgreSQL of
the bench's own (``initdb`` in a scratch directory) or on SQLite (the embedded default).

    uv run python tests/bench/bench_metrics_scrape.py --rows 10000 --database postgres
    uv run python tests/bench/bench_metrics_scrape.py --rows 10000 --database sqlite

Each scrape goes through the real view (token, collector, text encoding) with the cache
cleared first, so every one of them runs every query. Prints a JSON summary.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
TOKEN = "bench-metrics-token-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ScratchPostgres:
    """A throwaway cluster: its own directory, port and socket (never a shared server)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        self.as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_pg:
            root.chmod(0o777)
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")
        options = f"-p {self.port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run("pg_ctl", "-D", str(self.data), "-l", str(root / "pg.log"), "-o", options,
                 "-w", "start")  # fmt: skip

    def run(self, tool: str, *args: str) -> None:
        binary = shutil.which(tool) or str(next(Path("/usr/lib/postgresql").glob(f"*/bin/{tool}")))
        subprocess.run([*self.as_pg, binary, *args], check=True, capture_output=True)

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")


def configure(database: dict[str, Any]) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "backend.config.settings.test"
    sys.path.insert(0, str(REPO_ROOT))
    from django.conf import settings

    settings.DATABASES["default"] = database
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed(rows: int) -> dict[str, int]:
    """``rows`` runs in the last hour (3 stored tool events each) and 2 x ``rows`` ledger
    rows today; ten times as many of each from the last 30 days before that."""
    from backend.guard.models import GuardEvent, LlmCall
    from backend.runs.models import Run, RunEvent

    # Rows with their own creation times (auto_now_add would stamp them all "now").
    for model in (Run, LlmCall, GuardEvent):
        model._meta.get_field("created_at").auto_now_add = False  # type: ignore[attr-defined]
    from django.utils import timezone

    rng = random.Random(7)
    now = timezone.now()
    kinds = ("chat", "chat", "chat", "factoid", "channel_fetch")
    statuses = ("completed",) * 8 + ("failed", "cancelled", "running", "queued")
    tools = ("hashtags", "keyword_research", "content_ideas", "viral_score", "channel_outliers")
    counts = {"runs": 0, "run_events": 0, "llm_calls": 0}

    def runs(count: int, oldest_s: float, newest_s: float) -> None:
        batch = []
        for _ in range(count):
            created = now - timedelta(seconds=rng.uniform(newest_s, oldest_s))
            status = rng.choice(statuses)
            started = None if status == "queued" else created + timedelta(seconds=rng.random())
            finished = (
                started + timedelta(seconds=rng.uniform(0.5, 60))
                if started and status not in ("running",)
                else None
            )
            batch.append(
                Run(
                    kind=rng.choice(kinds),
                    client_id=f"c{rng.randrange(1000)}",
                    model="offline",
                    status=status,
                    error_code="RUN_TIMEOUT" if status == "failed" else "",
                    attempt=1 + (rng.random() < 0.02),
                    created_at=created,
                    started_at=started,
                    finished_at=finished,
                )
            )
        Run.objects.bulk_create(batch, batch_size=2000)
        events = []
        for run in batch:
            for seq in range(1, 4):
                failed = seq == 3
                data: dict[str, Any] = {"name": rng.choice(tools), "call_id": f"k{seq}"}
                if failed:
                    data["error"] = {"code": "TOOL_ERROR", "message": "x"}
                else:
                    data["duration_ms"] = round(rng.uniform(5, 8000), 1)
                events.append(
                    RunEvent(
                        run=run,
                        seq=seq,
                        type="tool.failed" if failed else "tool.completed",
                        data=data,
                        ts=run.created_at,
                    )
                )
        RunEvent.objects.bulk_create(events, batch_size=5000)
        counts["runs"] += len(batch)
        counts["run_events"] += len(events)

    def ledger(count: int, oldest_s: float, newest_s: float) -> None:
        batch = [
            LlmCall(
                client_id=f"c{rng.randrange(1000)}",
                plan=rng.choice(("anonymous", "free", "pro")),
                feature=rng.choice(("chat", "hashtags", "factoid")),
                model=rng.choice(("openai/gpt-4o-mini", "anthropic/claude-3.5-haiku")),
                cost_usd=Decimal(str(round(rng.uniform(0, 0.01), 6))),
                is_error=rng.random() < 0.01,
                created_at=now - timedelta(seconds=rng.uniform(newest_s, oldest_s)),
            )
            for _ in range(count)
        ]
        LlmCall.objects.bulk_create(batch, batch_size=5000)
        counts["llm_calls"] += len(batch)

    midnight_s = (now - now.replace(hour=0, minute=0, second=0, microsecond=0)).total_seconds()
    runs(rows, 3500, 1)
    runs(rows * 10, 30 * 86_400, 2 * 86_400)
    ledger(rows * 2, max(1.0, midnight_s - 1), 0)
    ledger(rows * 20, 30 * 86_400, midnight_s + 3600)
    GuardEvent.objects.bulk_create(
        [
            GuardEvent(kind="soft_limit", bucket="client", created_at=now - timedelta(seconds=60))
            for _ in range(rows // 10)
        ]
    )
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return counts


def measure(scrapes: int) -> dict[str, Any]:
    from django.test import Client

    from backend.ops import metrics

    client = Client()
    timings = []
    body = b""
    for _ in range(scrapes):
        metrics.reset_for_tests()
        started = time.perf_counter()
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200
        body = response.content
    started = time.perf_counter()
    client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    cached_s = time.perf_counter() - started
    timings.sort()
    down = [
        line
        for line in body.decode().splitlines()
        if line.startswith("insightstream_metrics_source_up") and not line.endswith(" 1.0")
    ]
    assert not down, down
    return {
        "scrapes": scrapes,
        "total_s": round(sum(timings), 3),
        "mean_ms": round(statistics.mean(timings) * 1000, 1),
        "p50_ms": round(timings[len(timings) // 2] * 1000, 1),
        "p95_ms": round(timings[int(len(timings) * 0.95) - 1] * 1000, 1),
        "cached_ms": round(cached_s * 1000, 2),
        "body_bytes": len(body),
        "samples": sum(1 for line in body.decode().splitlines() if not line.startswith("#")),
        "each_query_ms": each_query(),
    }


def each_query() -> dict[str, float]:
    """One run of each database read, timed (the median of five)."""
    from django.utils import timezone

    from backend.ops import metrics, selectors

    now = timezone.now()
    reads = {
        "runs_active": lambda: selectors.runs_active(now=now),
        "runs_recent": lambda: selectors.runs_recent(now=now),
        "run_failures_recent": lambda: selectors.run_failures_recent(now=now),
        "run_durations_recent": lambda: selectors.run_durations_recent(
            now=now, bounds=metrics.RUN_DURATION_BUCKETS_S
        ),
        "run_time_to_first_event_recent": lambda: selectors.run_time_to_first_event_recent(
            now=now, bounds=metrics.TIME_TO_FIRST_EVENT_BUCKETS_S
        ),
        "tool_calls_recent": lambda: selectors.tool_calls_recent(
            now=now, bounds=metrics.TOOL_DURATION_BUCKETS_S
        ),
        "llm_calls_today": lambda: selectors.llm_calls_today(now=now),
        "llm_calls_open": selectors.llm_calls_open,
        "guard_soft_limits_recent": lambda: selectors.guard_soft_limits_recent(now=now),
        "runs_running": lambda: selectors.runs_running(now=now, limit=metrics.LAG_RUNS_MAX),
    }
    timed = {}
    for name, read in reads.items():
        runs = []
        for _ in range(5):
            started = time.perf_counter()
            read()
            runs.append(time.perf_counter() - started)
        timed[name] = round(statistics.median(runs) * 1000, 1)
    return timed


def explain() -> None:
    """The plan of every query a scrape sends (EXPLAIN ANALYZE on PostgreSQL)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from backend.ops import metrics

    metrics.reset_for_tests()
    with CaptureQueriesContext(connection) as captured:
        metrics.collect_now()
    prefix = "EXPLAIN ANALYZE " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            print("\n--", query["time"], "s:", query["sql"][:300])
            cursor.execute(prefix + query["sql"])
            for row in cursor.fetchall():
                print("   ", " | ".join(str(column) for column in row))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--scrapes", type=int, default=50)
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--explain", action="store_true", help="print each query's plan")
    args = parser.parse_args()
    os.environ["METRICS_TOKEN"] = TOKEN
    os.environ.pop("REDIS_URL", None)
    os.environ.pop("DATABASE_URL", None)
    root = Path(tempfile.mkdtemp(prefix="bench-metrics-"))
    postgres = None
    try:
        if args.database == "postgres":
            postgres = ScratchPostgres(root)
            database = {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": "postgres",
                "USER": "postgres",
                "HOST": "127.0.0.1",
                "PORT": str(postgres.port),
            }
        else:
            database = {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": str(root / "bench.sqlite3"),
                "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;"},
            }
        configure(database)
        started = time.perf_counter()
        counts = seed(args.rows)
        seeded_s = time.perf_counter() - started
        result = {
            "database": args.database,
            "rows_in_windows": args.rows,
            "stored": counts,
            "seed_s": round(seeded_s, 1),
            **measure(args.scrapes),
        }
        print(json.dumps(result, indent=2))
        if args.explain:
            explain()
    finally:
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
