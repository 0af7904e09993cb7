"""Self-serve API keys: ``isk_`` keys owned by an account, acting as the account."""

from __future__ import annotations

from django.db import transaction

from backend.accounts.models import Account
from backend.audit.actions import AuditAction
from backend.audit.models import AuditEvent
from backend.audit.services import audit_record
from backend.clients.models import ApiKey, Plan
from backend.clients.services import api_key_create, api_key_revoke
from backend.core.errors import ConflictError

MAX_ACTIVE_KEYS = 20


@transaction.atomic
def account_api_key_create(*, account: Account, name: str) -> tuple[ApiKey, str]:
    """A new key; the raw key is returned once and only its hash is stored."""
    # One at a time per account, so the cap holds when requests race.
    Account.objects.select_for_update().filter(pk=account.pk).first()
    active = ApiKey.objects.filter(owner_id=account.user_id, revoked_at__isnull=True).count()
    if active >= MAX_ACTIVE_KEYS:
        raise ConflictError(
            f"An account may have at most {MAX_ACTIVE_KEYS} active API keys; revoke one first.",
            details={"active_keys": active},
        )
    # The key's plan is informational: an owned key always acts with the account's plan.
    key, raw = api_key_create(name=name, plan=Plan.FREE, owner=account.user)
    _audit_key(AuditAction.API_KEY_CREATED, account=account, key=key)
    return key, raw


@transaction.atomic
def account_api_key_revoke(*, account: Account, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is not None:
        return api_key  # revoked before: nothing happens, nothing to record
    revoked = api_key_revoke(api_key=api_key)
    _audit_key(AuditAction.API_KEY_REVOKED, account=account, key=revoked)
    return revoked


def _audit_key(action: AuditAction, *, account: Account, key: ApiKey) -> None:
    # The key's id and public prefix name it; the key itself is never recorded.
    audit_record(
        action=action,
        actor=AuditEvent.Actor.ACCOUNT,
        account_id=account.id,
        client_id=account.client_id,
        target_type="clients.apikey",
        target_id=key.id,
        metadata={"key_prefix": key.prefix},
    )
