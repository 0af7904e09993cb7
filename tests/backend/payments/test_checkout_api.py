"""Checkout Sessions, the success page's re-sync and the Customer Portal, against a local
fake Stripe API that the real ``stripe`` client talks to over HTTP."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from backend.accounts.models import Account
from backend.clients.services import client_create
from backend.core import task_runner
from backend.payments.models import CheckoutSession, CreditEntry
from tests.backend.accounts.conftest import signed_in
from tests.backend.payments.conftest import deliver, paid, start_checkout, stripe_event

pytestmark = pytest.mark.django_db(transaction=True)
SESSION = "/api/payments/session/"


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content
    return response.json()["error"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", SESSION),
        ("get", f"{SESSION}cs_test_1/"),
        ("post", "/api/payments/portal/"),
        ("get", "/api/payments/credits/"),
    ],
)
def test_billing_needs_a_signed_in_account(api_client, billing, method, path):
    assert error_of(getattr(api_client, method)(path), 401)["code"] == "UNAUTHORIZED"
    _, token = client_create(ip_hash="anon")
    api_client.credentials(HTTP_X_CLIENT_TOKEN=token)
    assert error_of(getattr(api_client, method)(path), 401)["code"] == "UNAUTHORIZED"
    assert billing.requests == []


def test_someone_elses_checkout_session_is_not_found(account_client, make_account, billing):
    _, bob_tokens = make_account("bob@example.com")
    theirs = start_checkout(signed_in(bob_tokens), "credits_10")
    error = error_of(account_client.get(f"{SESSION}{theirs['session_id']}/"), 404)
    assert error["code"] == "NOT_FOUND"
    assert error_of(account_client.get(f"{SESSION}cs_test_unknown/"), 404)["code"] == "NOT_FOUND"


def test_billing_is_a_clear_503_when_stripe_is_not_configured(account_client):
    error = error_of(account_client.post(SESSION, {"price_key": "credits_10"}, format="json"), 503)
    assert error["code"] == "UPSTREAM_UNAVAILABLE"
    assert "STRIPE_SECRET_KEY" in error["message"]
    assert error_of(account_client.post("/api/payments/portal/"), 503)
    prices = APIClient().get("/api/payments/prices/").json()
    assert prices == {"enabled": False, "prices": []}


@pytest.mark.parametrize("body", [{}, {"price_key": ""}, {"price_key": "platinum"}])
def test_unknown_price_key_is_400_naming_the_field(account_client, billing, body):
    error = error_of(account_client.post(SESSION, body, format="json"), 400)
    assert error["code"] == "VALIDATION_ERROR"
    assert "price_key" in error["details"]["fields"]
    assert billing.calls("POST", "/v1/checkout/sessions") == []


def test_credit_pack_checkout_session_is_made_at_stripe(account_client, billing, posthog_server):
    body = start_checkout(account_client, "credits_10")
    account = Account.objects.get()
    assert body["mode"] == "payment" and body["price_key"] == "credits_10"
    assert body["url"].startswith("https://checkout.stripe.test/")
    assert body["fulfilled"] is False
    (customer_call,) = billing.calls("POST", "/v1/customers")
    assert customer_call.idempotency_key == f"customer:{account.id}"
    assert customer_call.params["metadata"] == {"account_id": str(account.id)}
    assert account.stripe_customer_id in billing.customers
    (call,) = billing.calls("POST", "/v1/checkout/sessions")
    params = call.params
    metadata = {
        "account_id": str(account.id),
        "price_key": "credits_10",
        "checkout_id": body["id"],
    }
    assert params["mode"] == "payment"
    assert params["line_items"] == [{"price": "price_credits_10", "quantity": "1"}]
    assert params["client_reference_id"] == str(account.id)
    assert params["customer"] == account.stripe_customer_id
    assert params["metadata"] == metadata
    assert params["payment_intent_data"] == {"metadata": metadata}
    assert "subscription_data" not in params
    assert params["success_url"].endswith("?session_id={CHECKOUT_SESSION_ID}")
    assert params["cancel_url"] == "https://app.example.com/billing/cancel/"
    assert call.idempotency_key and call.idempotency_key.startswith(f"checkout:{account.id}:")
    started = posthog_server.wait_for("checkout_started")
    assert started[0]["properties"]["price_key"] == "credits_10"


def test_pro_checkout_is_a_subscription_with_metadata_on_it(account_client, billing):
    body = start_checkout(account_client, "pro_monthly")
    (call,) = billing.calls("POST", "/v1/checkout/sessions")
    assert body["mode"] == call.params["mode"] == "subscription"
    assert call.params["subscription_data"]["metadata"]["price_key"] == "pro_monthly"
    assert "payment_intent_data" not in call.params


def test_one_idempotency_key_per_attempt(account_client, billing):
    first = start_checkout(account_client, "credits_10", HTTP_IDEMPOTENCY_KEY="attempt-1")
    again = start_checkout(account_client, "credits_10", HTTP_IDEMPOTENCY_KEY="attempt-1")
    assert again["session_id"] == first["session_id"]
    other = start_checkout(account_client, "credits_10", HTTP_IDEMPOTENCY_KEY="attempt-2")
    assert other["session_id"] != first["session_id"]
    calls = billing.calls("POST", "/v1/checkout/sessions")
    assert len(calls) == 2
    assert len({c.idempotency_key for c in calls}) == 2
    # Without a key every call is a new attempt with a key of its own.
    start_checkout(account_client, "credits_10")
    start_checkout(account_client, "credits_10")
    keys = [c.idempotency_key for c in billing.calls("POST", "/v1/checkout/sessions")]
    assert len(set(keys)) == 4
    # The customer is made once however many attempts there are.
    assert len(billing.calls("POST", "/v1/customers")) == 1
    reused = account_client.post(
        SESSION, {"price_key": "pro_monthly"}, format="json", HTTP_IDEMPOTENCY_KEY="attempt-1"
    )
    assert error_of(reused, 409)["code"] == "CONFLICT"


def test_a_pro_subscriber_cannot_buy_pro_again(account_client, billing):
    Account.objects.update(plan="pro")
    response = account_client.post(SESSION, {"price_key": "pro_monthly"}, format="json")
    assert "portal" in error_of(response, 409)["message"]
    assert start_checkout(account_client, "credits_10")["mode"] == "payment"


def test_stripe_refusing_is_an_upstream_error(account_client, billing, env):
    env(STRIPE_PRICES={"credits_10": {"price_id": "price_missing", "credits_usd": "10"}})
    response = account_client.post(SESSION, {"price_key": "credits_10"}, format="json")
    assert error_of(response, 502)["code"] == "UPSTREAM_ERROR"


def test_success_page_resync_fulfils_once_even_without_a_webhook(account_client, billing):
    body = start_checkout(account_client, "credits_10")
    url = f"{SESSION}{body['session_id']}/"
    unpaid = account_client.get(url).json()
    assert (unpaid["fulfilled"], unpaid["credits_usd"]) == (False, "0.000000")
    session = paid(billing, body["session_id"])
    synced = account_client.get(url)
    assert synced.status_code == 200, synced.content
    assert synced.json()["fulfilled"] is True
    assert synced.json()["credits_usd"] == "10.000000"
    # Again, and then the (late) webhook: still one purchase.
    account_client.get(url)
    assert deliver(stripe_event("checkout.session.completed", session)).status_code == 200
    task_runner.drain()
    assert CreditEntry.objects.filter(kind="purchase").count() == 1
    assert account_client.get("/api/accounts/me/").json()["credits_usd"] == "10.000000"
    record = CheckoutSession.objects.get()
    assert record.payment_intent_id == session["payment_intent"]


def test_success_page_resync_starts_pro(account_client, billing):
    body = start_checkout(account_client, "pro_monthly")
    paid(billing, body["session_id"])
    synced = account_client.get(f"{SESSION}{body['session_id']}/").json()
    assert synced["plan"] == "pro"
    assert account_client.get("/api/accounts/me/").json()["limits"]["daily_usd"] == "5"


def test_portal_opens_for_a_customer(account_client, billing):
    error = error_of(account_client.post("/api/payments/portal/"), 409)
    assert error["code"] == "CONFLICT"
    start_checkout(account_client, "pro_monthly")
    response = account_client.post("/api/payments/portal/")
    assert response.status_code == 201, response.content
    assert response.json()["url"].startswith("https://billing.stripe.test/")
    (call,) = billing.calls("POST", "/v1/billing_portal/sessions")
    assert call.params["customer"] == Account.objects.get().stripe_customer_id


def test_prices_list_what_can_be_bought(billing):
    from django.core.cache import cache

    cache.clear()  # amounts are cached across requests; start from none
    body = APIClient().get("/api/payments/prices/").json()
    assert body["enabled"] is True
    assert {p["price_key"]: p["mode"] for p in body["prices"]} == {
        "pro_monthly": "subscription",
        "credits_10": "payment",
    }
    # What each costs comes from Stripe's price objects (read once, then cached).
    amounts = {p["price_key"]: p["amount"] for p in body["prices"]}
    assert amounts == {
        "pro_monthly": {"unit_amount": 900, "currency": "usd", "interval": "month"},
        "credits_10": {"unit_amount": 1000, "currency": "usd", "interval": None},
    }
    APIClient().get("/api/payments/prices/")
    assert len(billing.calls("GET", "/v1/prices/price_pro")) == 1


def test_prices_still_list_when_stripe_cannot_say_the_amount(billing, env):
    env(STRIPE_PRICES={"credits_5": {"price_id": "price_unknown", "credits_usd": "5"}})
    body = APIClient().get("/api/payments/prices/").json()
    assert body["prices"] == [
        {
            "price_key": "credits_5",
            "mode": "payment",
            "plan": None,
            "credits_usd": "5",
            "amount": None,
        }
    ]
