"""Webhook intake: verify over the raw body, store every delivery, hand off to a task."""

from __future__ import annotations

import json

import stripe
import structlog
from django.conf import settings
from django.db import IntegrityError, transaction

from backend.core.errors import ValidationError
from backend.payments.models import StripeEvent
from backend.payments.stripe_api import billing_disabled

logger = structlog.get_logger(__name__)
MAX_STORED_INVALID_BODY = 20_000


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
        StripeEvent.objects.create(
            status=StripeEvent.Status.INVALID,
            raw_body=payload[:MAX_STORED_INVALID_BODY].decode("utf-8", errors="replace"),
            error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        logger.warning("stripe_webhook_invalid", reason=reason)
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
