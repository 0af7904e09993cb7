"""Register, login, refresh, logout and the session cookie, on the usual path: anonymous →
someone else's → invalid input → the happy path."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from backend.accounts.models import Account, RevokedToken
from backend.clients.services import client_create
from tests.backend.accounts.conftest import PASSWORD, register, signed_in

pytestmark = pytest.mark.django_db


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content
    return response.json()["error"]


def login(client: APIClient, email: str, password: str = PASSWORD, **extra):
    return client.post(
        "/api/accounts/login/", {"email": email, "password": password, **extra}, format="json"
    )


# --- anonymous ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/accounts/me/"),
        ("delete", "/api/accounts/me/"),
        ("post", "/api/accounts/logout/"),
        ("get", "/api/accounts/export/"),
        ("get", "/api/accounts/api-keys/"),
        ("post", "/api/accounts/api-keys/"),
        ("post", "/api/accounts/verify-email/resend/"),
    ],
)
def test_account_endpoints_need_a_signed_in_account(api_client, method, path):
    assert error_of(getattr(api_client, method)(path), 401)["code"] == "UNAUTHORIZED"
    # An anonymous client token is an identity, but not an account.
    _, token = client_create(ip_hash="anon")
    api_client.credentials(HTTP_X_CLIENT_TOKEN=token)
    assert error_of(getattr(api_client, method)(path), 401)["code"] == "UNAUTHORIZED"


def test_garbage_and_foreign_bearer_tokens_are_refused(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")
    assert "access token" in error_of(api_client.get("/api/accounts/me/"), 401)["message"]
    # A token signed with another key is as good as garbage.
    import jwt

    forged = jwt.encode(
        {"token_type": "access", "user_id": "1", "jti": "x"},
        "another-signing-key-that-is-long-enough-0000",
    )
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert error_of(api_client.get("/api/accounts/me/"), 401)["code"] == "UNAUTHORIZED"


# --- register ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": PASSWORD}, "email"),
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"email": "bob@example.com"}, "password"),
        ({"email": "bob@example.com", "password": "short"}, "password"),
        ({"email": "bob@example.com", "password": "password123"}, "password"),  # common
        ({"email": "bob@example.com", "password": "8412907355"}, "password"),  # numeric
        ({"email": "bobexample@example.com", "password": "bobexample"}, "password"),  # similar
    ],
)
def test_register_refuses_invalid_input_naming_the_field(api_client, body, field):
    error = error_of(api_client.post("/api/accounts/register/", body, format="json"), 400)
    assert error["code"] == "VALIDATION_ERROR"
    assert field in error["details"]["fields"]
    assert not Account.objects.exists()


def test_register_creates_an_account_with_tokens_and_a_client_of_its_own(api_client):
    response = register(api_client, "  Ada@Example.COM ")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["account"]["email"] == "ada@example.com"
    assert body["account"]["plan"] == "free"
    assert body["account"]["email_verified"] is False
    # Until the address is verified the account has an anonymous visitor's budgets.
    assert body["account"]["limits"]["plan"] == "anonymous"
    assert body["account"]["limits"]["until_email_verified"] is True
    assert body["account"]["limits"]["daily_usd"] == "0.05"
    assert set(body["tokens"]) == {"access", "refresh", "access_expires_at", "refresh_expires_at"}
    account = Account.objects.get()
    assert account.client.kind == "account"
    me = signed_in(body["tokens"]).get("/api/clients/me/").json()
    assert me == {
        "client_id": str(account.client_id),
        "plan": "free",
        "via": "jwt",
        "api_key_id": None,
        "account_id": str(account.pk),
    }


def test_access_token_lives_30_minutes_and_refresh_7_days(api_client):
    from datetime import datetime

    tokens = register(api_client, "ada@example.com").json()["tokens"]
    access = datetime.fromisoformat(tokens["access_expires_at"].replace("Z", "+00:00"))
    refresh = datetime.fromisoformat(tokens["refresh_expires_at"].replace("Z", "+00:00"))
    assert round((refresh - access).total_seconds()) == 7 * 86_400 - 30 * 60


def test_email_is_unique_whatever_its_case(api_client):
    assert register(api_client, "ada@example.com").status_code == 201
    error = error_of(register(APIClient(), "ADA@example.com"), 400)
    assert "email" in error["details"]["fields"]
    assert Account.objects.count() == 1


def test_the_database_itself_refuses_a_second_address_differing_only_in_case(db):
    from django.db import IntegrityError, transaction

    users = get_user_model().objects
    users.create_user(username="a", email="ada@example.com", password=PASSWORD)
    with pytest.raises(IntegrityError), transaction.atomic():
        users.create_user(username="b", email="Ada@Example.com", password=PASSWORD)


def test_registration_is_rate_limited_per_ip_hash(api_client, env):
    env(ACCOUNT_REGISTER_IP_PER_MINUTE=2)
    assert register(api_client, "a1@example.com").status_code == 201
    assert register(api_client, "a2@example.com").status_code == 201
    refused = register(api_client, "a3@example.com")
    assert error_of(refused, 429)["code"] == "RATE_LIMITED"
    assert int(refused["Retry-After"]) >= 1


# --- login -------------------------------------------------------------------------------


def test_login_refuses_wrong_passwords_and_unknown_emails_alike(api_client, make_account):
    make_account("ada@example.com")
    wrong = error_of(login(api_client, "ada@example.com", "not-the-password"), 401)
    unknown = error_of(login(api_client, "nobody@example.com"), 401)
    assert wrong["message"] == unknown["message"]
    assert "email" in error_of(login(api_client, "nope", "x"), 400)["details"]["fields"]


def test_login_is_case_insensitive_and_returns_a_new_login(api_client, make_account):
    account, first = make_account("ada@example.com")
    body = login(api_client, "ADA@example.com").json()
    assert body["account"]["id"] == str(account.id)
    assert body["tokens"]["refresh"] != first["refresh"]
    assert signed_in(body["tokens"]).get("/api/accounts/me/").status_code == 200


def test_staff_without_an_account_cannot_log_in_to_the_api(api_client, db):
    get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    assert error_of(login(api_client, "root@example.com"), 401)["code"] == "UNAUTHORIZED"


def test_login_is_throttled_per_account(api_client, make_account, env):
    env(ACCOUNT_LOGIN_PER_MINUTE=3)
    make_account("ada@example.com")
    for _ in range(3):
        assert login(api_client, "ada@example.com", "wrong-password").status_code == 401
    refused = login(api_client, "ada@example.com")  # even the right password waits
    assert error_of(refused, 429)["details"]["limit_per_minute"] == 3
    assert "Retry-After" in refused
    # Other accounts from elsewhere are not affected.
    other = APIClient(REMOTE_ADDR="10.9.9.9")
    make_account("bob@example.com")
    assert login(other, "bob@example.com").status_code == 200


def test_login_is_throttled_per_ip_hash(make_account, env):
    env(ACCOUNT_LOGIN_IP_PER_MINUTE=4, ACCOUNT_LOGIN_PER_MINUTE=100)
    make_account("ada@example.com")
    attacker = APIClient(REMOTE_ADDR="203.0.113.7")
    for index in range(4):
        assert login(attacker, f"guess{index}@example.com").status_code == 401
    assert error_of(login(attacker, "ada@example.com"), 429)["code"] == "RATE_LIMITED"
    assert login(APIClient(REMOTE_ADDR="198.51.100.1"), "ada@example.com").status_code == 200


# --- refresh, logout and the blacklist ---------------------------------------------------


def refresh(client: APIClient, token: str):
    return client.post("/api/accounts/token/refresh/", {"refresh": token}, format="json")


def test_refresh_rotates_and_blacklists_the_used_refresh_token(api_client, make_account):
    _, tokens = make_account()
    assert error_of(refresh(api_client, "garbage"), 401)["code"] == "UNAUTHORIZED"
    assert "refresh" in error_of(refresh(api_client, ""), 400)["details"]["fields"]
    rotated = refresh(api_client, tokens["refresh"])
    assert rotated.status_code == 200, rotated.content
    new = rotated.json()
    assert new["refresh"] != tokens["refresh"]
    assert signed_in(new).get("/api/accounts/me/").status_code == 200
    # The used refresh token is blacklisted; the rotated one works once.
    assert error_of(refresh(api_client, tokens["refresh"]), 401)["code"] == "UNAUTHORIZED"
    assert refresh(api_client, new["refresh"]).status_code == 200
    # An access token is not a refresh token.
    assert refresh(api_client, new["access"]).status_code == 401


def test_after_logout_neither_token_works(api_client, make_account):
    account, tokens = make_account()
    client = signed_in(tokens)
    # An access token minted from the same login before logout.
    sibling = refresh(api_client, tokens["refresh"]).json()
    assert signed_in(sibling).get("/api/accounts/me/").status_code == 200
    response = client.post("/api/accounts/logout/", {"refresh": sibling["refresh"]}, format="json")
    assert response.status_code == 204, response.content
    assert RevokedToken.objects.filter(kind="jti").count() == 1
    # The access token is refused by jti, its login by sid, the refresh by the blacklist.
    assert "logged out" in error_of(client.get("/api/accounts/me/"), 401)["message"]
    assert error_of(signed_in(sibling).get("/api/accounts/me/"), 401)["code"] == "UNAUTHORIZED"
    assert error_of(refresh(api_client, sibling["refresh"]), 401)["code"] == "UNAUTHORIZED"
    # Also on every other way in that resolves identities (DRF views and SSE alike).
    assert client.get("/api/chat/sessions/").status_code == 401
    # Another login of the same account is untouched.
    other = login(APIClient(), account.email).json()["tokens"]
    assert signed_in(other).get("/api/accounts/me/").status_code == 200


def test_logout_refuses_someone_elses_refresh_token(make_account):
    _, mine = make_account("ada@example.com")
    _, theirs = make_account("bob@example.com")
    response = signed_in(mine).post(
        "/api/accounts/logout/", {"refresh": theirs["refresh"]}, format="json"
    )
    assert "refresh" in error_of(response, 400)["details"]["fields"]
    assert refresh(APIClient(), theirs["refresh"]).status_code == 200


def test_a_disabled_user_loses_access_at_once(make_account):
    account, tokens = make_account()
    get_user_model().objects.filter(pk=account.user_id).update(is_active=False)
    assert signed_in(tokens).get("/api/accounts/me/").status_code == 401
    assert refresh(APIClient(), tokens["refresh"]).status_code == 401


# --- the browser's session cookie --------------------------------------------------------


def test_session_cookie_and_jwt_resolve_to_the_same_account(make_account):
    account, tokens = make_account()
    browser = APIClient(enforce_csrf_checks=True)
    # A cross-site form could post a login with the visitor's cookies; it cannot add the
    # header, so a session sign-in without it is refused (no login CSRF).
    assert error_of(login(browser, account.email, session=True), 403)
    assert "sessionid" not in browser.cookies
    response = browser.post(
        "/api/accounts/login/",
        {"email": account.email, "password": PASSWORD, "session": True},
        format="json",
        HTTP_X_REQUESTED_WITH="fetch",
    )
    assert response.status_code == 200
    assert "sessionid" in response.cookies
    via_session = browser.get("/api/clients/me/").json()
    via_jwt = signed_in(tokens).get("/api/clients/me/").json()
    assert via_session["client_id"] == via_jwt["client_id"] == str(account.client_id)
    assert via_session["via"] == "session"
    assert via_session["account_id"] == via_jwt["account_id"] == str(account.pk)
    # Writes with the cookie alone need the header no cross-site form can send.
    assert error_of(browser.post("/api/chat/sessions/", {}, format="json"), 403)
    created = browser.post("/api/chat/sessions/", {}, format="json", HTTP_X_REQUESTED_WITH="x")
    assert created.status_code == 201, created.content
    # Logging out ends the session.
    out = browser.post("/api/accounts/logout/", {}, format="json", HTTP_X_REQUESTED_WITH="x")
    assert out.status_code == 204
    assert browser.get("/api/accounts/me/").status_code == 401
