"""The two ways in: a stored webhook event (``stripe_event_process``, run by the task) and
the success page's re-sync of a Checkout Session (``checkout_apply``); each event type is
handed to the module that applies it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import structlog
from django.db import transaction
from django.utils import timezone

from backend.payments.models import StripeEvent
from backend.payments.services.fulfilment.checkout_sessions import (
    checkout_completed,
    checkout_failed,
)
from backend.payments.services.fulfilment.outcome import Outcome
from backend.payments.services.fulfilment.refunds import charge_refunded, dispute_created
from backend.payments.services.fulfilment.subscriptions import (
    invoice_applied,
    subscription_changed,
)

logger = structlog.get_logger(__name__)


def stripe_event_process(*, event_pk: int) -> StripeEvent:
    """Apply one stored event (idempotent: a processed event is left as it is)."""
    outcome = Outcome()
    with transaction.atomic():
        event = StripeEvent.objects.select_for_update().get(pk=event_pk)
        if event.status not in (StripeEvent.Status.RECEIVED, StripeEvent.Status.FAILED):
            return event
        event.attempts += 1
        try:
            with transaction.atomic():
                outcome = _dispatch(event)
        except Exception as exc:
            logger.exception("stripe_event_failed", event_id=event.event_id, type=event.type)
            event.status, event.error = StripeEvent.Status.FAILED, repr(exc)[:2000]
            event.save(update_fields=["status", "error", "attempts"])
            return event
        event.status, event.error = outcome.status, outcome.note
        event.account = outcome.account
        event.processed_at = timezone.now()
        event.save(update_fields=["status", "error", "account", "processed_at", "attempts"])
        _after_commit(outcome)
    if outcome.status == StripeEvent.Status.UNMATCHED:
        # Reported, not dropped: the event stays stored with what it was about.
        logger.warning(
            "stripe_event_unmatched", event_id=event.event_id, type=event.type, note=outcome.note
        )
    return event


def checkout_apply(*, session: Mapping[str, Any]) -> Outcome:
    """Apply a Checkout Session as Stripe reports it now (the success page's re-sync)."""
    with transaction.atomic():
        outcome = checkout_completed(session, created=int(session.get("created") or 0))
        _after_commit(outcome)
    return outcome


def _after_commit(outcome: Outcome) -> None:
    from backend.analytics.events import capture

    def send(name: str, distinct_id: str, properties: dict[str, Any]) -> Callable[[], None]:
        return lambda: capture(name, distinct_id=distinct_id, properties=properties)

    for name, distinct_id, properties in outcome.analytics:
        transaction.on_commit(send(name, distinct_id, properties))


def _dispatch(event: StripeEvent) -> Outcome:
    payload = event.payload or {}
    obj: Mapping[str, Any] = (payload.get("data") or {}).get("object") or {}
    created = int(event.stripe_created or 0)
    handlers: dict[str, Callable[[], Outcome]] = {
        "checkout.session.completed": lambda: checkout_completed(obj, created, event),
        "checkout.session.async_payment_succeeded": lambda: checkout_completed(obj, created, event),
        "checkout.session.async_payment_failed": lambda: checkout_failed(obj),
        "invoice.paid": lambda: invoice_applied(obj, created, paid=True),
        "invoice.payment_failed": lambda: invoice_applied(obj, created, paid=False),
        "customer.subscription.created": lambda: subscription_changed(obj, created),
        "customer.subscription.updated": lambda: subscription_changed(obj, created),
        "customer.subscription.deleted": lambda: subscription_changed(obj, created),
        "charge.refunded": lambda: charge_refunded(obj, event),
        "charge.dispute.created": lambda: dispute_created(obj, event),
    }
    handler = handlers.get(event.type)
    if handler is None:
        return Outcome().ignored(f"event type {event.type!r} is not handled")
    return handler()
