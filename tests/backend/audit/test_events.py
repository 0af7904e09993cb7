"""Each audited action, driven through its real endpoint, leaves exactly one event naming
the right actor and target, with the request's id and IP hash and no secret."""

from __future__ import annotations

import time

import pytest
from django.test import AsyncClient
from rest_framework.test import APIClient

from backend.accounts.models import Account
from backend.audit.actions import AuditAction
from backend.audit.models import AuditEvent
from backend.core import task_runner
from tests.backend.accounts.test_email_links import sent_link
from tests.backend.audit.conftest import PASSWORD, as_text, events, local_ip_hash, one, register
from tests.backend.payments.conftest import deliver, paid, start_checkout, stripe_event

pytestmark = pytest.mark.django_db(transaction=True)
NEW_PASSWORD = "another-horse-battery-7"


def login(client: APIClient, email: str, password: str = PASSWORD):
    return client.post(
        "/api/accounts/login/", {"email": email, "password": password}, format="json"
    )


# --- signing up, in and out ----------------------------------------------------------------


def test_sign_up_is_recorded_with_the_request_id_and_ip_hash(api_client):
    response = register(api_client, "ada@example.com")
    assert response.status_code == 201
    account = Account.objects.get()
    event = one(AuditAction.ACCOUNT_SIGNED_UP)
    assert event.actor == AuditEvent.Actor.ACCOUNT
    assert (event.account_id, event.client_id) == (account.id, str(account.client_id))
    assert event.request_id == response["X-Request-ID"]
    assert event.ip_hash == local_ip_hash()
    assert PASSWORD not in as_text(event)
    assert "ada@example.com" not in as_text(event)


async def test_the_request_reaches_the_record_on_the_async_path_too():
    client = AsyncClient()
    response = await client.post(
        "/api/accounts/register/",
        {"email": "eve@example.com", "password": PASSWORD},
        content_type="application/json",
        headers={"X-Request-ID": "req-async-1"},
    )
    assert response.status_code == 201, response.content
    event = await AuditEvent.objects.aget(action=AuditAction.ACCOUNT_SIGNED_UP)
    assert event.request_id == "req-async-1"
    assert event.ip_hash == local_ip_hash()


