import pytest
from django.test import RequestFactory
from rest_framework.test import APIClient

from backend.clients.identity import client_token_for, ip_hash
from backend.clients.models import ApiKey, Client
from backend.clients.services import api_key_create, api_key_revoke

pytestmark = pytest.mark.django_db


def test_mint_token_sets_httponly_lax_cookie(api_client):
    response = api_client.post("/api/clients/")
    assert response.status_code == 201
    body = response.json()
    assert body["plan"] == "anonymous"
    cookie = response.cookies["insightstream_client"]
    assert cookie.value == body["token"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    client = Client.objects.get(pk=body["client_id"])
    assert len(client.created_ip_hash) == 32
    assert "127.0.0.1" not in client.created_ip_hash


def test_me_requires_credentials(api_client):
    response = api_client.get("/api/clients/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"


def test_me_with_header_token(api_client):
    token = api_client.post("/api/clients/").json()["token"]
    fresh = APIClient()
    response = fresh.get("/api/clients/me/", HTTP_X_CLIENT_TOKEN=token)
    assert response.status_code == 200
    assert response.json()["via"] == "header"
    assert response.json()["account_id"] is None  # anonymous


def test_me_with_cookie(api_client):
    api_client.post("/api/clients/")  # the test client keeps the cookie
    response = api_client.get("/api/clients/me/")
    assert response.status_code == 200
    assert response.json()["via"] == "cookie"


@pytest.mark.parametrize("token", ["garbage", client_token_for("not-a-uuid") + "x"])
def test_forged_or_bad_token_is_401(api_client, token):
    response = api_client.get("/api/clients/me/", HTTP_X_CLIENT_TOKEN=token)
    assert response.status_code == 401
    assert "POST /api/clients/" in response.json()["error"]["message"]


def test_token_for_a_deleted_client_is_401(api_client):
    body = api_client.post("/api/clients/").json()
    Client.objects.filter(pk=body["client_id"]).delete()
    response = APIClient().get("/api/clients/me/", HTTP_X_CLIENT_TOKEN=body["token"])
    assert response.status_code == 401


class TestApiKeys:
    def test_key_is_shown_once_and_stored_hashed(self):
        key, raw = api_key_create(name="ci", plan="paid")
        assert raw.startswith("isk_")
        stored = ApiKey.objects.get(pk=key.pk)
        assert raw not in (stored.key_hash, stored.prefix)
        assert stored.prefix == raw[:12]

    def test_bearer_key_identifies_its_own_client_and_plan(self, api_client):
        key, raw = api_key_create(name="ci", plan="paid")
        response = api_client.get("/api/clients/me/", HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert response.status_code == 200
        body = response.json()
        assert body == {
            "client_id": str(key.client_id),
            "plan": "paid",
            "via": "api_key",
            "api_key_id": str(key.id),
            "account_id": None,  # a staff-made key belongs to no account
        }

    @pytest.mark.parametrize("header", ["Bearer isk_unknown", "Basic abc", "Bearer not-a-key"])
    def test_unknown_or_malformed_key_is_401(self, api_client, header):
        response = api_client.get("/api/clients/me/", HTTP_AUTHORIZATION=header)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "UNAUTHORIZED"

    def test_revoked_key_is_401(self, api_client):
        key, raw = api_key_create(name="old")
        api_key_revoke(api_key=key)
        response = api_client.get("/api/clients/me/", HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert response.status_code == 401
        assert "revoked" in response.json()["error"]["message"]

    def test_management_command_prints_key_once(self, capsys):
        from django.core.management import call_command

        call_command("create_api_key", "--name", "cli", "--plan", "free")
        raw = capsys.readouterr().out.strip().splitlines()[-1]
        assert raw.startswith("isk_")
        response = APIClient().get("/api/clients/me/", HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert response.json()["plan"] == "free"


def test_cookie_auth_on_unsafe_request_needs_custom_header():
    from rest_framework import exceptions
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from backend.clients.authentication import ClientAuthentication
    from backend.clients.services import client_create

    _, token = client_create(ip_hash="x")
    factory = APIRequestFactory()
    raw = factory.post("/api/anything/")
    raw.COOKIES["insightstream_client"] = token
    with pytest.raises(exceptions.PermissionDenied, match="X-Requested-With"):
        ClientAuthentication().authenticate(Request(raw))
    raw = factory.post("/api/anything/", HTTP_X_REQUESTED_WITH="fetch")
    raw.COOKIES["insightstream_client"] = token
    _, identity = ClientAuthentication().authenticate(Request(raw))
    assert identity.via == "cookie"


class TestIpHash:
    def test_forwarded_for_ignored_from_untrusted_peer(self, env):
        env(TRUSTED_PROXIES=[])
        rf = RequestFactory()
        direct = rf.get("/", REMOTE_ADDR="10.0.0.1")
        spoofed = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4")
        assert ip_hash(direct) == ip_hash(spoofed)

    def test_forwarded_for_honoured_from_trusted_proxy(self, env):
        env(TRUSTED_PROXIES=["10.0.0.1"])
        rf = RequestFactory()
        a = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4")
        b = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="5.6.7.8")
        spoof = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="9.9.9.9, 1.2.3.4")
        assert ip_hash(a) != ip_hash(b)
        # The client can prepend anything; only the hop our proxy appended counts.
        assert ip_hash(spoof) == ip_hash(a)

    def test_user_agent_is_not_part_of_the_key(self):
        # A header the caller picks freely must not mint a fresh abuse key
        # (tests/backend/clients/test_abuse_key.py has the rest).
        rf = RequestFactory()
        assert ip_hash(rf.get("/", HTTP_USER_AGENT="a")) == ip_hash(
            rf.get("/", HTTP_USER_AGENT="b")
        )


def test_minting_is_rate_limited_per_ip_hash(api_client, env):
    env(CLIENT_MINT_PER_MINUTE=3)
    statuses = [api_client.post("/api/clients/").status_code for _ in range(4)]
    assert statuses == [201, 201, 201, 429]
    response = api_client.post("/api/clients/")
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert response.json()["error"]["code"] == "RATE_LIMITED"
    other_ip = APIClient(REMOTE_ADDR="192.0.2.7").post("/api/clients/")
    assert other_ip.status_code == 201
