from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

PASSWORD = "correct-horse-battery-9"


@pytest.fixture(autouse=True)
def _embedded_runner(settings) -> None:
    """Emails go out through the embedded task runner; tests drain it to read the outbox."""
    settings.TASK_RUNNER = "thread"


def register(client: APIClient, email: str, password: str = PASSWORD, **extra: Any) -> Any:
    return client.post(
        "/api/accounts/register/", {"email": email, "password": password, **extra}, format="json"
    )


def signed_in(tokens: dict[str, Any]) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    return client


@pytest.fixture
def make_account(db):
    """Create an account through the service: returns (account, tokens as a dict).

    The email counts as verified unless ``verified=False`` (an unverified free account is
    budgeted as an anonymous visitor; tests of that ask for one)."""
    from django.utils import timezone

    from backend.accounts.services.auth import account_register

    def make(
        email: str = "ada@example.com",
        password: str = PASSWORD,
        verified: bool = True,
        **kwargs: Any,
    ):
        account, pair = account_register(
            email=email, password=password, ip_hash=f"test-{email}", **kwargs
        )
        if verified:
            account.email_verified_at = timezone.now()
            account.save(update_fields=["email_verified_at"])
        return account, pair.as_dict()

    return make


@pytest.fixture
def account_client(make_account):
    """An APIClient signed in (JWT) to a fresh account; ``.account`` and ``.tokens`` set."""
    account, tokens = make_account()
    client = signed_in(tokens)
    client.account = account  # type: ignore[attr-defined]
    client.tokens = tokens  # type: ignore[attr-defined]
    return client
