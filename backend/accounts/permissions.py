"""Who is signed in to an account, for the endpoints of accounts and of payments."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from backend.accounts import selectors
from backend.accounts.models import Account
from backend.clients.identity import Identity
from backend.core.errors import UnauthorizedError


class HasAccount(BasePermission):
    """Signed in to an account: JWT access token, session cookie or the account's API key."""

    def has_permission(self, request: Request, view: Any) -> bool:
        identity = request.auth
        if isinstance(identity, Identity) and identity.account_id:
            return True
        raise UnauthorizedError(
            "Sign in to an account: send 'Authorization: Bearer <access token>' from "
            "POST /api/accounts/login/, the session cookie, or one of the account's API keys."
        )


def account_of(request: Request) -> Account:
    identity = request.auth
    assert isinstance(identity, Identity) and identity.account_id
    return selectors.account_get(account_id=identity.account_id)
