"""Email verification and password reset by emailed link (Django's signed, expiring tokens).

Links point at the web app (``PUBLIC_URL``), whose pages post the ``uid`` and ``token`` back
to the API. They never take the request's Host header: where ``ALLOWED_HOSTS`` admits a
forged one, a reset mail would send its victim (and the token) to another site. Production
refuses to start without ``PUBLIC_URL``; the embedded default falls back to its own
address. Mail goes out after the transaction commits, through the task runner.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import structlog
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth import password_validation as validators
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone

from backend.accounts.models import Account
from backend.accounts.tokens import (
    email_verification_tokens,
    password_reset_tokens,
    uid_for,
    user_pk_from_uid,
)
from backend.audit.actions import AuditAction
from backend.audit.models import AuditEvent
from backend.audit.services import audit_record
from backend.core.errors import ValidationError

logger = structlog.get_logger(__name__)

VERIFY_PATH = "/account/verify-email/"
RESET_PATH = "/account/reset-password/"


def public_base_url() -> str:
    """Where links in mail and payment returns point: ``PUBLIC_URL``, else (embedded
    default only; production requires it) the address this server listens on."""
    env = settings.ENV
    if env.PUBLIC_URL:
        return env.PUBLIC_URL.rstrip("/")
    host = "localhost" if env.HOST in ("0.0.0.0", "::", "") else env.HOST  # noqa: S104
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{env.PORT}"


def _link(path: str, *, uid: str, token: str) -> str:
    return f"{public_base_url()}{path}?{urlencode({'uid': uid, 'token': token})}"


def _send(*, to: str, subject: str, body: str) -> None:
    from backend.accounts.tasks import send_email
    from backend.core.task_runner import enqueue_on_commit

    enqueue_on_commit(send_email, to, subject, body)


def email_send_now(*, to: str, subject: str, body: str) -> None:
    from django.core.mail import send_mail

    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to])
    logger.info("email_sent", subject=subject)


def email_verification_send(*, account: Account) -> None:
    if account.email_verified_at is not None:
        return
    user = account.user
    link = _link(
        VERIFY_PATH,
        uid=uid_for(user),
        token=email_verification_tokens.make_token(user),
    )
    _send(
        to=account.email,
        subject="Confirm your InsightStream email address",
        body=(
            "Welcome to InsightStream.\n\n"
            f"Confirm your email address by opening this link:\n{link}\n\n"
            "If you did not sign up, ignore this message."
        ),
    )


def _user_from(uid: str, token: str, generator: object) -> Any:
    invalid = ValidationError.for_field("token", "this link is invalid or has expired")
    pk = user_pk_from_uid(uid)
    user_model = get_user_model()
    user = None
    if pk is not None:
        try:
            user = user_model.objects.select_related("account").filter(pk=pk).first()
        except (ValueError, TypeError):
            user = None
    if user is None or not generator.check_token(user, token):  # type: ignore[attr-defined]
        raise invalid
    return user


@transaction.atomic
def email_verify(*, uid: str, token: str) -> Account:
    user = _user_from(uid, token, email_verification_tokens)
    account: Account = user.account  # type: ignore[attr-defined]
    if account.email_verified_at is None:
        _mark_verified(account, via="verification_link")
    return account


def _mark_verified(account: Account, *, via: str) -> None:
    account.email_verified_at = timezone.now()
    account.save(update_fields=["email_verified_at"])
    audit_record(
        action=AuditAction.EMAIL_VERIFIED,
        actor=AuditEvent.Actor.ACCOUNT,
        account_id=account.id,
        client_id=account.client_id,
        metadata={"via": via},
    )


def password_reset_request(*, email: str) -> None:
    """Mail a reset link if an account has this address; the answer never says whether."""
    from backend.accounts.services.auth import normalise_email

    user = (
        get_user_model()
        .objects.filter(email__iexact=normalise_email(email), is_active=True)
        .first()
    )
    account = Account.objects.filter(user=user).first() if user is not None else None
    audit_record(
        action=AuditAction.PASSWORD_RESET_REQUESTED,
        actor=AuditEvent.Actor.ANONYMOUS,
        account_id=account.id if account is not None else None,
        metadata={"known_address": account is not None},
    )
    if user is None or account is None:
        logger.info("password_reset_unknown_email")
        return
    link = _link(RESET_PATH, uid=uid_for(user), token=password_reset_tokens.make_token(user))
    _send(
        to=str(user.email),
        subject="Reset your InsightStream password",
        body=(
            f"Set a new password by opening this link:\n{link}\n\n"
            "The link works once. If you did not ask for it, ignore this message."
        ),
    )


@transaction.atomic
def password_reset_confirm(*, uid: str, token: str, password: str) -> Account:
    """Set the new password (validated); the link is spent, and every login ends."""
    from backend.accounts.services.auth import logout_everywhere

    user = _user_from(uid, token, password_reset_tokens)
    try:
        validators.validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise ValidationError(
            f"password: {exc.messages[0]}", details={"fields": {"password": exc.messages}}
        ) from None
    user.set_password(password)  # type: ignore[attr-defined]
    user.save(update_fields=["password"])  # type: ignore[attr-defined]
    logout_everywhere(user=user)
    account: Account = user.account  # type: ignore[attr-defined]
    audit_record(
        action=AuditAction.PASSWORD_RESET_COMPLETED,
        actor=AuditEvent.Actor.ACCOUNT,
        account_id=account.id,
        client_id=account.client_id,
    )
    # Following the emailed link proves the address too.
    if account.email_verified_at is None:
        _mark_verified(account, via="password_reset_link")
    return account
