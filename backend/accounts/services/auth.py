"""Signing up, in and out: accounts, JWTs, throttles; the anonymous client comes along."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import structlog
from asgiref.sync import async_to_sync
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth import password_validation as validators
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import TokenRefreshSerializer

from agents.guard import RateLimitedError as GuardRateLimitedError
from backend.accounts.identity import token_revoked
from backend.accounts.models import Account, RevokedToken
from backend.accounts.services.attach import account_attach_client
from backend.accounts.tokens import (
    SID_CLAIM,
    TokenPair,
    expiry_of,
    parse_access,
    parse_refresh,
    password_stamp_matches,
    token_pair_for,
)
from backend.audit.actions import AuditAction
from backend.audit.models import AuditEvent
from backend.audit.services import audit_record
from backend.clients.models import Client, Plan
from backend.core.errors import RateLimitedError, UnauthorizedError, ValidationError

logger = structlog.get_logger(__name__)
MAX_USERNAME = 150


def normalise_email(email: str) -> str:
    return email.strip().lower()


def throttle(*, key: str, limit_per_minute: int, what: str) -> None:
    from backend.guard.instance import get_guard

    async def hit() -> None:
        await get_guard().hit_rate_limit(key=key, limit_per_minute=limit_per_minute)

    try:
        async_to_sync(hit)()
    except GuardRateLimitedError as exc:
        raise RateLimitedError(
            f"Too many {what}; wait a minute and try again.",
            retry_after_s=exc.retry_after_s,
            details={"limit_per_minute": limit_per_minute},
        ) from None


def _username_for(email: str) -> str:
    if len(email) <= MAX_USERNAME:
        return email
    return "acct-" + hashlib.sha256(email.encode()).hexdigest()[:32]


def account_register(
    *,
    email: str,
    password: str,
    ip_hash: str,
    anonymous_client_id: str | None = None,
) -> tuple[Account, TokenPair]:
    """A new account (email unique case-insensitively, password per Django's validators),
    its own client, the caller's anonymous data attached, and a first login."""
    throttle(
        key=f"register:ip:{ip_hash}",
        limit_per_minute=settings.ENV.ACCOUNT_REGISTER_IP_PER_MINUTE,
        what="sign-ups from your network",
    )
    email = normalise_email(email)
    user_model = get_user_model()
    candidate = user_model(username=_username_for(email), email=email)
    try:
        validators.validate_password(password, user=candidate)
    except DjangoValidationError as exc:
        raise ValidationError(
            f"password: {exc.messages[0]}", details={"fields": {"password": exc.messages}}
        ) from None
    taken = ValidationError.for_field("email", "an account with this email already exists")
    if user_model.objects.filter(email__iexact=email).exists():
        raise taken
    try:
        with transaction.atomic():
            user = user_model.objects.create_user(
                username=_username_for(email), email=email, password=password
            )
            client = Client.objects.create(kind=Client.Kind.ACCOUNT, plan=Plan.FREE)
            account = Account.objects.create(user=user, client=client)
            audit_record(
                action=AuditAction.ACCOUNT_SIGNED_UP,
                actor=AuditEvent.Actor.ACCOUNT,
                account_id=account.id,
                client_id=client.id,
                ip_hash=ip_hash,
            )
    except IntegrityError:
        # Two sign-ups racing for one address: the unique index on lower(email) decides.
        raise taken from None
    if anonymous_client_id:
        account_attach_client(account=account, client_id=anonymous_client_id)
    from backend.accounts.services.email_links import email_verification_send

    email_verification_send(account=account)
    from backend.analytics.events import capture

    capture("account_registered", distinct_id=str(account.client_id))
    return account, token_pair_for(user)


def account_login(
    *, email: str, password: str, ip_hash: str, anonymous_client_id: str | None = None
) -> tuple[Account, TokenPair]:
    """Check the password (throttled per account and per IP hash) and start a login."""
    email = normalise_email(email)
    account_key = hashlib.sha256(email.encode()).hexdigest()[:32]

    def failed(reason: str, *, account_id: Any = None, **details: str) -> None:
        audit_record(
            action=AuditAction.ACCOUNT_LOGIN_FAILED,
            actor=AuditEvent.Actor.ANONYMOUS,
            account_id=account_id,
            client_id=anonymous_client_id,
            ip_hash=ip_hash,
            metadata={"reason": reason, **details},
        )

    for key, limit, what, scope in (
        (
            f"login:ip:{ip_hash}",
            settings.ENV.ACCOUNT_LOGIN_IP_PER_MINUTE,
            "login attempts from your network",
            "network",
        ),
        (
            f"login:account:{account_key}",
            settings.ENV.ACCOUNT_LOGIN_PER_MINUTE,
            "login attempts for this account",
            "account",
        ),
    ):
        try:
            throttle(key=key, limit_per_minute=limit, what=what)
        except RateLimitedError:
            # Recorded too, but at most once a minute per throttle: a flood of refused
            # attempts must not become a flood of rows.
            if _first_this_minute(f"audit:{key}"):
                failed("throttled", throttle=scope)
            raise
    refused = UnauthorizedError("The email or password is not correct.")
    user_model = get_user_model()
    found = user_model.objects.filter(email__iexact=email).first()
    if found is None:
        failed("unknown_email")
        raise refused
    user = authenticate(username=found.get_username(), password=password)
    if user is None:
        failed(
            "bad_credentials",
            account_id=Account.objects.filter(user=found).values_list("id", flat=True).first(),
        )
        raise refused
    account = Account.objects.select_related("user").filter(user=user).first()
    if account is None:
        # Staff users made with createsuperuser sign in to the admin, not the API.
        failed("not_an_account")
        raise refused
    if anonymous_client_id:
        account_attach_client(account=account, client_id=anonymous_client_id)
    user_model.objects.filter(pk=user.pk).update(last_login=timezone.now())
    audit_record(
        action=AuditAction.ACCOUNT_LOGIN,
        actor=AuditEvent.Actor.ACCOUNT,
        account_id=account.id,
        client_id=account.client_id,
        ip_hash=ip_hash,
    )
    return account, token_pair_for(user)


def _first_this_minute(key: str) -> bool:
    try:
        throttle(key=key, limit_per_minute=1, what="audit records")
    except RateLimitedError:
        return False
    return True


def token_refresh(*, refresh: str) -> dict[str, Any]:
    """A new access token and a rotated refresh token; the old refresh is blacklisted."""
    invalid = UnauthorizedError("The refresh token is invalid, expired or logged out.")
    try:
        token = parse_refresh(refresh)
    except TokenError:
        raise invalid from None
    if token_revoked(jti="", sid=str(token.get(SID_CLAIM, ""))):
        raise invalid
    account = (
        Account.objects.select_related("user")
        .filter(user_id=token.get("user_id"), user__is_active=True)
        .first()
    )
    if account is None or not password_stamp_matches(token, account.user):
        raise invalid
    serializer = TokenRefreshSerializer(data={"refresh": refresh})
    try:
        serializer.is_valid(raise_exception=True)
    except (TokenError, AuthenticationFailed):
        # Blacklisted (already rotated or logged out), or the user was disabled meanwhile.
        raise invalid from None
    data = dict(serializer.validated_data)
    access = parse_access(data["access"])
    return {
        "access": data["access"],
        "refresh": data["refresh"],
        "access_expires_at": expiry_of(access),
        "refresh_expires_at": expiry_of(parse_refresh(data["refresh"])),
    }


def account_logout(*, account: Account, access: str | None, refresh: str | None) -> None:
    """End a login: blacklist the refresh token, refuse the access token (by ``jti``) and
    every access token of the same login (by ``sid``) until they expire."""
    now = timezone.now()
    refresh_lifetime: timedelta = settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"]  # type: ignore[assignment]
    if access:
        try:
            token = parse_access(access)
        except TokenError:
            token = None
        if token is not None and str(token.get("user_id")) == str(account.user_id):
            _revoke(RevokedToken.Kind.JTI, str(token["jti"]), expiry_of(token))
            if token.get(SID_CLAIM):
                _revoke(RevokedToken.Kind.SID, str(token[SID_CLAIM]), now + refresh_lifetime)
    if refresh:
        _end_refresh(account=account, refresh=refresh)
    audit_record(
        action=AuditAction.ACCOUNT_LOGOUT,
        actor=AuditEvent.Actor.ACCOUNT,
        account_id=account.id,
        client_id=account.client_id,
    )


def _end_refresh(*, account: Account, refresh: str) -> None:
    try:
        refresh_token = parse_refresh(refresh)
    except TokenError:
        return  # already expired or blacklisted: nothing left to end
    if str(refresh_token.get("user_id")) != str(account.user_id):
        raise ValidationError.for_field("refresh", "is not a token of this account")
    refresh_token.blacklist()
    if refresh_token.get(SID_CLAIM):
        _revoke(RevokedToken.Kind.SID, str(refresh_token[SID_CLAIM]), expiry_of(refresh_token))


def _revoke(kind: str, value: str, expires_at: Any) -> None:
    RevokedToken.objects.update_or_create(
        kind=kind, value=value, defaults={"expires_at": expires_at}
    )


def revoked_tokens_prune() -> int:
    """Forget refusals whose tokens have expired anyway (and simplejwt's expired records)."""
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    now = timezone.now()
    removed, _ = RevokedToken.objects.filter(expires_at__lte=now).delete()
    OutstandingToken.objects.filter(expires_at__lte=now).delete()
    return removed


def logout_everywhere(*, user: Any) -> None:
    """Blacklist every outstanding refresh token of the user (password reset, deletion)."""
    from rest_framework_simplejwt.token_blacklist.models import (
        BlacklistedToken,
        OutstandingToken,
    )

    for outstanding in OutstandingToken.objects.filter(user=user):
        BlacklistedToken.objects.get_or_create(token=outstanding)
