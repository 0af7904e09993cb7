"""Writing the audit trail: record an event, forget a deleted account's identity in it,
prune it past its retention."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any
from uuid import UUID

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from backend.audit.actions import AuditAction
from backend.audit.context import current_request_meta
from backend.audit.models import AuditEvent

logger = structlog.get_logger(__name__)

PRUNE_BATCH = 1000
METADATA_MAX_BYTES = 2048
# Names a secret or an address would travel under; metadata never carries one.
FORBIDDEN_METADATA_KEYS = frozenset(
    {
        "password",
        "new_password",
        "token",
        "access",
        "refresh",
        "secret",
        "webhook_secret",
        "key",
        "raw_key",
        "api_key",
        "email",
        "ip",
        "url",
    }
)


def _checked_metadata(metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    """The metadata as stored; a forbidden key or an oversized value is a programming
    error, refused before anything is written (the action's transaction rolls back)."""
    cleaned = dict(metadata or {})
    forbidden = sorted(k for k in cleaned if k.lower() in FORBIDDEN_METADATA_KEYS)
    if forbidden:
        raise ValueError(f"audit metadata must not carry {forbidden}")
    size = len(json.dumps(cleaned, default=str))
    if size > METADATA_MAX_BYTES:
        raise ValueError(f"audit metadata is {size} bytes, over {METADATA_MAX_BYTES}")
    return json.loads(json.dumps(cleaned, default=str))


def audit_record(
    *,
    action: AuditAction,
    actor: str,
    account_id: UUID | str | None = None,
    client_id: UUID | str | None = None,
    staff_user_id: int | None = None,
    target_type: str = "",
    target_id: Any = "",
    metadata: Mapping[str, Any] | None = None,
    ip_hash: str | None = None,
    request_id: str | None = None,
) -> AuditEvent:
    """Append one event. Call it after the action succeeded, inside its transaction when
    it has one (so the event and the action commit or roll back together).

    ``ip_hash`` and ``request_id`` default to the current request's (``None``); pass
    ``""`` to record none. A ``system`` event (Stripe's word applied, a job) records no
    IP hash: whoever's request happened to carry it did not act.
    """
    if ip_hash is None and actor == AuditEvent.Actor.SYSTEM:
        ip_hash = ""
    if ip_hash is None or request_id is None:
        meta = current_request_meta()
        ip_hash = meta.ip_hash if ip_hash is None else ip_hash
        request_id = meta.request_id if request_id is None else request_id
    event = AuditEvent(
        action=str(action),
        actor=actor,
        account_id=account_id or None,
        client_id=str(client_id or ""),
        staff_user_id=staff_user_id,
        target_type=target_type,
        target_id=str(target_id or "")[:64],
        metadata=_checked_metadata(metadata),
        ip_hash=ip_hash,
        request_id=request_id[:128],
    )
    event.save()
    return event


def audit_account_forget(*, account_id: UUID | str, client_ids: Iterable[str]) -> int:
    """An account is being deleted: its rows stay (they are the record) but keep only the
    account id as who — client ids and IP hashes go. Rows of its clients (an anonymous
    client before it joined the account, the account's API keys) are included; metadata
    never holds an email or an address, so it stays as it is."""
    from django.db.models import Q

    clients = [str(c) for c in client_ids if c]
    scope = Q(account_id=account_id)
    if clients:
        scope |= Q(client_id__in=clients)
    return AuditEvent.objects.filter(scope).identity_redact()


def audit_retention_cutoff() -> Any:
    return timezone.now() - timedelta(days=settings.ENV.AUDIT_RETENTION_DAYS)


def audit_events_prune(*, batch_size: int = PRUNE_BATCH) -> int:
    """Delete events older than ``AUDIT_RETENTION_DAYS``, ``batch_size`` rows per
    transaction until none is left; returns how many."""
    cutoff = audit_retention_cutoff()
    deleted = 0
    while True:
        batch = list(
            AuditEvent.objects.filter(created_at__lt=cutoff)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not batch:
            break
        with transaction.atomic():
            deleted += AuditEvent.objects.filter(pk__in=batch).retention_delete()
    logger.info("audit_retention_pruned", events=deleted)
    return deleted
