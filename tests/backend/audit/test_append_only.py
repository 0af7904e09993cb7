"""Audit events cannot be changed or deleted through the ORM, nor in Django admin; metadata
refuses secrets."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction

from backend.audit.actions import AuditAction
from backend.audit.models import AppendOnlyError, AuditEvent
from backend.audit.services import audit_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def event() -> AuditEvent:
    return audit_record(
        action=AuditAction.ACCOUNT_LOGIN,
        actor=AuditEvent.Actor.ACCOUNT,
        client_id="c-1",
        metadata={"n": 1},
    )


def test_a_saved_event_cannot_be_saved_again(event):
    event.action = "account.something_else"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.get(pk=event.pk).save(update_fields=["action"])
    assert AuditEvent.objects.get(pk=event.pk).action == AuditAction.ACCOUNT_LOGIN


def test_querysets_refuse_update_and_delete(event):
    rows = AuditEvent.objects.filter(pk=event.pk)
    attempts = [
        lambda: rows.update(action="x"),
        lambda: AuditEvent.objects.update(ip_hash=""),
        lambda: AuditEvent.objects.bulk_update([event], ["action"]),
        lambda: AuditEvent.objects.update_or_create(pk=event.pk, defaults={"action": "x"}),
        lambda: rows.delete(),
        lambda: event.delete(),
        lambda: AuditEvent.objects.bulk_create(
            [AuditEvent(action="x", actor="system")],
            update_conflicts=True,
            unique_fields=["id"],
            update_fields=["action"],
        ),
    ]
    for attempt in attempts:
        # Each in its own savepoint: a refusal inside Django's own atomic block (bulk_update,
        # update_or_create) marks the enclosing transaction for rollback.
        with pytest.raises(AppendOnlyError), transaction.atomic():
            attempt()
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.action, stored.client_id, stored.metadata) == (
        AuditAction.ACCOUNT_LOGIN,
        "c-1",
        {"n": 1},
    )


@pytest.mark.parametrize("key", ["password", "token", "key", "email", "webhook_secret"])
def test_metadata_never_takes_a_secret_or_an_address(key):
    with pytest.raises(ValueError, match=key):
        audit_record(action=AuditAction.ACCOUNT_LOGIN, actor="account", metadata={key: "hunter2"})
    assert not AuditEvent.objects.exists()


def test_metadata_stays_small():
    with pytest.raises(ValueError, match="bytes"):
        audit_record(action=AuditAction.ACCOUNT_LOGIN, actor="account", metadata={"n": "x" * 5000})


def test_outside_a_request_no_request_id_or_ip_hash_is_made_up():
    event = audit_record(action=AuditAction.PLAN_CHANGED, actor="system")
    assert (event.ip_hash, event.request_id) == ("", "")


# --- Django admin -------------------------------------------------------------------------


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_superuser("ops", "ops@example.com", "x")
    client.force_login(user)
    return client


def test_admin_lists_and_shows_events_but_cannot_add_change_or_delete(staff_client, event):
    base = "/admin/audit/auditevent/"
    listing = staff_client.get(base)
    assert listing.status_code == 200
    assert AuditAction.ACCOUNT_LOGIN in listing.content.decode()
    assert "delete_selected" not in listing.content.decode()
    detail = staff_client.get(f"{base}{event.pk}/change/")
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()
    assert staff_client.get(f"{base}add/").status_code == 403
    changed = staff_client.post(
        f"{base}{event.pk}/change/", {"action": "x", "actor": "staff", "metadata": "{}"}
    )
    assert changed.status_code == 403
    assert staff_client.post(f"{base}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    bulk = staff_client.post(
        base, {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"}
    )
    assert bulk.status_code in (200, 302)
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.action == AuditAction.ACCOUNT_LOGIN
