"""Webhook intake: verify over the raw body, store every delivery, hand off to a task."""

from __future__ import annotations

import json
from datetime import timedelta

import stripe
import structlog
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from backend.core.errors import ValidationError
from backend.payments.models import StripeEvent
from backend.payments.stripe_api import billing_disabled

logger = structlog.get_logger(__name__)
MAX_STORED_INVALID_BODY = 20_000


def _store_invalid(*, payload: bytes, error: str) -> bool:
    """Keep an invalid delivery to look at, unless this hour's share is stored already:
    anyone can post to the endpoint, so what it stores is bounded (and pruned later)."""
    cap = settings.ENV.STRIPE_INVALID_WEBHOOKS_STORED_PER_HOUR
    recent = StripeEvent.objects.filter(
        status=StripeEvent.Status.INVALID,
        received_at__gte=timezone.now() - timedelta(hours=1),
    )
    if recent.count() >= cap:
        return False
    StripeEvent.objects.create(
        status=StripeEvent.Status.INVALID,
        raw_body=payload[:MAX_STORED_INVALID_BODY].decode("utf-8", errors="replace"),
        error=error[:2000],
    )
    return True


def stripe_invalid_events_prune(*, batch_size: int = 1000) -> int:
    """Delete stored invalid deliveries older than ``STRIPE_INVALID_WEBHOOK_RETENTION_DAYS``
    (in batches, until none is left); returns how many went."""
    cutoff = timezone.now() - timedelta(days=settings.ENV.STRIPE_INVALID_WEBHOOK_RETENTION_DAYS)
    deleted = 0
    while True:
        batch = list(
            StripeEvent.objects.filter(
                status=StripeEvent.Status.INVALID, received_at__lt=cutoff
            ).values_list("pk", flat=True)[:batch_size]
        )
        if not batch:
            return deleted
        StripeEvent.objects.filter(pk__in=batch).delete()
        deleted += len(batch)


def stripe_webhook_receive(*, payload: bytes, signature: str | None) -> tuple[StripeEvent, bool]:
    """Store the delivery and queue its processing; returns (event, first time seen).

    A bad signature, a timestamp older than the tolerance or an unparsable body is stored
    as invalid and answered 400; nothing is processed from it.
    """
    env = settings.ENV
    if not env.STRIPE_WEBHOOK_SECRET:
        raise billing_disabled("STRIPE_WEBHOOK_SECRET")
    try:
        stripe.Webhook.construct_event(
            payload, signature, env.STRIPE_WEBHOOK_SECRET, tolerance=env.STRIPE_WEBHOOK_TOLERANCE_S
        )
        data = json.loads(payload)
        event_id, event_type = str(data["id"]), str(data["type"])
    except (stripe.SignatureVerificationError, ValueError, KeyError, TypeError) as exc:
        reason = "signature" if isinstance(exc, stripe.SignatureVerificationError) else "body"
        stored = _store_invalid(payload=payload, error=f"{type(exc).__name__}: {exc}")
        logger.warning("stripe_webhook_invalid", reason=reason, stored=stored)
        raise ValidationError(
            "The webhook could not be verified (bad signature, stale timestamp or body).",
            details={"reason": reason},
        ) from None
    try:
        with transaction.atomic():
            event = StripeEvent.objects.create(
                event_id=event_id,
                type=event_type,
                stripe_created=int(data.get("created") or 0),
                livemode=bool(data.get("livemode")),
                payload=data,
            )
        first = True
    except IntegrityError:
        # Stripe delivers at least once: a repeat is acknowledged and not stored again.
        event = StripeEvent.objects.get(event_id=event_id)
        first = False
    if event.status in (StripeEvent.Status.RECEIVED, StripeEvent.Status.FAILED):
        from backend.core.task_runner import enqueue_on_commit
        from backend.payments.tasks import process_event

        enqueue_on_commit(process_event, event.pk)
    return event, first
