from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.backend.accounts.conftest import account_client, make_account  # noqa: F401

WEBHOOK_SECRET = "whsec_test_insightstream"
PRICES = {
    "pro_monthly": {"price_id": "price_pro", "plan": "pro"},
    "credits_10": {"price_id": "price_credits_10", "credits_usd": "10"},
}


@pytest.fixture(autouse=True)
def _embedded_runner(settings) -> None:
    """Webhook fulfilment runs on the embedded task runner; tests drain it."""
    settings.TASK_RUNNER = "thread"


@pytest.fixture
def billing(env, stripe_server):
    """Stripe configured against the local fake API, with a Pro price and a credit pack."""
    stripe_server.add_price("price_pro", unit_amount=900, recurring=True)
    stripe_server.add_price("price_credits_10", unit_amount=1000)
    env(
        STRIPE_SECRET_KEY=stripe_server.api_key,
        STRIPE_API_BASE=stripe_server.url,
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        STRIPE_PRICES=PRICES,
        STRIPE_SUCCESS_URL="https://app.example.com/billing/success/?session_id={CHECKOUT_SESSION_ID}",
        STRIPE_CANCEL_URL="https://app.example.com/billing/cancel/",
    )
    return stripe_server


def signature_for(payload: bytes, *, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    """A ``Stripe-Signature`` header as Stripe makes it: HMAC-SHA256 of "<t>.<body>"."""
    timestamp = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def stripe_event(
    type_: str, obj: dict[str, Any], *, created: int | None = None, event_id: str | None = None
) -> dict[str, Any]:
    return {
        "id": event_id or f"evt_test_{uuid.uuid4().hex}",
        "object": "event",
        "api_version": "2026-10-28.endive",
        "type": type_,
        "created": int(time.time()) if created is None else created,
        "livemode": False,
        "data": {"object": obj},
    }


def deliver(
    event: dict[str, Any] | bytes,
    *,
    client: APIClient | None = None,
    secret: str = WEBHOOK_SECRET,
    at: int | None = None,
    signature: str | None = None,
) -> Any:
    payload = event if isinstance(event, bytes) else json.dumps(event).encode()
    header = signature if signature is not None else signature_for(payload, secret=secret, at=at)
    return (client or APIClient()).post(
        "/api/payments/webhook/",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )


def start_checkout(client: APIClient, price_key: str, **headers: Any) -> dict[str, Any]:
    response = client.post(
        "/api/payments/session/", {"price_key": price_key}, format="json", **headers
    )
    assert response.status_code == 201, response.content
    return response.json()


def paid(server: Any, session_id: str, *, payment_status: str = "paid") -> dict[str, Any]:
    """The buyer pays at Stripe; returns the session object Stripe would send."""
    session = server.complete_session(session_id, payment_status=payment_status)
    return {k: v for k, v in session.items() if not k.startswith("_")}