def test_login_and_logout_are_recorded_once_each(api_client, make_account):
    account, _ = make_account("ada@example.com")
    response = login(api_client, "ada@example.com")
    assert response.status_code == 200
    event = one(AuditAction.ACCOUNT_LOGIN)
    assert (event.actor, event.account_id, event.client_id) == (
        AuditEvent.Actor.ACCOUNT,
        account.id,
        str(account.client_id),
    )
    assert event.request_id == response["X-Request-ID"]
    tokens = response.json()["tokens"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    out = client.post("/api/accounts/logout/", {"refresh": tokens["refresh"]}, format="json")
    assert out.status_code == 204
    logout = one(AuditAction.ACCOUNT_LOGOUT)
    assert (logout.account_id, logout.request_id) == (account.id, out["X-Request-ID"])
    assert tokens["refresh"] not in as_text(logout)


def test_a_failed_login_is_recorded_without_the_password(api_client, make_account):
    account, _ = make_account("ada@example.com")
    wrong = "not-the-password-42"
    assert login(api_client, "ada@example.com", wrong).status_code == 401
    assert login(api_client, "nobody@example.com", wrong).status_code == 401
    failed = events(AuditAction.ACCOUNT_LOGIN_FAILED)
    assert [(e.metadata["reason"], e.account_id) for e in failed] == [
        ("bad_credentials", account.id),
        ("unknown_email", None),
    ]
    for event in failed:
        assert event.actor == AuditEvent.Actor.ANONYMOUS
        assert event.ip_hash == local_ip_hash()
        assert wrong not in as_text(event)
        assert "example.com" not in as_text(event)
    assert not events(AuditAction.ACCOUNT_LOGIN)


def test_throttled_logins_are_recorded_at_most_once_a_minute(api_client, make_account, env):
    make_account("ada@example.com")
    env(ACCOUNT_LOGIN_PER_MINUTE=2, ACCOUNT_LOGIN_IP_PER_MINUTE=100)
    assert login(api_client, "ada@example.com", "wrong-1").status_code == 401
    assert login(api_client, "ada@example.com", "wrong-2").status_code == 401
    assert login(api_client, "ada@example.com", "wrong-3").status_code == 429
    assert login(api_client, "ada@example.com", PASSWORD).status_code == 429
    reasons = [e.metadata for e in events(AuditAction.ACCOUNT_LOGIN_FAILED)]
    assert reasons == [
        {"reason": "bad_credentials"},
        {"reason": "bad_credentials"},
        {"reason": "throttled", "throttle": "account"},
    ]
    assert PASSWORD not in "".join(as_text(e) for e in AuditEvent.objects.all())


# --- emailed links ------------------------------------------------------------------------


def test_email_verification_is_recorded_once(api_client):
    register(api_client, "ada@example.com")
    _, query = sent_link()
    anonymous = APIClient()
    assert anonymous.post("/api/accounts/verify-email/", query, format="json").status_code == 200
    anonymous.post("/api/accounts/verify-email/", query, format="json")  # spent: 400
    event = one(AuditAction.EMAIL_VERIFIED)
    assert (event.account_id, event.metadata) == (
        Account.objects.get().id,
        {"via": "verification_link"},
    )
    assert query["token"] not in as_text(event)


def test_password_reset_request_and_completion_are_recorded(api_client, make_account):
    account, _ = make_account("ada@example.com")
    api_client.post("/api/accounts/password-reset/", {"email": "ADA@example.com"}, format="json")
    api_client.post("/api/accounts/password-reset/", {"email": "no@example.com"}, format="json")
    requested = events(AuditAction.PASSWORD_RESET_REQUESTED)
    assert [(e.account_id, e.metadata["known_address"]) for e in requested] == [
        (account.id, True),
        (None, False),
    ]
    assert all(e.actor == AuditEvent.Actor.ANONYMOUS for e in requested)
    _, query = sent_link()
    confirm = "/api/accounts/password-reset/confirm/"
    done = api_client.post(confirm, {**query, "password": NEW_PASSWORD}, format="json")
    assert done.status_code == 204
    completed = one(AuditAction.PASSWORD_RESET_COMPLETED)
    assert (completed.account_id, completed.request_id) == (account.id, done["X-Request-ID"])
    assert NEW_PASSWORD not in as_text(completed)
    assert query["token"] not in as_text(completed)
    # The account was verified already: following the link verifies nothing new.
    assert not events(AuditAction.EMAIL_VERIFIED)


# --- API keys -----------------------------------------------------------------------------


def test_api_key_creation_and_revocation_are_recorded_by_id_and_prefix(account_client):
    created = account_client.post("/api/accounts/api-keys/", {"name": "ci"}, format="json")
    assert created.status_code == 201
    body = created.json()
    event = one(AuditAction.API_KEY_CREATED)
    assert (event.account_id, event.target_type, event.target_id) == (
        account_client.account.id,
        "clients.apikey",
        body["id"],
    )
    assert event.metadata == {"key_prefix": body["prefix"]}
    assert body["key"] not in as_text(event)
    for _ in range(2):  # revoking again changes nothing and records nothing
        assert account_client.delete(f"/api/accounts/api-keys/{body['id']}/").status_code == 200
    revoked = one(AuditAction.API_KEY_REVOKED)
    assert (revoked.account_id, revoked.target_id) == (account_client.account.id, body["id"])


# --- webhooks -----------------------------------------------------------------------------


def test_setting_changing_and_clearing_a_webhook_is_recorded_by_host(anon_client, settings):
    settings.DEBUG = True  # plain http to localhost is allowed then
    session = anon_client.post("/api/chat/sessions/", {}, format="json").json()
    url = f"/api/chat/sessions/{session['id']}/"
    for webhook_url in ("http://localhost:9999/hook?token=s3cret", "http://127.0.0.1:9999/x", None):
        response = anon_client.patch(url, {"webhook_url": webhook_url}, format="json")
        assert response.status_code == 200, response.content
    recorded = list(AuditEvent.objects.filter(target_type="chat.chatsession").order_by("pk"))
    assert [(e.action, e.metadata["host"], e.metadata["previous_host"]) for e in recorded] == [
        (AuditAction.WEBHOOK_SET, "localhost", None),
        (AuditAction.WEBHOOK_SET, "127.0.0.1", "localhost"),
        (AuditAction.WEBHOOK_CLEARED, None, "127.0.0.1"),
    ]
    for event in recorded:
        assert (event.actor, event.client_id, event.target_id) == (
            AuditEvent.Actor.CLIENT,
            anon_client.client_id,
            session["id"],
        )
        assert "s3cret" not in as_text(event)


# --- payments -----------------------------------------------------------------------------


def test_a_credit_purchase_is_recorded_once_however_often_stripe_says_so(account_client, billing):
    body = start_checkout(account_client, "credits_10")
    event = stripe_event("checkout.session.completed", paid(billing, body["session_id"]))
    for _ in range(2):
        assert deliver(event).status_code == 200
        task_runner.drain()
    granted = one(AuditAction.CREDITS_GRANTED)
    assert (granted.actor, granted.account_id, granted.target_id) == (
        AuditEvent.Actor.SYSTEM,
        account_client.account.id,
        body["id"],
    )
    assert granted.metadata == {"amount_usd": "10.000000", "price_key": "credits_10"}
    assert granted.ip_hash == ""  # Stripe's word, applied by a job: nobody's address
    assert not events(AuditAction.PLAN_CHANGED)


def test_plan_changes_are_recorded_with_from_and_to(account_client, billing):
    body = start_checkout(account_client, "pro_monthly")
    session = paid(billing, body["session_id"])
    created = int(time.time()) - 60
    assert deliver(stripe_event("checkout.session.completed", session, created=created))
    task_runner.drain()
    ended = stripe_event(
        "customer.subscription.deleted",
        {
            "id": session["subscription"],
            "object": "subscription",
            "status": "canceled",
            "customer": session["customer"],
            "metadata": {"account_id": str(account_client.account.id)},
        },
        created=created + 30,
    )
    deliver(ended)
    task_runner.drain()
    changes = events(AuditAction.PLAN_CHANGED)
    assert [(e.metadata["from"], e.metadata["to"]) for e in changes] == [
        ("free", "pro"),
        ("pro", "free"),
    ]
    assert {(e.actor, e.account_id) for e in changes} == {
        (AuditEvent.Actor.SYSTEM, account_client.account.id)
    }


def test_a_refund_taking_credits_back_is_recorded_once(account_client, billing):
    body = start_checkout(account_client, "credits_10")
    session = paid(billing, body["session_id"])
    charge = {
        "id": "ch_1",
        "object": "charge",
        "amount": 1000,
        "amount_refunded": 400,
        "payment_intent": session["payment_intent"],
        "customer": session["customer"],
        "metadata": {},
    }
    refund = stripe_event("charge.refunded", charge)
    for event in (stripe_event("checkout.session.completed", session), refund, refund):
        assert deliver(event).status_code == 200
        task_runner.drain()
    taken = one(AuditAction.CREDITS_TAKEN_BACK)
    assert (taken.account_id, taken.target_id) == (account_client.account.id, body["id"])
    assert taken.metadata == {"amount_usd": "4.000000", "reason": "refund"}
