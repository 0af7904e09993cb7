from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone

from backend.clients.identity import API_KEY_PREFIX, client_token_for, hash_api_key
from backend.clients.models import ApiKey, Client, Plan
from backend.core.errors import NotFoundError


def client_create(*, ip_hash: str) -> tuple[Client, str]:
    """A new anonymous client and its signed token."""
    client = Client.objects.create(created_ip_hash=ip_hash)
    return client, client_token_for(str(client.id))


@transaction.atomic
def api_key_create(*, name: str, plan: str = Plan.FREE, owner: Any = None) -> tuple[ApiKey, str]:
    """Create a key with its own client; returns the raw key, which is never stored.

    A key with an ``owner`` (a user with an account) acts as that account instead.
    """
    raw = API_KEY_PREFIX + secrets.token_urlsafe(32)
    client = Client.objects.create(kind=Client.Kind.API_KEY, plan=plan)
    key = ApiKey.objects.create(
        client=client,
        name=name,
        prefix=raw[:12],
        key_hash=hash_api_key(raw),
        plan=plan,
        owner=owner,
    )
    return key, raw


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


def client_get(*, client_id: str) -> Client:
    client = Client.objects.filter(pk=client_id).first()
    if client is None:
        raise NotFoundError("No such client.")
    return client


def client_approvals_set(
    *, client_id: str, mode: str | None = None, threshold_usd: Any = ...
) -> Client:
    """Change what the agent asks before (``threshold_usd`` None: back to the default;
    left out: unchanged)."""
    client = client_get(client_id=client_id)
    fields = []
    if mode is not None:
        client.approvals = mode
        fields.append("approvals")
    if threshold_usd is not ...:
        client.approval_threshold_usd = threshold_usd
        fields.append("approval_threshold_usd")
    if fields:
        client.save(update_fields=fields)
    return client
