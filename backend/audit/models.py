"""``AuditEvent``: one row per security- or money-relevant action, never changed once written.

Append-only through the ORM: saving a row that exists, ``Model.delete()``, and a
queryset's ``update()`` / ``delete()`` (so ``bulk_update`` and ``update_or_create`` on an
existing row too) raise ``AppendOnlyError``. Two writes are sanctioned, each a named
queryset method used by one service: ``retention_delete`` (rows past
``AUDIT_RETENTION_DAYS``) and ``identity_redact`` (an account's deletion forgets the
client ids and IP hashes of its rows; the account id, the action and its time stay).

No foreign keys: a row outlives the account, client, user or object it names.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone


class AppendOnlyError(Exception):
    """An audit event was about to be changed or deleted outside retention and redaction."""

    def __init__(self, what: str) -> None:
        super().__init__(f"Audit events are append-only: {what} is not allowed.")


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("update()")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("delete() (rows go only by retention)")

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if kwargs.get("update_conflicts"):
            raise AppendOnlyError("bulk_create(update_conflicts=True)")
        return super().bulk_create(objs, *args, **kwargs)

    # The two sanctioned writes (``backend.audit.services``).

    def retention_delete(self) -> int:
        """Delete these rows (the retention job only)."""
        deleted, _ = super().delete()
        return deleted

    def identity_redact(self) -> int:
        """Forget who these rows point at beyond the account id (an account's deletion)."""
        return super().update(client_id="", ip_hash="")


class AuditEvent(models.Model):
    """Who (``actor`` with the account, client or staff user), did what (``action``), to
    what (``target_type`` / ``target_id``), when, from where (``ip_hash``: the project's
    salted network-address hash, never an address) and in which request (``request_id``,
    the ``X-Request-ID`` of the response).

    ``account_id`` is the account the event belongs to: the one that acted, or the one
    acted on (a failed login's, a staff change's, a Stripe-driven plan change's). The
    account's export lists its rows. ``metadata`` is small and never holds a secret
    (no password, token, key or webhook secret; a key's id and prefix are fine) nor an
    email address.
    """

    class Actor(models.TextChoices):
        ACCOUNT = "account", "Signed-in account"
        CLIENT = "client", "Client (its token, an API key or an account's)"
        ANONYMOUS = "anonymous", "Unauthenticated caller"
        STAFF = "staff", "Staff (Django admin)"
        SYSTEM = "system", "System (Stripe, jobs)"

    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    action = models.CharField(max_length=64)
    actor = models.CharField(max_length=16, choices=Actor.choices)
    account_id = models.UUIDField(null=True, blank=True)
    client_id = models.CharField(max_length=64, blank=True, db_index=True)
    staff_user_id = models.BigIntegerField(null=True, blank=True)
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    ip_hash = models.CharField(max_length=64, blank=True)
    request_id = models.CharField(max_length=128, blank=True)
    metadata = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["account_id", "created_at"], name="audit_account_time"),
            models.Index(fields=["action", "created_at"], name="audit_action_time"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} ({self.actor})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("saving an existing row")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("delete()")
