"""Staff actions in Django admin, mirrored from its ``LogEntry`` rows into the trail.

Django writes a ``LogEntry`` for every add, change and delete made in the admin, inside
the admin view's transaction. A single entry is saved (``post_save`` here); several at
once (the "delete selected" action) go in with ``bulk_create``, which sends no signal, so
that action is wrapped to record its entries too. Only field names travel (never values,
nor the object's ``__str__``, which may be an email address).
"""

from __future__ import annotations

import functools
import json
from typing import Any

from django.contrib import admin
from django.contrib.admin import actions as admin_actions
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.db import transaction
from django.db.models import Max
from django.db.models.signals import post_save
from django.http import HttpRequest

from backend.audit.actions import AuditAction
from backend.audit.models import AuditEvent
from backend.audit.services import audit_record
from backend.audit.targets import account_of_target

_ACTIONS = {
    ADDITION: AuditAction.ADMIN_ADDED,
    CHANGE: AuditAction.ADMIN_CHANGED,
    DELETION: AuditAction.ADMIN_DELETED,
}
MAX_FIELDS = 30


def _changed_fields(change_message: str) -> list[str]:
    """Field and inline names from the entry's JSON change message (no values, no object
    names)."""
    try:
        parts = json.loads(change_message or "[]")
    except ValueError:
        return []
    names: set[str] = set()
    for part in parts if isinstance(parts, list) else []:
        for detail in part.values() if isinstance(part, dict) else []:
            if not isinstance(detail, dict):
                continue
            names.update(str(field) for field in detail.get("fields") or [])
            if detail.get("name"):
                names.add(f"inline:{detail['name']}")
    return sorted(names)[:MAX_FIELDS]


def _label(entry: LogEntry) -> str:
    content_type = entry.content_type
    return f"{content_type.app_label}.{content_type.model}" if content_type else ""


def audit_admin_entry(*, entry: LogEntry, account_id: str | None = None) -> AuditEvent | None:
    """The audit event of one admin ``LogEntry``; ``account_id`` when already resolved
    (the object may be gone by now)."""
    action = _ACTIONS.get(entry.action_flag)
    if action is None:
        return None
    label, object_id = _label(entry), str(entry.object_id or "")
    metadata: dict[str, Any] = {}
    fields = _changed_fields(entry.change_message)
    if fields:
        metadata["fields"] = fields
    return audit_record(
        action=action,
        actor=AuditEvent.Actor.STAFF,
        staff_user_id=entry.user_id,
        account_id=account_id or account_of_target(model_label=label, object_id=object_id),
        target_type=label,
        target_id=object_id,
        metadata=metadata,
    )


def _on_log_entry_saved(sender: Any, instance: LogEntry, created: bool, **kwargs: Any) -> None:
    if created and not kwargs.get("raw"):
        audit_admin_entry(entry=instance)


def _audited_delete_selected(original: Any) -> Any:
    @functools.wraps(original)
    def delete_selected(modeladmin: Any, request: HttpRequest, queryset: Any) -> Any:
        confirmed = bool(request.POST.get("post"))
        label = queryset.model._meta.label_lower
        accounts: dict[str, str | None] = {}
        before = 0
        if confirmed:
            # Which accounts the objects belong to, while they still exist.
            accounts = {
                str(pk): account_of_target(model_label=label, object_id=str(pk))
                for pk in queryset.values_list("pk", flat=True)
            }
            before = LogEntry.objects.aggregate(last=Max("pk"))["last"] or 0
        # The entries, the deletion and their audit events commit together.
        with transaction.atomic():
            response = original(modeladmin, request, queryset)
            if confirmed:
                entries = list(
                    LogEntry.objects.filter(
                        pk__gt=before, user_id=request.user.pk or 0, action_flag=DELETION
                    ).order_by("pk")
                )
                # One entry was saved (post_save recorded it); several were bulk-created.
                if len(entries) > 1:
                    for entry in entries:
                        audit_admin_entry(
                            entry=entry, account_id=accounts.get(str(entry.object_id))
                        )
        return response

    return delete_selected


def connect() -> None:
    post_save.connect(_on_log_entry_saved, sender=LogEntry, dispatch_uid="audit_admin_log")
    site = admin.site
    actions: dict[str, Any] = dict(site.actions)  # type: ignore[arg-type]
    current = actions.get("delete_selected", admin_actions.delete_selected)
    if not getattr(current, "_audited", False):
        wrapped = _audited_delete_selected(current)
        wrapped._audited = True  # type: ignore[attr-defined]
        site.add_action(wrapped, "delete_selected")
