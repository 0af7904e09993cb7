from __future__ import annotations

from typing import Any

import structlog

from agents.guard import CallMeta, RateLimitedError
from backend.core.counters import acounter_add, counter_add
from backend.core.db import released
from backend.guard.models import GuardEvent

logger = structlog.get_logger(__name__)

GUARD_REFUSALS_COUNTER = "guard_refusals"


def guard_event_record(*, kind: str, client_id: str = "", bucket: str = "") -> None:
    GuardEvent.objects.create(kind=kind, client_id=client_id, bucket=bucket)


# The refusal reasons a metric label may name (``details.bucket`` of the guard's errors);
# anything else is counted as "other", so a label never takes an unbounded set of values.
REFUSAL_BUCKETS = frozenset(
    {
        "global",
        "global_plan",
        "client",
        "ip",
        "api_key",
        "session",
        "credits",
        "max_call",
        "model",
        "rate",
        "concurrency",
    }
)


def refusal_labels(*, where: str, exc: Exception) -> dict[str, str]:
    """The counter labels of a refusal: where it happened (``entry``: an HTTP entry point
    before any work is queued; ``call``: a model call), its kind and its bucket."""
    rate_limited = isinstance(exc, RateLimitedError)
    bucket = str(getattr(exc, "details", {}).get("bucket") or ("rate" if rate_limited else ""))
    return {
        "where": where,
        "kind": "rate_limited" if rate_limited else "budget_exceeded",
        "bucket": bucket if bucket in REFUSAL_BUCKETS else "other",
    }


def guard_refusal_count(*, where: str, exc: Exception) -> None:
    """Count one refusal for ``/metrics`` (a counter: no table holds the calls' refusals)."""
    counter_add(GUARD_REFUSALS_COUNTER, refusal_labels(where=where, exc=exc))


async def aguard_refusal_count(*, where: str, exc: Exception) -> None:
    await acounter_add(GUARD_REFUSALS_COUNTER, refusal_labels(where=where, exc=exc))


async def guard_soft_limit_reached(*, bucket: str, used_fraction: float, meta: CallMeta) -> None:
    """Soft limit crossed: a warning log and a PostHog event (a run's stream hears of it
    through its own hook, ``model_calls.factory.model_factory(warning_sink=)``)."""
    logger.warning(
        "budget_soft_limit_reached",
        bucket=bucket,
        used_fraction=round(used_fraction, 3),
        client_id=meta.client_id,
        run_id=meta.run_id,
    )
    await released(guard_event_record)(
        kind=GuardEvent.Kind.SOFT_LIMIT, client_id=meta.client_id, bucket=bucket
    )
    from backend.analytics.events import capture

    capture(
        "budget_soft_limit_reached",
        distinct_id=meta.client_id,
        properties={"bucket": bucket, "used_fraction": used_fraction, "run_id": meta.run_id},
    )


def spend_archive_finished_days(*, days_back: int = 2) -> int:
    """Copy finished UTC days' bucket totals from the live store into snapshots (idempotent)."""
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    from asgiref.sync import async_to_sync

    from agents.guard.pricing import micros_to_usd
    from backend.guard.instance import get_store
    from backend.guard.models import DailySpendSnapshot

    today = datetime.now(UTC).date()
    archived = 0
    for offset in range(1, days_back + 1):
        day = today - timedelta(days=offset)

        async def snapshot(day_key: str = day.isoformat()) -> dict:
            return await get_store().snapshot_day(day_key)

        for key, usage in async_to_sync(snapshot)().items():
            DailySpendSnapshot.objects.update_or_create(
                day=day,
                bucket=key,
                defaults={
                    "spent_usd": micros_to_usd(usage.spent),
                    "reserved_usd": micros_to_usd(usage.held) or Decimal(0),
                },
            )
            archived += 1
    return archived


def guard_daily_spend_transfer(*, from_client_id: str, to_client_id: str) -> int:
    """Charge today's settled spend of one client to another (an anonymous client joining
    an account), so that moving does not hand out a fresh daily budget. Idempotent for the
    pair and day; returns the micro-dollars charged. The source keeps its own count."""
    import dataclasses
    import time

    from asgiref.sync import async_to_sync

    from agents.guard import CallMeta
    from agents.guard.buckets import plan_buckets, utc_day
    from backend.guard.instance import get_store, guard_limits

    now = time.time()
    day = utc_day(now)
    limits = guard_limits()

    def client_bucket(client_id: str) -> Any:
        planned = plan_buckets(
            meta=CallMeta(client_id=client_id, feature="attach"),
            plan=limits.plan_limits("free"),
            limits=limits,
            now=now,
        )
        spec = next(p.spec for p in planned if p.kind == "client")
        return dataclasses.replace(spec, limit=None, soft_limit=None)

    source, target = client_bucket(from_client_id), client_bucket(to_client_id)

    async def transfer() -> int:
        store = get_store()
        spent = (await store.usage([source.key]))[source.key].spent
        if spent > 0:
            # A settle of a reservation the store never saw records the amount against
            # the given buckets once (a repeat with the same id changes nothing).
            await store.settle(
                reservation_id=f"attach:{from_client_id}:{to_client_id}:{day}",
                actual=spent,
                fallback=[target],
            )
        return int(spent)

    return async_to_sync(transfer)()
