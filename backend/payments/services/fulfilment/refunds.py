"""Refunds and disputes: credits taken back once per refunded amount, or the plan withdrawn."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import structlog
from django.db.models import Sum

from backend.accounts.models import Account
from backend.audit.actions import AuditAction
from backend.audit.models import AuditEvent
from backend.audit.services import audit_record
from backend.payments.models import CheckoutSession, CreditEntry, StripeEvent, Subscription
from backend.payments.services.fulfilment.accounts import (
    account_for,
    id_of,
    lock_account,
    plan_recompute,
)
from backend.payments.services.fulfilment.outcome import Outcome

logger = structlog.get_logger(__name__)
USD = Decimal("0.000001")


def _purchase_for_charge(charge_like: Mapping[str, Any]) -> CheckoutSession | None:
    payment_intent = id_of(charge_like.get("payment_intent"))
    if payment_intent:
        record = CheckoutSession.objects.filter(
            payment_intent_id=payment_intent, mode=CheckoutSession.Mode.PAYMENT
        ).first()
        if record is not None:
            return record
    checkout_id = (charge_like.get("metadata") or {}).get("checkout_id")
    if not checkout_id and payment_intent:
        # Not fulfilled yet (a refund can arrive first): the payment intent carries the
        # checkout's metadata (payment_intent_data), so ask Stripe for it.
        checkout_id = (_payment_intent(payment_intent).get("metadata") or {}).get("checkout_id")
    if checkout_id:
        try:
            return CheckoutSession.objects.filter(
                pk=checkout_id, mode=CheckoutSession.Mode.PAYMENT
            ).first()
        except Exception:
            return None
    return None


def _payment_intent(payment_intent_id: str) -> Mapping[str, Any]:
    from backend.payments.stripe_api import as_dict, stripe_client, stripe_enabled

    if not stripe_enabled():
        return {}
    try:
        return as_dict(stripe_client().v1.payment_intents.retrieve(payment_intent_id))
    except Exception:
        logger.warning("stripe_payment_intent_lookup_failed", payment_intent=payment_intent_id)
        return {}


def _taken_back(account: Account, charge_id: str) -> Decimal:
    """Credits already taken back for one charge (refunds and disputes), as a positive sum."""
    total = CreditEntry.objects.filter(
        account=account,
        kind__in=[CreditEntry.Kind.REFUND, CreditEntry.Kind.DISPUTE],
        note=f"charge {charge_id}",
    ).aggregate(total=Sum("amount_usd"))["total"]
    return -Decimal(total or 0)


def charge_refunded(charge: Mapping[str, Any], event: StripeEvent) -> Outcome:
    outcome = Outcome()
    record = _purchase_for_charge(charge)
    account = (record.account if record else None) or account_for(charge)
    if account is None:
        return outcome.unmatched(f"charge {charge.get('id')}")
    outcome.account = account
    lock_account(account)
    charge_id = str(charge.get("id"))
    amount, refunded = int(charge.get("amount") or 0), int(charge.get("amount_refunded") or 0)
    if record is not None and record.credits_usd > 0:
        # Refunds add up on the charge (amount_refunded is the running total): take back
        # the refunded share of the pack, less what earlier refunds already took.
        share = Decimal(refunded) / Decimal(amount) if amount else Decimal(1)
        target = (record.credits_usd * min(share, Decimal(1))).quantize(USD, ROUND_HALF_UP)
        owed = target - _taken_back(account, charge_id)
        if owed > 0:
            _, created = CreditEntry.objects.get_or_create(
                kind=CreditEntry.Kind.REFUND,
                reference=f"{charge_id}:{refunded}",
                defaults={
                    "account": account,
                    "amount_usd": -owed,
                    "event": event,
                    "note": f"charge {charge_id}",
                },
            )
            if created:
                _audit_taken_back(account, record, owed, why="refund")
        outcome.note = f"took back {owed if owed > 0 else 0} USD of credits"
        return outcome
    return _withdraw_plan(account, outcome, why="refunded", full=refunded >= amount > 0)


def dispute_created(dispute: Mapping[str, Any], event: StripeEvent) -> Outcome:
    outcome = Outcome()
    record = _purchase_for_charge(dispute)
    account = (
        (record.account if record else None)
        or account_for(dispute)
        or account_for(_charge_of(dispute))
    )
    if account is None:
        return outcome.unmatched(f"dispute {dispute.get('id')}")
    outcome.account = account
    lock_account(account)
    charge_id = id_of(dispute.get("charge"))
    if record is not None and record.credits_usd > 0:
        owed = record.credits_usd - _taken_back(account, charge_id)
        if owed > 0:
            _, created = CreditEntry.objects.get_or_create(
                kind=CreditEntry.Kind.DISPUTE,
                reference=str(dispute.get("id")),
                defaults={
                    "account": account,
                    "amount_usd": -owed,
                    "event": event,
                    "note": f"charge {charge_id}",
                },
            )
            if created:
                _audit_taken_back(account, record, owed, why="dispute")
        outcome.note = "took back the disputed pack's credits"
        return outcome
    return _withdraw_plan(account, outcome, why="disputed", full=True)


def _audit_taken_back(
    account: Account, record: CheckoutSession, owed: Decimal, *, why: str
) -> None:
    audit_record(
        action=AuditAction.CREDITS_TAKEN_BACK,
        actor=AuditEvent.Actor.SYSTEM,
        account_id=account.id,
        target_type="payments.checkoutsession",
        target_id=record.id,
        metadata={"amount_usd": str(owed), "reason": why},
    )


def _charge_of(dispute: Mapping[str, Any]) -> Mapping[str, Any]:
    """A dispute names its charge only; the charge names the customer (asked of Stripe)."""
    charge = dispute.get("charge")
    if isinstance(charge, Mapping):
        return charge
    from backend.payments.stripe_api import as_dict, stripe_client, stripe_enabled

    if not charge or not stripe_enabled():
        return {}
    try:
        return as_dict(stripe_client().v1.charges.retrieve(str(charge)))
    except Exception:
        logger.warning("stripe_dispute_charge_lookup_failed", charge=str(charge))
        return {}


def _withdraw_plan(account: Account, outcome: Outcome, *, why: str, full: bool) -> Outcome:
    """A subscription payment refunded in full or disputed: the plan goes until paid again."""
    live = [s for s in Subscription.objects.select_for_update().filter(account=account)]
    if not live:
        return outcome.ignored(f"a {why} payment that bought neither credits nor a plan")
    if not full:
        outcome.note = "a partial refund of a subscription payment; the plan stays"
        return outcome
    for subscription in live:
        if not subscription.revoked:
            subscription.revoked = True
            subscription.save(update_fields=["revoked", "updated_at"])
    plan_recompute(account, outcome, reason=why)
    return outcome
