"""Reading the audit trail."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from django.db.models import Q

from backend.audit.models import AuditEvent

EXPORT_FIELDS = (
    "created_at",
    "action",
    "actor",
    "client_id",
    "staff_user_id",
    "target_type",
    "target_id",
    "ip_hash",
    "request_id",
    "metadata",
)


def audit_events_for_account(
    *, account_id: UUID | str, client_ids: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """The account's events, oldest first: those that belong to it, and those its clients
    made (its own, or an anonymous one before it joined the account: a webhook set in one
    of their sessions, say)."""
    scope = Q(account_id=account_id)
    clients = [str(c) for c in client_ids if c]
    if clients:
        scope |= Q(client_id__in=clients)
    return list(
        AuditEvent.objects.filter(scope).order_by("created_at", "pk").values(*EXPORT_FIELDS)
    )
