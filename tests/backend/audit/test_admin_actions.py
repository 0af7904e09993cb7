"""Staff actions in Django admin become audit events (from admin's own LogEntry): who, on
what, which fields — never the values or the object's name."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from backend.accounts.models import RevokedToken
from backend.audit.actions import AuditAction
from backend.audit.models import AuditEvent
from backend.payments.models import CreditEntry
from tests.backend.audit.conftest import as_text, events, local_ip_hash, one

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = get_user_model().objects.create_superuser("ops", "ops@example.com", "x")
    client.force_login(user)
    client.user = user
    return client


def tokens(n: int) -> list[RevokedToken]:
    later = timezone.now() + timedelta(hours=1)
    return [
        RevokedToken.objects.create(kind="jti", value=f"v{i}", expires_at=later) for i in range(n)
    ]


def test_a_staff_credit_adjustment_is_recorded_on_the_accounts_trail(staff, make_account):
    account, _ = make_account("ada@example.com")
    response = staff.post(
        "/admin/payments/creditentry/add/",
        {"account": str(account.pk), "amount_usd": "5", "note": "goodwill"},
        headers={"X-Request-ID": "req-admin-1"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = CreditEntry.objects.get(kind=CreditEntry.Kind.ADJUSTMENT)
    event = one(AuditAction.ADMIN_ADDED)
    assert (event.actor, event.staff_user_id) == (AuditEvent.Actor.STAFF, staff.user.pk)
    assert (event.target_type, event.target_id) == ("payments.creditentry", str(entry.pk))
    assert event.account_id == account.id
    assert (event.request_id, event.ip_hash) == ("req-admin-1", local_ip_hash())


def test_a_staff_change_to_a_user_names_the_fields_not_the_values(staff, make_account):
    account, _ = make_account("ada@example.com")
    user = account.user
    response = staff.post(
        f"/admin/auth/user/{user.pk}/change/",
        {
            "username": user.username,
            "email": "changed@example.com",
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "account-TOTAL_FORMS": "1",
            "account-INITIAL_FORMS": "1",
            "account-MIN_NUM_FORMS": "0",
            "account-MAX_NUM_FORMS": "1",
            "account-0-id": str(account.pk),
            "account-0-user": str(user.pk),
            "account-0-plan": "pro",
            "account-0-email_verified_at_0": "",
            "account-0-email_verified_at_1": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    event = one(AuditAction.ADMIN_CHANGED)
    assert (event.target_type, event.target_id, event.account_id) == (
        "auth.user",
        str(user.pk),
        account.id,
    )
    assert "inline:account" in event.metadata["fields"]
    assert "changed@example.com" not in as_text(event)
    assert "ada@example.com" not in as_text(event)


def test_deletions_are_recorded_one_by_one_and_in_bulk_exactly_once(staff):
    single, *bulk = tokens(3)
    changelist = "/admin/accounts/revokedtoken/"
    assert staff.post(f"{changelist}{single.pk}/delete/", {"post": "yes"}).status_code == 302
    assert [e.target_id for e in events(AuditAction.ADMIN_DELETED)] == [str(single.pk)]
    response = staff.post(
        changelist,
        {"action": "delete_selected", "_selected_action": [t.pk for t in bulk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not RevokedToken.objects.exists()
    deleted = events(AuditAction.ADMIN_DELETED)
    assert sorted(e.target_id for e in deleted) == sorted(str(t.pk) for t in [single, *bulk])
    assert {(e.staff_user_id, e.target_type) for e in deleted} == {
        (staff.user.pk, "accounts.revokedtoken")
    }
    # One selected object is logged with a plain save: recorded once, not twice.
    [last] = tokens(1)
    staff.post(
        changelist, {"action": "delete_selected", "_selected_action": [last.pk], "post": "yes"}
    )
    assert [e.target_id for e in events(AuditAction.ADMIN_DELETED)].count(str(last.pk)) == 1


def test_the_confirmation_page_records_nothing(staff):
    [token] = tokens(1)
    page = staff.post(
        "/admin/accounts/revokedtoken/",
        {"action": "delete_selected", "_selected_action": [token.pk]},
    )
    assert page.status_code == 200
    assert RevokedToken.objects.exists()
    assert not AuditEvent.objects.exists()
