"""Checkout Sessions, their re-sync from the success page, and the Customer Portal."""

from __future__ import annotations

import uuid
from typing import Any

import stripe
import structlog
from django.conf import settings
from django.db import IntegrityError, transaction

from backend.accounts.models import Account, AccountPlan
from backend.core.errors import ConflictError, NotFoundError, ValidationError
from backend.payments.catalogue import prices
from backend.payments.models import CheckoutSession
from backend.payments.services.fulfilment.entry_points import checkout_apply
from backend.payments.stripe_api import as_dict, from_stripe_error, stripe_client

logger = structlog.get_logger(__name__)
MAX_ATTEMPT_KEY = 100


def _base() -> str:
    # PUBLIC_URL, never the request's Host header (a forged Host would send the buyer on).
    from backend.accounts.services.email_links import public_base_url

    return public_base_url()


def _return_urls() -> tuple[str, str]:
    env = settings.ENV
    base = _base()
    success = env.STRIPE_SUCCESS_URL or (
        f"{base}/billing/success/?session_id={{CHECKOUT_SESSION_ID}}"
    )
    cancel = env.STRIPE_CANCEL_URL or f"{base}/billing/cancel/"
    return success, cancel


def _customer_for(account: Account, client: stripe.StripeClient) -> str:
    """The account's Stripe customer, made once (one idempotency key per account)."""
    if account.stripe_customer_id:
        return account.stripe_customer_id
    customer = client.v1.customers.create(
        params={"email": account.email, "metadata": {"account_id": str(account.id)}},
        options={"idempotency_key": f"customer:{account.id}"},
    )
    Account.objects.filter(pk=account.pk, stripe_customer_id__isnull=True).update(
        stripe_customer_id=customer.id
    )
    account.refresh_from_db(fields=["stripe_customer_id"])
    return account.stripe_customer_id or customer.id


def checkout_session_create(
    *,
    account: Account,
    price_key: str,
    attempt_key: str | None = None,
) -> CheckoutSession:
    """A Checkout Session for one price key: payment mode for a credit pack, subscription
    mode for Pro. ``attempt_key`` (the client's Idempotency-Key) makes a retried request
    return the same session; without one every call is a new attempt."""
    client = stripe_client()
    catalogue = prices()
    price = catalogue.get(price_key)
    if price is None:
        known = ", ".join(sorted(catalogue)) or "none are configured"
        raise ValidationError.for_field("price_key", f"unknown price key {price_key!r} ({known})")
    if price.mode == "subscription" and account.plan == AccountPlan.PRO:
        raise ConflictError(
            "You already have the Pro plan; manage it in the billing portal "
            "(POST /api/payments/portal/).",
        )
    if attempt_key is not None and not (0 < len(attempt_key) <= MAX_ATTEMPT_KEY):
        raise ValidationError.for_field(
            "Idempotency-Key", f"must be 1 to {MAX_ATTEMPT_KEY} characters"
        )
    idempotency_key = f"checkout:{account.id}:{attempt_key or uuid.uuid4().hex}"
    try:
        with transaction.atomic():
            record, _ = CheckoutSession.objects.get_or_create(
                idempotency_key=idempotency_key,
                defaults={
                    "account": account,
                    "price_key": price.key,
                    "price_id": price.price_id,
                    "mode": price.mode,
                    "credits_usd": price.credits_usd,
                },
            )
    except IntegrityError:
        record = CheckoutSession.objects.get(idempotency_key=idempotency_key)
    if record.price_key != price.key:
        raise ConflictError(
            "This Idempotency-Key was used for another price; use a new key per attempt.",
            details={"price_key": record.price_key},
        )
    if record.stripe_session_id:
        return record
    metadata = {
        "account_id": str(account.id),
        "price_key": price.key,
        "checkout_id": str(record.id),
    }
    success_url, cancel_url = _return_urls()
    params: dict[str, Any] = {
        "mode": price.mode,
        "line_items": [{"price": price.price_id, "quantity": 1}],
        "client_reference_id": str(account.id),
        "metadata": metadata,
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    # The same metadata on the object the payment produces, so refunds, disputes and
    # subscription events name the account too.
    if price.mode == "subscription":
        params["subscription_data"] = {"metadata": metadata}
    else:
        params["payment_intent_data"] = {"metadata": metadata}
    try:
        params["customer"] = _customer_for(account, client)
        session = as_dict(
            client.v1.checkout.sessions.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            )
        )
    except stripe.StripeError as exc:
        raise from_stripe_error(exc) from None
    CheckoutSession.objects.filter(pk=record.pk).update(
        stripe_session_id=session["id"],
        url=session.get("url") or "",
        status=session.get("status") or "open",
        payment_status=session.get("payment_status") or "",
    )
    record.refresh_from_db()
    from backend.analytics.events import capture

    capture(
        "checkout_started",
        distinct_id=str(account.client_id),
        properties={"price_key": price.key, "mode": price.mode, "checkout_id": str(record.id)},
    )
    return record


def checkout_session_sync(*, account: Account, stripe_session_id: str) -> CheckoutSession:
    """The success page's call: ask Stripe about the session and fulfil it if paid (the
    same exactly-once rules as the webhook, so a missed or late webhook loses nothing)."""
    record = CheckoutSession.objects.filter(
        account=account, stripe_session_id=stripe_session_id
    ).first()
    if record is None:
        raise NotFoundError("No such checkout session.")
    client = stripe_client()
    try:
        session = as_dict(client.v1.checkout.sessions.retrieve(stripe_session_id))
    except stripe.StripeError as exc:
        raise from_stripe_error(exc) from None
    checkout_apply(session=session)
    record.refresh_from_db()
    return record


def portal_session_create(*, account: Account) -> str:
    """A Customer Portal session to manage or cancel the subscription; returns its URL."""
    client = stripe_client()
    if not account.stripe_customer_id:
        raise ConflictError("There is nothing to manage yet: no purchase was started.")
    return_url = settings.ENV.STRIPE_PORTAL_RETURN_URL or f"{_base()}/billing/"
    try:
        portal = client.v1.billing_portal.sessions.create(
            params={"customer": account.stripe_customer_id, "return_url": return_url}
        )
    except stripe.StripeError as exc:
        raise from_stripe_error(exc) from None
    return str(portal.url)
