"""A Checkout Session completed (credits for a pack, or a subscription started) or its
delayed payment failed."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.utils import timezone

from backend.accounts.models import Account
from backend.audit.actions import AuditAction
from backend.audit.models import AuditEvent
from backend.audit.services import audit_record
from backend.payments.catalogue import Price, price_get
from backend.payments.models import CheckoutSession, CreditEntry, StripeEvent, Subscription
from backend.payments.services.fulfilment.accounts import (
    account_for,
    id_of,
    lock_account,
    plan_recompute,
)
from backend.payments.services.fulfilment.outcome import Outcome


def _checkout_record(session: Mapping[str, Any], account: Account | None) -> CheckoutSession:
    """Our row for the session (created with it), locked; made from its metadata if the
    session was created elsewhere (e.g. in the Dashboard)."""
    session_id = str(session["id"])
    record = (
        CheckoutSession.objects.select_for_update().filter(stripe_session_id=session_id).first()
    )
    if record is not None:
        return record
    metadata = session.get("metadata") or {}
    checkout_id = metadata.get("checkout_id")
    if checkout_id:
        try:
            record = CheckoutSession.objects.select_for_update().filter(pk=checkout_id).first()
        except (ValueError, Exception):
            record = None
        if record is not None:
            record.stripe_session_id = session_id
            record.save(update_fields=["stripe_session_id"])
            return record
    price: Price | None = price_get(str(metadata.get("price_key") or ""))
    CheckoutSession.objects.get_or_create(
        stripe_session_id=session_id,
        defaults={
            "account": account,
            "idempotency_key": f"stripe:{session_id}",
            "price_key": price.key if price else str(metadata.get("price_key") or ""),
            "price_id": price.price_id if price else "",
            "mode": str(session.get("mode") or CheckoutSession.Mode.PAYMENT),
            "credits_usd": price.credits_usd if price else Decimal(0),
        },
    )
    return CheckoutSession.objects.select_for_update().get(stripe_session_id=session_id)


def checkout_completed(
    session: Mapping[str, Any], created: int, event: StripeEvent | None = None
) -> Outcome:
    outcome = Outcome()
    existing = CheckoutSession.objects.filter(stripe_session_id=str(session.get("id"))).first()
    account = (existing.account if existing else None) or account_for(session)
    if account is None:
        return outcome.unmatched(f"checkout session {session.get('id')}")
    outcome.account = account
    lock_account(account)
    record = _checkout_record(session, account)
    record.account = record.account or account
    record.status = str(session.get("status") or record.status)
    record.payment_status = str(session.get("payment_status") or record.payment_status)
    record.payment_intent_id = id_of(session.get("payment_intent")) or record.payment_intent_id
    record.subscription_id = id_of(session.get("subscription")) or record.subscription_id
    if session.get("amount_total") is not None:
        record.amount_total = int(session["amount_total"])
    record.currency = str(session.get("currency") or record.currency)
    paid = record.status == "complete" and record.payment_status in ("paid", "no_payment_required")
    if not paid:
        # Completed with a delayed payment method: wait for async_payment_succeeded.
        record.save()
        outcome.note = f"payment {record.payment_status or 'pending'}; nothing fulfilled yet"
        return outcome
    first_time = record.fulfilled_at is None
    if record.mode == CheckoutSession.Mode.PAYMENT:
        if record.credits_usd <= 0:
            record.save()
            return outcome.ignored(f"price key {record.price_key!r} adds no credits")
        _, created_entry = CreditEntry.objects.get_or_create(
            kind=CreditEntry.Kind.PURCHASE,
            reference=str(session["id"]),
            defaults={
                "account": account,
                "amount_usd": record.credits_usd,
                "event": event,
                "note": record.price_key,
            },
        )
        first_time = first_time and created_entry
        if created_entry:
            audit_record(
                action=AuditAction.CREDITS_GRANTED,
                actor=AuditEvent.Actor.SYSTEM,
                account_id=account.id,
                target_type="payments.checkoutsession",
                target_id=record.id,
                metadata={"amount_usd": str(record.credits_usd), "price_key": record.price_key},
            )
    else:
        _subscription_started(record, account, created)
        plan_recompute(account, outcome, reason="checkout")
    if record.fulfilled_at is None:
        record.fulfilled_at = timezone.now()
    record.save()
    if first_time:
        outcome.analytics.append(
            (
                "checkout_completed",
                str(account.client_id),
                {
                    "price_key": record.price_key,
                    "mode": record.mode,
                    "amount_total": record.amount_total,
                    "currency": record.currency,
                    "credits_usd": str(record.credits_usd),
                },
            )
        )
    return outcome


def _subscription_started(record: CheckoutSession, account: Account, created: int) -> None:
    if not record.subscription_id:
        return
    subscription, made = Subscription.objects.select_for_update().get_or_create(
        stripe_subscription_id=record.subscription_id,
        defaults={"account": account, "status": "active", "price_key": record.price_key},
    )
    changed = []
    if subscription.account_id is None:
        subscription.account, changed = account, ["account"]
    if not subscription.price_key:
        subscription.price_key = record.price_key
        changed.append("price_key")
    # A paid checkout means the subscription started active, unless a newer event (or its
    # end) is already known.
    if not made and subscription.status != "canceled" and created >= subscription.state_as_of:
        subscription.status, subscription.state_as_of = "active", created
        changed += ["status", "state_as_of"]
    elif made:
        subscription.state_as_of = created
        changed.append("state_as_of")
    if changed:
        subscription.save(update_fields=[*set(changed), "updated_at"])


def checkout_failed(session: Mapping[str, Any]) -> Outcome:
    outcome = Outcome()
    record = CheckoutSession.objects.filter(stripe_session_id=str(session.get("id"))).first()
    account = (record.account if record else None) or account_for(session)
    if account is None:
        return outcome.unmatched(f"checkout session {session.get('id')}")
    outcome.account = account
    if record is not None:
        CheckoutSession.objects.filter(pk=record.pk).update(
            payment_status=str(session.get("payment_status") or "unpaid"),
            failed_at=timezone.now(),
        )
    outcome.note = "the delayed payment failed; nothing credited"
    return outcome
