"""Self-serve API keys: created (shown once), listed, revoked; a key acts as its account."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from backend.clients.models import ApiKey
from backend.clients.services import api_key_create
from tests.backend.accounts.conftest import signed_in

pytestmark = pytest.mark.django_db
KEYS = "/api/accounts/api-keys/"


def with_key(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_someone_elses_key_cannot_be_listed_or_revoked(account_client, make_account):
    _, other_tokens = make_account("bob@example.com")
    theirs = signed_in(other_tokens).post(KEYS, {"name": "bob's"}, format="json").json()
    assert account_client.get(KEYS).json() == []
    response = account_client.delete(f"{KEYS}{theirs['id']}/")
    assert response.status_code == 404
    assert account_client.delete(f"{KEYS}{uuid.uuid4()}/").status_code == 404
    assert account_client.delete(f"{KEYS}not-a-uuid/").status_code == 404
    # Neither is a service key made by staff.
    service, _ = api_key_create(name="service")
    assert account_client.delete(f"{KEYS}{service.id}/").status_code == 404
    assert ApiKey.objects.filter(revoked_at__isnull=False).count() == 0


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "x" * 101}])
def test_a_key_needs_a_name(account_client, body):
    response = account_client.post(KEYS, body, format="json")
    assert response.status_code == 400
    assert "name" in response.json()["error"]["details"]["fields"]


def test_create_shows_the_key_once_and_it_acts_as_the_account(account_client):
    created = account_client.post(KEYS, {"name": "ci"}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["key"].startswith("isk_") and body["key"].startswith(body["prefix"])
    listed = account_client.get(KEYS).json()
    assert [k["id"] for k in listed] == [body["id"]]
    assert "key" not in listed[0]
    assert ApiKey.objects.get().key_hash not in str(listed)

    me = with_key(body["key"]).get("/api/clients/me/").json()
    account = account_client.account
    assert me["client_id"] == str(account.client_id)
    assert me["via"] == "api_key" and me["api_key_id"] == body["id"]
    assert with_key(body["key"]).get("/api/accounts/me/").json()["id"] == str(account.id)


def test_a_revoked_key_is_refused(account_client):
    body = account_client.post(KEYS, {"name": "ci"}, format="json").json()
    revoked = account_client.delete(f"{KEYS}{body['id']}/")
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    response = with_key(body["key"]).get("/api/clients/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"


def test_an_account_may_hold_a_bounded_number_of_active_keys(account_client, monkeypatch):
    from backend.accounts.services import api_keys

    monkeypatch.setattr(api_keys, "MAX_ACTIVE_KEYS", 2)
    for index in range(2):
        assert account_client.post(KEYS, {"name": f"k{index}"}, format="json").status_code == 201
    refused = account_client.post(KEYS, {"name": "k3"}, format="json")
    assert refused.status_code == 409
    first = account_client.get(KEYS).json()[0]["id"]
    account_client.delete(f"{KEYS}{first}/")
    assert account_client.post(KEYS, {"name": "k3"}, format="json").status_code == 201
