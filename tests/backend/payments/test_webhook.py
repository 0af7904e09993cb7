"""The webhook: verified over the raw body, every delivery stored first, fulfilled once
by a task; refunds and disputes take credits back; bad input never credits."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from backend.accounts.models import Account
from backend.core import task_runner
from backend.payments.models import CheckoutSession, CreditEntry, StripeEvent
from backend.payments.selectors import credit_balance
from tests.backend.payments.conftest import (
    deliver,
    paid,
    signature_for,
    start_checkout,
    stripe_event,
)

pytestmark = pytest.mark.django_db(transaction=True)


def processed(response) -> dict:
    assert response.status_code == 200, response.content
    task_runner.drain()
    return response.json()


def balance() -> Decimal:
    return credit_balance(account=Account.objects.get())


@pytest.fixture
def bought(account_client, billing):
    """A credit pack checkout that the buyer has paid at Stripe (not yet fulfilled)."""
    body = start_checkout(account_client, "credits_10")
    return paid(billing, body["session_id"])


# --- bad input ---------------------------------------------------------------------------


def test_no_webhook_secret_is_a_503(account_client, env):
    env(STRIPE_WEBHOOK_SECRET="")
    response = deliver(stripe_event("checkout.session.completed", {"id": "cs_1"}))
    assert response.status_code == 503
    assert "STRIPE_WEBHOOK_SECRET" in response.json()["error"]["message"]
    assert not StripeEvent.objects.exists()


@pytest.mark.parametrize(
    "tamper",
    [
        {"secret": "whsec_someone_else"},
        {"signature": ""},
        {"signature": "t=1,v1=deadbeef"},
        {"at": int(time.time()) - 301},  # older than the tolerance
    ],
    ids=["wrong-secret", "missing", "garbage", "stale"],
)
def test_bad_signature_or_timestamp_is_400_stored_invalid_and_credits_nothing(bought, tamper):
    response = deliver(stripe_event("checkout.session.completed", bought), **tamper)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    task_runner.drain()
    event = StripeEvent.objects.get()
    assert (event.status, event.event_id) == ("invalid", None)
    assert "checkout.session.completed" in event.raw_body
    assert balance() == 0


def test_a_signed_body_that_is_not_an_event_is_400_and_stored(bought):
    assert deliver(b"not json").status_code == 400
    assert deliver(b'{"no": "id"}').status_code == 400
    assert list(StripeEvent.objects.values_list("status", flat=True)) == ["invalid", "invalid"]


def test_the_signature_covers_the_raw_body_exactly(bought):
    event = stripe_event("checkout.session.completed", bought)
    payload = json.dumps(event).encode()
    header = signature_for(payload)
    reformatted = json.dumps(event, indent=2).encode()  # same JSON, other bytes
    response = APIClient().post(
        "/api/payments/webhook/",
        data=reformatted,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )
    assert response.status_code == 400
    assert balance() == 0


# --- fulfilment, once --------------------------------------------------------------------


def test_paid_checkout_credits_once_however_often_it_is_delivered(bought, posthog_server):
    event = stripe_event("checkout.session.completed", bought)
    first = processed(deliver(event))
    assert first["duplicate"] is False
    again = processed(deliver(event))
    assert again == {**first, "duplicate": True}
    # A different event about the same session (Stripe may also send async success).
    processed(deliver(stripe_event("checkout.session.async_payment_succeeded", bought)))
    assert balance() == Decimal("10")
    entry = CreditEntry.objects.get()
    assert (entry.kind, entry.reference, entry.amount_usd) == ("purchase", bought["id"], 10)
    stored = StripeEvent.objects.get(event_id=event["id"])
    assert stored.status == "processed" and stored.account is not None
    assert CheckoutSession.objects.get().fulfilled_at is not None
    completed = posthog_server.wait_for("checkout_completed")
    assert len(posthog_server.events("checkout_completed")) == 1
    assert completed[0]["properties"]["price_key"] == "credits_10"


def test_unpaid_completion_waits_for_the_async_payment(account_client, billing):
    body = start_checkout(account_client, "credits_10")
    pending = paid(billing, body["session_id"], payment_status="unpaid")
    processed(deliver(stripe_event("checkout.session.completed", pending)))
    assert balance() == 0
    failed = {**pending, "payment_status": "unpaid"}
    processed(deliver(stripe_event("checkout.session.async_payment_failed", failed)))
    assert balance() == 0
    assert CheckoutSession.objects.get().failed_at is not None
    # The success page can tell a failed delayed payment from a pending one.
    page = account_client.get(f"/api/payments/session/{body['session_id']}/").json()
    assert (page["failed"], page["fulfilled"]) == (True, False)
    succeeded = {**pending, "payment_status": "paid"}
    processed(deliver(stripe_event("checkout.session.async_payment_succeeded", succeeded)))
    assert balance() == Decimal("10")


def test_events_for_unknown_accounts_are_stored_and_reported(billing, api_client):
    from django.contrib.auth import get_user_model

    orphan = {
        "id": "cs_test_orphan",
        "object": "checkout.session",
        "mode": "payment",
        "status": "complete",
        "payment_status": "paid",
        "customer": "cus_nobody",
        "metadata": {"price_key": "credits_10"},
    }
    event = stripe_event("checkout.session.completed", orphan)
    assert processed(deliver(event))["received"] is True
    stored = StripeEvent.objects.get(event_id=event["id"])
    assert stored.status == "unmatched"
    assert "cs_test_orphan" in stored.error
    assert not CreditEntry.objects.exists()
    staff = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    api_client.force_login(staff)
    stats = api_client.get("/api/admin/stats/").json()
    assert stats["payments"]["unmatched_events"] == 1


def test_unhandled_event_types_are_stored_and_ignored(account_client, billing):
    event = stripe_event("customer.created", {"id": "cus_1", "object": "customer"})
    processed(deliver(event))
    assert StripeEvent.objects.get().status == "ignored"


def test_a_failed_processing_is_retried_by_the_periodic_job(bought, monkeypatch):
    from backend.payments import tasks
    from backend.payments.services.fulfilment import entry_points

    calls = {"n": 0}
    original = entry_points._dispatch

    def flaky(event):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database hiccup")
        return original(event)

    monkeypatch.setattr(entry_points, "_dispatch", flaky)
    processed(deliver(stripe_event("checkout.session.completed", bought)))
    stored = StripeEvent.objects.get()
    assert stored.status == "failed" and "hiccup" in stored.error
    assert balance() == 0
    StripeEvent.objects.update(received_at=stored.received_at - tasks.STALE_AFTER * 2)
    tasks.process_pending_events.run()
    stored.refresh_from_db()
    assert (stored.status, stored.attempts) == ("processed", 2)
    assert balance() == Decimal("10")


# --- taking credits back -----------------------------------------------------------------


def charge_for(session: dict, *, refunded: int, amount: int = 1000) -> dict:
    return {
        "id": "ch_test_1",
        "object": "charge",
        "amount": amount,
        "amount_refunded": refunded,
        "payment_intent": session["payment_intent"],
        "customer": session["customer"],
        "metadata": {},
    }


def test_refunds_take_back_the_refunded_share_once(bought):
    processed(deliver(stripe_event("checkout.session.completed", bought)))
    partial = stripe_event("charge.refunded", charge_for(bought, refunded=250))
    processed(deliver(partial))
    processed(deliver(partial))  # a redelivery takes nothing more
    assert balance() == Decimal("7.5")
    processed(deliver(stripe_event("charge.refunded", charge_for(bought, refunded=1000))))
    assert balance() == 0
    refunds = CreditEntry.objects.filter(kind="refund").order_by("id")
    assert [r.amount_usd for r in refunds] == [Decimal("-2.5"), Decimal("-7.5")]


def test_a_refund_delivered_before_the_purchase_still_nets_to_zero(bought, billing):
    # The charge names only its payment intent, which nothing here has seen yet: its
    # metadata (asked of Stripe) leads to the checkout, so the take-back is booked first.
    refund = stripe_event("charge.refunded", charge_for(bought, refunded=1000))
    processed(deliver(refund))
    assert billing.calls("GET", f"/v1/payment_intents/{bought['payment_intent']}")
    assert balance() == Decimal("-10")
    processed(deliver(stripe_event("checkout.session.completed", bought)))
    assert balance() == 0


def test_a_dispute_takes_back_what_refunds_have_not(bought):
    processed(deliver(stripe_event("checkout.session.completed", bought)))
    processed(deliver(stripe_event("charge.refunded", charge_for(bought, refunded=400))))
    dispute = {
        "id": "dp_test_1",
        "object": "dispute",
        "amount": 600,
        "charge": "ch_test_1",
        "payment_intent": bought["payment_intent"],
    }
    processed(deliver(stripe_event("charge.dispute.created", dispute)))
    processed(deliver(stripe_event("charge.dispute.created", dispute)))
    assert balance() == 0
    assert CreditEntry.objects.get(kind="dispute").amount_usd == Decimal("-6")
