"""A subscription's state and its invoices, applied newest first (Stripe delivers events
out of order: older states are ignored, ``canceled`` is final)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backend.payments.catalogue import Price, price_by_id
from backend.payments.models import Subscription
from backend.payments.services.fulfilment.accounts import (
    account_for,
    id_of,
    lock_account,
    plan_recompute,
)
from backend.payments.services.fulfilment.outcome import Outcome


def subscription_changed(obj: Mapping[str, Any], created: int) -> Outcome:
    outcome = Outcome()
    sub_id = str(obj.get("id") or "")
    known = Subscription.objects.filter(stripe_subscription_id=sub_id).first()
    account = (known.account if known else None) or account_for(obj)
    if account is None:
        return outcome.unmatched(f"subscription {sub_id}")
    outcome.account = account
    lock_account(account)
    subscription, _ = Subscription.objects.select_for_update().get_or_create(
        stripe_subscription_id=sub_id,
        defaults={"account": account, "status": str(obj.get("status") or "incomplete")},
    )
    status = str(obj.get("status") or subscription.status)
    if subscription.status == "canceled" and status != "canceled" and subscription.state_as_of:
        outcome.note = "the subscription already ended; an older state is ignored"
        return outcome
    if created < subscription.state_as_of and status != "canceled":
        outcome.note = "an older state than the one applied; ignored"
        return outcome
    subscription.account = subscription.account or account
    subscription.status = status
    subscription.cancel_at_period_end = bool(obj.get("cancel_at_period_end"))
    period_end = _period_end(obj)
    if period_end:
        subscription.current_period_end = period_end
    price = _subscription_price(obj)
    if price is not None:
        subscription.price_key = price.key
    subscription.state_as_of = max(created, subscription.state_as_of)
    subscription.save()
    plan_recompute(account, outcome, reason=f"subscription {status}")
    return outcome


def _period_end(obj: Mapping[str, Any]) -> Any:
    """Newer API versions keep the period on the items, older ones on the subscription."""
    import datetime as dt

    value = obj.get("current_period_end")
    items = ((obj.get("items") or {}).get("data")) or []
    if value is None and items:
        value = items[0].get("current_period_end")
    if not value:
        return None
    return dt.datetime.fromtimestamp(int(value), tz=dt.UTC)


def _subscription_price(obj: Mapping[str, Any]) -> Price | None:
    items = ((obj.get("items") or {}).get("data")) or []
    for item in items:
        price = price_by_id(id_of(item.get("price")))
        if price is not None:
            return price
    return None


def _invoice_subscription_id(invoice: Mapping[str, Any]) -> str:
    parent = invoice.get("parent") or {}
    details = parent.get("subscription_details") or {}
    return id_of(details.get("subscription")) or id_of(invoice.get("subscription"))


def invoice_applied(invoice: Mapping[str, Any], created: int, *, paid: bool) -> Outcome:
    outcome = Outcome()
    sub_id = _invoice_subscription_id(invoice)
    if not sub_id:
        return outcome.ignored("an invoice outside a subscription")
    known = Subscription.objects.filter(stripe_subscription_id=sub_id).first()
    metadata = ((invoice.get("parent") or {}).get("subscription_details") or {}).get("metadata")
    account = (known.account if known else None) or account_for(
        {**invoice, "metadata": metadata or invoice.get("metadata") or {}}
    )
    if account is None:
        return outcome.unmatched(f"invoice {invoice.get('id')} of subscription {sub_id}")
    outcome.account = account
    lock_account(account)
    subscription, made = Subscription.objects.select_for_update().get_or_create(
        stripe_subscription_id=sub_id,
        defaults={"account": account, "status": "active" if paid else "past_due"},
    )
    if not made and subscription.status == "canceled":
        outcome.note = "the subscription already ended"
        return outcome
    if created >= subscription.state_as_of:
        subscription.status = "active" if paid else "past_due"
        if paid:
            # A new payment restores what a refund or dispute of an earlier one withdrew.
            subscription.revoked = False
        subscription.state_as_of = created
        subscription.account = subscription.account or account
        subscription.save()
    plan_recompute(account, outcome, reason="invoice paid" if paid else "invoice failed")
    return outcome
