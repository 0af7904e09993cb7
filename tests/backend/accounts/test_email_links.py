"""Email verification and password reset by emailed link."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from rest_framework.test import APIClient

from backend.core import task_runner
from tests.backend.accounts.conftest import PASSWORD, register, signed_in

pytestmark = pytest.mark.django_db(transaction=True)
NEW_PASSWORD = "another-horse-battery-7"


def sent_link(index: int = -1) -> tuple[str, dict[str, str]]:
    task_runner.drain()
    message = mail.outbox[index]
    url = re.search(r"https?://\S+", message.body).group(0)  # type: ignore[union-attr]
    parts = urlsplit(url)
    return parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}


def test_signing_up_mails_a_verification_link_that_works_once(api_client, env):
    env(PUBLIC_URL="https://app.example.com")
    tokens = register(api_client, "ada@example.com").json()["tokens"]
    path, query = sent_link()
    assert mail.outbox[-1].to == ["ada@example.com"]
    assert mail.outbox[-1].body.count("https://app.example.com/account/verify-email/?") == 1
    assert path == "/account/verify-email/"
    anonymous = APIClient()
    tampered = anonymous.post(
        "/api/accounts/verify-email/", {**query, "token": query["token"][:-2] + "xx"}, format="json"
    )
    assert "token" in tampered.json()["error"]["details"]["fields"]
    wrong_user = anonymous.post(
        "/api/accounts/verify-email/", {**query, "uid": "bm9ib2R5"}, format="json"
    )
    assert wrong_user.status_code == 400
    verified = anonymous.post("/api/accounts/verify-email/", query, format="json")
    assert verified.status_code == 200, verified.content
    assert verified.json()["email_verified"] is True
    assert signed_in(tokens).get("/api/accounts/me/").json()["email_verified"] is True
    # Spent: the same link does nothing a second time.
    assert anonymous.post("/api/accounts/verify-email/", query, format="json").status_code == 400


def test_verification_can_be_sent_again_until_verified(make_account):
    _, tokens = make_account(verified=False)
    account_client = signed_in(tokens)
    task_runner.drain()
    before = len(mail.outbox)
    assert account_client.post("/api/accounts/verify-email/resend/").status_code == 202
    _, query = sent_link()
    assert len(mail.outbox) == before + 1
    APIClient().post("/api/accounts/verify-email/", query, format="json")
    account_client.post("/api/accounts/verify-email/resend/")
    task_runner.drain()
    assert len(mail.outbox) == before + 1


def test_password_reset_for_unknown_addresses_answers_the_same_and_mails_nothing(api_client):
    task_runner.drain()
    before = len(mail.outbox)
    response = api_client.post(
        "/api/accounts/password-reset/", {"email": "nobody@example.com"}, format="json"
    )
    assert response.status_code == 202
    task_runner.drain()
    assert len(mail.outbox) == before
    bad = api_client.post("/api/accounts/password-reset/", {"email": "nope"}, format="json")
    assert "email" in bad.json()["error"]["details"]["fields"]


def test_password_reset_link_sets_a_new_password_once_and_ends_every_login(
    api_client, make_account
):
    account, tokens = make_account("ada@example.com")
    assert signed_in(tokens).get("/api/accounts/me/").status_code == 200
    api_client.post("/api/accounts/password-reset/", {"email": "ADA@example.com"}, format="json")
    path, query = sent_link()
    assert path == "/account/reset-password/"
    confirm = "/api/accounts/password-reset/confirm/"
    weak = api_client.post(confirm, {**query, "password": "12345678"}, format="json")
    assert "password" in weak.json()["error"]["details"]["fields"]
    bad_token = api_client.post(
        confirm, {**query, "token": "1-abc", "password": NEW_PASSWORD}, format="json"
    )
    assert "token" in bad_token.json()["error"]["details"]["fields"]
    done = api_client.post(confirm, {**query, "password": NEW_PASSWORD}, format="json")
    assert done.status_code == 204, done.content
    # Old tokens end (password stamp and blacklist); the old password no longer works.
    assert signed_in(tokens).get("/api/accounts/me/").status_code == 401
    refreshed = api_client.post(
        "/api/accounts/token/refresh/", {"refresh": tokens["refresh"]}, format="json"
    )
    assert refreshed.status_code == 401
    old = {"email": account.email, "password": PASSWORD}
    assert api_client.post("/api/accounts/login/", old, format="json").status_code == 401
    new = {"email": account.email, "password": NEW_PASSWORD}
    assert api_client.post("/api/accounts/login/", new, format="json").status_code == 200
    again = api_client.post(confirm, {**query, "password": "yet-another-horse-3"}, format="json")
    assert again.status_code == 400
