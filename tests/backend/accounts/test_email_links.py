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


# --- links never come from the request's Host header ---------------------------------------

FORGED_HOST = "evil.example"


def sent_url(index: int = -1) -> str:
    task_runner.drain()
    return re.search(r"https?://\S+", mail.outbox[index].body).group(0)  # type: ignore[union-attr]


@pytest.fixture
def forged_host_admitted(settings):
    """A deployment whose ALLOWED_HOSTS admits the forged name (a wildcard, say)."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, FORGED_HOST]


@pytest.mark.parametrize("public_url", [None, "https://app.example.com"])
def test_a_forged_host_never_reaches_a_reset_link(
    api_client, make_account, env, forged_host_admitted, public_url
):
    env(PUBLIC_URL=public_url, HOST="127.0.0.1", PORT=8123)
    make_account("ada@example.com")
    response = api_client.post(
        "/api/accounts/password-reset/",
        {"email": "ada@example.com"},
        format="json",
        HTTP_HOST=FORGED_HOST,
    )
    assert response.status_code == 202
    url = sent_url()
    assert FORGED_HOST not in url
    expected = public_url or "http://127.0.0.1:8123"
    assert url.startswith(f"{expected}/account/reset-password/?")


def test_a_forged_host_never_reaches_a_verification_link(api_client, env, forged_host_admitted):
    env(PUBLIC_URL="https://app.example.com")
    response = api_client.post(
        "/api/accounts/register/",
        {"email": "bob@example.com", "password": PASSWORD},
        format="json",
        HTTP_HOST=FORGED_HOST,
    )
    assert response.status_code == 201, response.content
    assert sent_url().startswith("https://app.example.com/account/verify-email/?")
    tokens = response.json()["tokens"]
    resend = signed_in(tokens).post("/api/accounts/verify-email/resend/", HTTP_HOST=FORGED_HOST)
    assert resend.status_code == 202
    assert sent_url().startswith("https://app.example.com/account/verify-email/?")


def test_an_embedded_server_on_every_interface_links_to_localhost(env):
    from backend.accounts.services.email_links import public_base_url

    env(PUBLIC_URL=None, HOST="0.0.0.0", PORT=8000)
    assert public_base_url() == "http://localhost:8000"
    env(HOST="::1")
    assert public_base_url() == "http://[::1]:8000"
    env(PUBLIC_URL="https://app.example.com/")
    assert public_base_url() == "https://app.example.com"


def test_no_backend_code_builds_a_url_from_the_request_host():
    from tests.conftest import REPO_ROOT

    offenders = [
        f"{path.relative_to(REPO_ROOT)}: {needle}"
        for path in (REPO_ROOT / "backend").rglob("*.py")
        for needle in ("build_absolute_uri(", ".get_host(", "HTTP_HOST")
        if needle in path.read_text()
    ]
    assert offenders == []
