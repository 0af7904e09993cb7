"""The staff overview (``GET /api/admin/stats/``): totals, who is busiest, who just joined,
what the service spends per day, and how payments are doing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

MOST_ACTIVE = 10
RECENT = 10


def _usd(value: Any) -> str:
    return str(Decimal(str(value or 0)).quantize(Decimal("0.000001")))


def admin_stats(*, days: int = 14) -> dict[str, Any]:
    from backend.accounts.models import Account
    from backend.channels.models import Channel
    from backend.chat.models import ChatMessage, ChatSession
    from backend.clients.models import Client
    from backend.factoids.models import Factoid
    from backend.guard.models import LlmCall
    from backend.payments.models import CheckoutSession, CreditEntry, StripeEvent
    from backend.runs.models import Run
    from backend.tools.models import HistoryEntry

    since = timezone.now() - timedelta(days=days)
    runs_by_kind = dict(Run.objects.values_list("kind").annotate(n=Count("id")).order_by("kind"))
    accounts_by_client = dict(Account.objects.values_list("client_id", "user__email"))
    busiest = (
        Run.objects.filter(created_at__gte=since)
        .values("client_id")
        .annotate(runs=Count("id"), spend_usd=Sum("cost_usd"))
        .order_by("-runs", "client_id")[:MOST_ACTIVE]
    )
    per_day = (
        LlmCall.objects.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(calls=Count("id"), spend_usd=Sum("cost_usd"))
        .order_by("day")
    )
    events = dict(
        StripeEvent.objects.values_list("status").annotate(n=Count("id")).order_by("status")
    )
    return {
        "days": days,
        "totals": {
            "users": Account.objects.count(),
            "users_verified": Account.objects.filter(email_verified_at__isnull=False).count(),
            "users_pro": Account.objects.filter(plan="pro").count(),
            "anonymous_clients": Client.objects.filter(kind=Client.Kind.ANONYMOUS).count(),
            "runs": sum(runs_by_kind.values()),
            "runs_by_kind": runs_by_kind,
            "chat_sessions": ChatSession.objects.count(),
            "factoids": Factoid.objects.count(),
            "channels": Channel.objects.count(),
            "generated_content": {
                "assistant_messages": ChatMessage.objects.filter(role="assistant").count(),
                "tool_results": HistoryEntry.objects.count(),
                "factoids": Factoid.objects.count(),
            },
            "spend_usd": _usd(LlmCall.objects.aggregate(total=Sum("cost_usd"))["total"]),
            "credits_outstanding_usd": _usd(
                CreditEntry.objects.aggregate(total=Sum("amount_usd"))["total"]
            ),
        },
        "most_active_clients": [
            {
                "client_id": row["client_id"],
                "account_email": accounts_by_client.get(_uuid_or_none(row["client_id"])),
                "runs": row["runs"],
                "spend_usd": _usd(row["spend_usd"]),
            }
            for row in busiest
        ],
        "recent_registrations": [
            {
                "account_id": str(account.id),
                "email": account.user.email,
                "plan": account.plan,
                "email_verified": account.email_verified_at is not None,
                "created_at": account.created_at,
            }
            for account in Account.objects.select_related("user").order_by("-created_at")[:RECENT]
        ],
        "spend_per_day": [
            {
                "day": row["day"].isoformat(),
                "calls": row["calls"],
                "spend_usd": _usd(row["spend_usd"]),
            }
            for row in per_day
        ],
        "payments": {
            "events_by_status": events,
            # Events Stripe sent about no account we know: kept, and shown here to act on.
            "unmatched_events": events.get(StripeEvent.Status.UNMATCHED, 0),
            "failed_events": events.get(StripeEvent.Status.FAILED, 0),
            "fulfilled_checkouts": CheckoutSession.objects.filter(
                fulfilled_at__isnull=False
            ).count(),
        },
    }


def _uuid_or_none(value: str) -> Any:
    import uuid

    try:
        return uuid.UUID(value)
    except (ValueError, TypeError):
        return None
