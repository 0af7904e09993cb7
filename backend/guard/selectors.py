from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from asgiref.sync import async_to_sync
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from agents.guard.pricing import micros_to_usd
from backend.guard.instance import get_store
from backend.guard.models import GuardEvent, LlmCall


def _usd(value: Any) -> str:
    return str(Decimal(str(value or 0)).quantize(Decimal("0.000001")))


def usage_report(*, days: int = 14) -> dict[str, Any]:
    """Spend and calls per day, model and plan; live reservations; refusals per day."""
    since = timezone.now() - timedelta(days=days)
    calls = LlmCall.objects.filter(created_at__gte=since)

    def grouped(*fields: str) -> list[dict[str, Any]]:
        rows = calls.values(*fields).annotate(
            calls=Count("id"),
            spend_usd=Sum("cost_usd"),
            input_tokens=Sum("input_tokens"),
            output_tokens=Sum("output_tokens"),
        )
        return [{**row, "spend_usd": _usd(row["spend_usd"])} for row in rows.order_by(*fields)]

    per_day = calls.annotate(day=TruncDate("created_at"))
    by_day = [
        {**row, "day": row["day"].isoformat(), "spend_usd": _usd(row["spend_usd"])}
        for row in per_day.values("day")
        .annotate(calls=Count("id"), spend_usd=Sum("cost_usd"))
        .order_by("day")
    ]
    refusals = [
        {**row, "day": row["day"].isoformat()}
        for row in GuardEvent.objects.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("day", "kind")
        .annotate(count=Count("id"))
        .order_by("day", "kind")
    ]

    async def live() -> list[Any]:
        return await get_store().active_reservations()

    reservations = [
        {
            "reservation_id": r.reservation_id,
            "amount_usd": str(micros_to_usd(r.amount)),
            "buckets": list(r.bucket_keys),
            "expires_at": r.expires_at,
        }
        for r in async_to_sync(live)()
    ]
    open_estimates = calls.filter(estimated=True).aggregate(count=Count("id"), usd=Sum("cost_usd"))
    return {
        "days": days,
        # Calls charged at their worst case (ended before the provider's usage, or
        # expired with their holder gone) and settles still waiting for the store.
        "estimates": {
            "calls": open_estimates["count"],
            "spend_usd": _usd(open_estimates["usd"]),
            "reconciled": calls.filter(reconciled_at__isnull=False).count(),
            "pending_settles": calls.filter(settle_pending=True).count(),
        },
        "by_day": by_day,
        "by_model": grouped("model"),
        "by_plan": grouped("plan"),
        "active_reservations": reservations,
        "refusals": refusals,
    }
