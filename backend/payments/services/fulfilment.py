"""Applying Stripe's word to accounts: credits, plans, take-backs — each exactly once.

Two ways in, one set of rules: a stored webhook event (``stripe_event_process``, run by
the task) and the success page's re-sync of a Checkout Session (``checkout_apply``).

Exactly once:
- An event is processed under its row lock; the ledger entry and the event's processed
  mark commit in one transaction, so a redelivered event (sequential or concurrent) finds
  it processed and does nothing.
- A purchase's ledger entry is unique on (purchase, Checkout Session id) and written under
  the session's row lock, so the webhook, its duplicates and the re-sync credit once.
- A refund is unique on (refund, charge, refunded amount) and takes back only what earlier
  refunds of the charge have not; a dispute takes back the rest of the purchase.

Order: Stripe does not deliver events in order. A subscription remembers the ``created``
time of the newest event applied and ignores older ones; ``canceled`` is final.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import structlog
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from backend.accounts.models import Account, AccountPlan
from backend.payments.catalogue import Price, price_by_id, price_get
from backend.payments.models import CheckoutSession, CreditEntry, StripeEvent, Subscription

logger = structlog.get_logger(__name__)
USD = Decimal("0.000001")

HANDLED_TYPES = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "invoice.paid",
        "invoice.payment_failed",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "charge.refunded",
        "charge.dispute.created",
    }
)


@dataclass
class Outcome:
    """What applying one event or session did; analytics go out after the commit."""

    status: str = StripeEvent.Status.PROCESSED
    account: Account | None = None
    note: str = ""
    analytics: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def unmatched(self, what: str) -> Outcome:
        self.status, self.note = StripeEvent.Status.UNMATCHED, f"no account matches {what}"
        return self

    def ignored(self, why: str) -> Outcome:
        self.status, self.note = StripeEvent.Status.IGNORED, why
        return self


# --- Entry points ------------------------------------------------------------------------


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
        outcome = _checkout_completed(session, created=int(session.get("created") or 0))
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
        "checkout.session.completed": lambda: _checkout_completed(obj, created, event),
        "checkout.session.async_payment_succeeded": lambda: _checkout_completed(
            obj, created, event
        ),
        "checkout.session.async_payment_failed": lambda: _checkout_failed(obj),
        "invoice.paid": lambda: _invoice(obj, created, paid=True),
        "invoice.payment_failed": lambda: _invoice(obj, created, paid=False),
        "customer.subscription.created": lambda: _subscription_changed(obj, created),
        "customer.subscription.updated": lambda: _subscription_changed(obj, created),
        "customer.subscription.deleted": lambda: _subscription_changed(obj, created),
        "charge.refunded": lambda: _charge_refunded(obj, event),
        "charge.dispute.created": lambda: _dispute_created(obj, event),
    }
    handler = handlers.get(event.type)
    if handler is None:
        return Outcome().ignored(f"event type {event.type!r} is not handled")
    return handler()


# --- Finding the account ----------------------------------------------------------------


def _id_of(value: Any) -> str:
    """An expandable field: an id string, or the expanded object's id."""
    if isinstance(value, Mapping):
        return str(value.get("id") or "")
    return str(value or "")


def _account_by_id(account_id: Any) -> Account | None:
    if not account_id:
        return None
    try:
        return Account.objects.filter(pk=str(account_id)).first()
    except (ValueError, TypeError, Exception):
        return None


def _account_for(obj: Mapping[str, Any], *extra_ids: Any) -> Account | None:
    metadata = obj.get("metadata") or {}
    for candidate in (metadata.get("account_id"), obj.get("client_reference_id"), *extra_ids):
        account = _account_by_id(candidate)
        if account is not None:
            return account
    customer = _id_of(obj.get("customer"))
    if customer:
        return Account.objects.filter(stripe_customer_id=customer).first()
    return None


def _lock_account(account: Account) -> None:
    # Plan and ledger changes for one account happen one at a time.
    Account.objects.select_for_update().filter(pk=account.pk).first()


def _plan_recompute(account: Account, outcome: Outcome, *, reason: str) -> None:
    live = any(s.is_live for s in Subscription.objects.filter(account=account))
    new = AccountPlan.PRO if live else AccountPlan.FREE
    old = Account.objects.filter(pk=account.pk).values_list("plan", flat=True).first()
    if old != new:
        Account.objects.filter(pk=account.pk).update(plan=new)
        account.plan = new
        outcome.analytics.append(
            ("plan_changed", str(account.client_id), {"from": old, "to": new, "reason": reason})
        )


# --- Checkout Sessions ------------------------------------------------------------------


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


def _checkout_completed(
    session: Mapping[str, Any], created: int, event: StripeEvent | None = None
) -> Outcome:
    outcome = Outcome()
    existing = CheckoutSession.objects.filter(stripe_session_id=str(session.get("id"))).first()
    account = (existing.account if existing else None) or _account_for(session)
    if account is None:
        return outcome.unmatched(f"checkout session {session.get('id')}")
    outcome.account = account
    _lock_account(account)
    record = _checkout_record(session, account)
    record.account = record.account or account
    record.status = str(session.get("status") or record.status)
    record.payment_status = str(session.get("payment_status") or record.payment_status)
    record.payment_intent_id = _id_of(session.get("payment_intent")) or record.payment_intent_id
    record.subscription_id = _id_of(session.get("subscription")) or record.subscription_id
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
    else:
        _subscription_started(record, account, created)
        _plan_recompute(account, outcome, reason="checkout")
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


