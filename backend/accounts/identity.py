"""Signed-in callers as an ``Identity``: JWT access token, session cookie, or an account's key.

Registered with ``backend.clients.authentication`` so every way in (DRF views, SSE and
AI SDK views) resolves accounts first; the identity's client is the account's own, so
budgets, history and every per-client row key on the account.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError

from backend.accounts.models import Account, RevokedToken
from backend.accounts.tokens import SID_CLAIM, parse_access, password_stamp_matches
from backend.clients.authentication import IdentityError
from backend.clients.identity import API_KEY_PREFIX, Identity
from backend.clients.selectors import api_key_get_active


def account_identity(request: HttpRequest, hashed_ip: str) -> Identity | None:
    authorization = request.headers.get("Authorization", "")
    if authorization:
        scheme, _, credential = authorization.partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            return None  # the clients resolver explains what is expected
        if credential.startswith(API_KEY_PREFIX):
            return _api_key_identity(credential, hashed_ip)
        return _jwt_identity(credential, hashed_ip)
    return _session_identity(request, hashed_ip)


def identity_for(
    account: Account, *, hashed_ip: str, via: Any, api_key_id: str | None = None
) -> Identity:
    return Identity(
        client_id=str(account.client_id),
        plan=account.plan,
        ip_hash=hashed_ip,
        via=via,
        api_key_id=api_key_id,
        is_admin=bool(account.user.is_staff),
        account_id=str(account.id),
    )


def _account_for_user(user_id: Any) -> Account | None:
    return (
        Account.objects.select_related("user").filter(user_id=user_id, user__is_active=True).first()
    )


def _jwt_identity(raw: str, hashed_ip: str) -> Identity:
    try:
        token = parse_access(raw)
    except TokenError:
        raise IdentityError(
            "The access token is invalid or expired; refresh it or log in again."
        ) from None
    if token_revoked(jti=str(token.get("jti", "")), sid=str(token.get(SID_CLAIM, ""))):
        raise IdentityError("This access token was logged out; log in again.")
    account = _account_for_user(token.get("user_id"))
    if account is None:
        raise IdentityError("The account for this token no longer exists or is disabled.")
    if not password_stamp_matches(token, account.user):
        raise IdentityError("The password was changed since this token was issued; log in again.")
    return identity_for(account, hashed_ip=hashed_ip, via="jwt")


def _api_key_identity(raw: str, hashed_ip: str) -> Identity | None:
    key = api_key_get_active(raw_key=raw)
    if key is None or key.owner_id is None:
        return None  # unknown keys and service keys are the clients resolver's business
    account = _account_for_user(key.owner_id)
    if account is None:
        raise IdentityError("This API key's account no longer exists or is disabled.")
    return identity_for(account, hashed_ip=hashed_ip, via="api_key", api_key_id=str(key.id))


def _session_identity(request: HttpRequest, hashed_ip: str) -> Identity | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    account = _account_for_user(user.pk)
    if account is None:
        return None  # staff signed in to the admin, with no account: not a client
    return identity_for(account, hashed_ip=hashed_ip, via="session")


def token_revoked(*, jti: str, sid: str) -> bool:
    wanted = Q(kind=RevokedToken.Kind.JTI, value=jti)
    if sid:
        wanted |= Q(kind=RevokedToken.Kind.SID, value=sid)
    return RevokedToken.objects.filter(wanted, expires_at__gt=timezone.now()).exists()
