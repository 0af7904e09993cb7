"""The account's export lists its audit events; its deletion keeps them, with the account
id as the only who."""

from __future__ import annotations

import pytest

from backend.accounts.models import Account
from backend.audit.actions import AuditAction
from backend.audit.models import AuditEvent
from tests.backend.audit.conftest import PASSWORD, events, local_ip_hash, one, register

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_export_includes_the_accounts_events_and_is_recorded(api_client, settings):
    tokens = register(api_client, "ada@example.com").json()["tokens"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    api_client.post("/api/accounts/api-keys/", {"name": "ci"}, format="json")
    other = register(api_client.__class__(), "bob@example.com")
    assert other.status_code == 201
    first = api_client.get("/api/accounts/export/")
    assert first.status_code == 200
    exported = first.json()["audit_events"]
    assert [e["action"] for e in exported] == [
        AuditAction.ACCOUNT_SIGNED_UP,
        AuditAction.API_KEY_CREATED,
    ]  # bob's sign-up is not ada's
    assert exported[1]["metadata"]["key_prefix"].startswith("isk_")
    assert exported[0]["ip_hash"] == local_ip_hash()
    account = Account.objects.get(user__email="ada@example.com")
    assert one(AuditAction.ACCOUNT_EXPORTED).account_id == account.id
    again = api_client.get("/api/accounts/export/").json()["audit_events"]
    assert again[-1]["action"] == AuditAction.ACCOUNT_EXPORTED


def test_deletion_keeps_the_events_but_forgets_clients_and_ip_hashes(api_client, settings):
    settings.DEBUG = True
    anonymous = api_client.post("/api/clients/").json()
    anon_id = anonymous["client_id"]
    api_client.credentials(HTTP_X_CLIENT_TOKEN=anonymous["token"])
    session = api_client.post("/api/chat/sessions/", {}, format="json").json()
    api_client.patch(
        f"/api/chat/sessions/{session['id']}/",
        {"webhook_url": "http://localhost:9999/hook"},
        format="json",
    )
    # Signing up with the anonymous client brings its history along.
    tokens = register(api_client, "ada@example.com").json()["tokens"]
    account = Account.objects.get()
    signed_in = api_client.__class__()
    signed_in.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    signed_in.post("/api/accounts/api-keys/", {"name": "ci"}, format="json")
    bystander = AuditEvent.objects.create(
        action=AuditAction.ACCOUNT_LOGIN, actor="account", client_id="someone", ip_hash="abc"
    )
    exported = signed_in.get("/api/accounts/export/").json()["audit_events"]
    assert [e["action"] for e in exported] == [
        AuditAction.WEBHOOK_SET,  # by the anonymous client, before it joined the account
        AuditAction.ACCOUNT_SIGNED_UP,
        AuditAction.API_KEY_CREATED,
    ]
    before = AuditEvent.objects.count()

    response = signed_in.delete("/api/accounts/me/", {"password": PASSWORD}, format="json")

    assert response.status_code == 204, response.content
    assert not Account.objects.exists()
    assert AuditEvent.objects.count() == before + 1  # nothing deleted, the deletion added
    deleted = one(AuditAction.ACCOUNT_DELETED)
    assert (deleted.account_id, deleted.ip_hash, deleted.client_id) == (account.id, "", "")
    assert deleted.request_id == response["X-Request-ID"]
    theirs = AuditEvent.objects.exclude(pk=bystander.pk)
    assert {(e.ip_hash, e.client_id) for e in theirs} == {("", "")}
    assert events(AuditAction.WEBHOOK_SET)[0].target_id == session["id"]  # still the record
    assert all(e.account_id == account.id for e in theirs if e.action != AuditAction.WEBHOOK_SET)
    bystander.refresh_from_db()
    assert (bystander.client_id, bystander.ip_hash) == ("someone", "abc")
    assert anon_id not in {e.client_id for e in AuditEvent.objects.all()}