def _checkout_failed(session: Mapping[str, Any]) -> Outcome:
    outcome = Outcome()
    record = CheckoutSession.objects.filter(stripe_session_id=str(session.get("id"))).first()
    account = (record.account if record else None) or _account_for(session)
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


# --- Subscriptions and invoices ---------------------------------------------------------


def _subscription_changed(obj: Mapping[str, Any], created: int) -> Outcome:
    outcome = Outcome()
    sub_id = str(obj.get("id") or "")
    known = Subscription.objects.filter(stripe_subscription_id=sub_id).first()
    account = (known.account if known else None) or _account_for(obj)
    if account is None:
        return outcome.unmatched(f"subscription {sub_id}")
    outcome.account = account
    _lock_account(account)
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
    _plan_recompute(account, outcome, reason=f"subscription {status}")
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
        price = price_by_id(_id_of(item.get("price")))
        if price is not None:
            return price
    return None


def _invoice_subscription_id(invoice: Mapping[str, Any]) -> str:
    parent = invoice.get("parent") or {}
    details = parent.get("subscription_details") or {}
    return _id_of(details.get("subscription")) or _id_of(invoice.get("subscription"))


def _invoice(invoice: Mapping[str, Any], created: int, *, paid: bool) -> Outcome:
    outcome = Outcome()
    sub_id = _invoice_subscription_id(invoice)
    if not sub_id:
        return outcome.ignored("an invoice outside a subscription")
    known = Subscription.objects.filter(stripe_subscription_id=sub_id).first()
    metadata = ((invoice.get("parent") or {}).get("subscription_details") or {}).get("metadata")
    account = (known.account if known else None) or _account_for(
        {**invoice, "metadata": metadata or invoice.get("metadata") or {}}
    )
    if account is None:
        return outcome.unmatched(f"invoice {invoice.get('id')} of subscription {sub_id}")
    outcome.account = account
    _lock_account(account)
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
    _plan_recompute(account, outcome, reason="invoice paid" if paid else "invoice failed")
    return outcome


# --- Refunds and disputes ---------------------------------------------------------------


def _purchase_for_charge(charge_like: Mapping[str, Any]) -> CheckoutSession | None:
    payment_intent = _id_of(charge_like.get("payment_intent"))
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


def _charge_refunded(charge: Mapping[str, Any], event: StripeEvent) -> Outcome:
    outcome = Outcome()
    record = _purchase_for_charge(charge)
    account = (record.account if record else None) or _account_for(charge)
    if account is None:
        return outcome.unmatched(f"charge {charge.get('id')}")
    outcome.account = account
    _lock_account(account)
    charge_id = str(charge.get("id"))
    amount, refunded = int(charge.get("amount") or 0), int(charge.get("amount_refunded") or 0)
    if record is not None and record.credits_usd > 0:
        # Refunds add up on the charge (amount_refunded is the running total): take back
        # the refunded share of the pack, less what earlier refunds already took.
        share = Decimal(refunded) / Decimal(amount) if amount else Decimal(1)
        target = (record.credits_usd * min(share, Decimal(1))).quantize(USD, ROUND_HALF_UP)
        owed = target - _taken_back(account, charge_id)
        if owed > 0:
            CreditEntry.objects.get_or_create(
                kind=CreditEntry.Kind.REFUND,
                reference=f"{charge_id}:{refunded}",
                defaults={
                    "account": account,
                    "amount_usd": -owed,
                    "event": event,
                    "note": f"charge {charge_id}",
                },
            )
        outcome.note = f"took back {owed if owed > 0 else 0} USD of credits"
        return outcome
    return _withdraw_plan(account, outcome, why="refunded", full=refunded >= amount > 0)


def _dispute_created(dispute: Mapping[str, Any], event: StripeEvent) -> Outcome:
    outcome = Outcome()
    record = _purchase_for_charge(dispute)
    account = (
        (record.account if record else None)
        or _account_for(dispute)
        or _account_for(_charge_of(dispute))
    )
    if account is None:
        return outcome.unmatched(f"dispute {dispute.get('id')}")
    outcome.account = account
    _lock_account(account)
    charge_id = _id_of(dispute.get("charge"))
    if record is not None and record.credits_usd > 0:
        owed = record.credits_usd - _taken_back(account, charge_id)
        if owed > 0:
            CreditEntry.objects.get_or_create(
                kind=CreditEntry.Kind.DISPUTE,
                reference=str(dispute.get("id")),
                defaults={
                    "account": account,
                    "amount_usd": -owed,
                    "event": event,
                    "note": f"charge {charge_id}",
                },
            )
        outcome.note = "took back the disputed pack's credits"
        return outcome
    return _withdraw_plan(account, outcome, why="disputed", full=True)


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
    _plan_recompute(account, outcome, reason=why)
    return outcome
