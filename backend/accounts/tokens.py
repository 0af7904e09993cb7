"""JWTs for accounts (simplejwt) and the signed links sent by email.

Every login gets a session id (``sid``) claim, copied from the refresh token into each
access token it mints; logout refuses the access token by ``jti`` and the whole login by
``sid`` until they expire, and blacklists the refresh token.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password

SID_CLAIM = "sid"


@dataclass(frozen=True, kw_only=True)
class TokenPair:
    access: str
    refresh: str
    access_expires_at: datetime
    refresh_expires_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "access": self.access,
            "refresh": self.refresh,
            "access_expires_at": self.access_expires_at,
            "refresh_expires_at": self.refresh_expires_at,
        }


def expiry_of(token: Any) -> datetime:
    return datetime.fromtimestamp(int(token["exp"]), tz=UTC)


def token_pair_for(user: AbstractBaseUser) -> TokenPair:
    """A new login: a refresh token (recorded as outstanding) and its first access token."""
    refresh = RefreshToken.for_user(user)
    refresh[SID_CLAIM] = uuid.uuid4().hex
    access = refresh.access_token
    return TokenPair(
        access=str(access),
        refresh=str(refresh),
        access_expires_at=expiry_of(access),
        refresh_expires_at=expiry_of(refresh),
    )


def password_stamp_matches(token: Any, user: AbstractBaseUser) -> bool:
    """Tokens carry a hash of the password they were issued under: a reset ends them."""
    claim = jwt_settings.REVOKE_TOKEN_CLAIM
    return bool(token.get(claim) == get_md5_hash_password(user.password))


def parse_access(raw: str) -> AccessToken:
    """Raises rest_framework_simplejwt.exceptions.TokenError if invalid or expired."""
    return AccessToken(raw)  # type: ignore[arg-type]


def parse_refresh(raw: str) -> RefreshToken:
    return RefreshToken(raw)  # type: ignore[arg-type]


# --- Links sent by email ---------------------------------------------------------------


class EmailVerificationTokenGenerator(PasswordResetTokenGenerator):
    """Like the reset token, but salted apart and spent once the address is verified."""

    key_salt = "insightstream.accounts.EmailVerificationTokenGenerator"

    def _make_hash_value(self, user: AbstractBaseUser, timestamp: int) -> str:
        account = getattr(user, "account", None)
        verified = getattr(account, "email_verified_at", None)
        verified_stamp = "" if verified is None else verified.replace(microsecond=0).isoformat()
        email = getattr(user, "email", "")
        return f"{user.pk}{email}{verified_stamp}{timestamp}"


email_verification_tokens = EmailVerificationTokenGenerator()
password_reset_tokens = default_token_generator


def uid_for(user: AbstractBaseUser) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


def user_pk_from_uid(uid: str) -> str | None:
    try:
        return force_str(urlsafe_base64_decode(uid))
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError):
        return None
