"""Thumbnails kept in S3-compatible object storage, against moto's server mode (a real HTTP
server in a subprocess; nothing mocked here): private objects under the prefix with the
client's id, presigned URLs that expire with THUMBNAIL_URL_TTL_S, deleted with the
thumbnail and with the account, and a hung endpoint failing the request in bounded time.

moto does not verify presigned signatures or their expiry in server mode (see
tests/fakes/s3_server.py), so a tampered or expired link cannot be shown refused here: the
tests read the link's ``X-Amz-Expires`` (the TTL) and show that a link without its
signature is refused (the object is private).
"""

from __future__ import annotations

import io
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from PIL import Image
from rest_framework.test import APIClient

pytest.importorskip("moto", reason="moto is not installed (a dev dependency: uv sync)")

from backend.config.env import SettingsError, load_settings
from backend.config.settings.base import thumbnail_storage
from backend.thumbnails import selectors
from backend.thumbnails.models import Thumbnail
from backend.thumbnails.services import storage
from tests.fakes.s3_server import ACCESS_KEY_ID, HungServer, MotoS3Server

pytestmark = pytest.mark.django_db(transaction=True)

BUCKET = "insightstream-thumbnails"
PASSWORD = "correct-horse-battery-9"


@dataclass
class Bucket:
    client: Any  # boto3's, for the test's own look
    name: str
    server: MotoS3Server

    def object_keys(self, prefix: str = "") -> list[str]:
        listed = self.client.list_objects_v2(Bucket=self.name, Prefix=prefix)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def body(self, key: str) -> bytes:
        return bytes(self.client.get_object(Bucket=self.name, Key=key)["Body"].read())


@pytest.fixture(scope="module")
def moto_server():
    server = MotoS3Server().start()
    yield server
    server.stop()


def _use_s3(settings: Any, env: Any, **changes: Any) -> None:
    """THUMBNAIL_S3_* as the environment would set them, and the storage base.py builds
    from them (assigning STORAGES resets Django's storages handler: setting_changed)."""
    env(**changes)
    settings.STORAGES = {**settings.STORAGES, "thumbnails": thumbnail_storage(settings.ENV)}


@pytest.fixture
def s3(moto_server, settings, env) -> Bucket:
    moto_server.reset()
    client = moto_server.client()
    client.create_bucket(Bucket=BUCKET)
    _use_s3(settings, env, **moto_server.settings(BUCKET))
    return Bucket(client=client, name=BUCKET, server=moto_server)


def _make(client: APIClient, count: int = 1) -> list[dict[str, Any]]:
    response = client.post(
        "/api/thumbnails/", {"prompt": "latte art close-up", "count": count}, format="json"
    )
    assert response.status_code == 201, response.content
    return list(response.json()["results"])


def _query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def _png(content: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(content))
    assert image.format == "PNG"
    return image


def test_settings_pick_the_storage_and_pin_its_options() -> None:
    plain = thumbnail_storage(load_settings(THUMBNAIL_S3_BUCKET=""))
    assert plain["BACKEND"] == "django.core.files.storage.FileSystemStorage"

    built = thumbnail_storage(
        load_settings(
            THUMBNAIL_S3_BUCKET="b-1",
            THUMBNAIL_S3_PREFIX="/thumbs/",
            THUMBNAIL_S3_ACCESS_KEY_ID="",
            THUMBNAIL_S3_SECRET_ACCESS_KEY="",
            THUMBNAIL_URL_TTL_S=900,
            THUMBNAIL_S3_CONNECT_TIMEOUT_S=3,
            THUMBNAIL_S3_READ_TIMEOUT_S=4,
            THUMBNAIL_S3_MAX_ATTEMPTS=2,
        )
    )
    options = built["OPTIONS"]
    assert built["BACKEND"] == "backend.thumbnails.storage.ThumbnailS3Storage"
    assert options["location"] == "thumbs" and options["default_acl"] is None
    assert options["querystring_auth"] is True and options["querystring_expire"] == 900
    assert options["file_overwrite"] is False
    # Unset keys: boto's own chain (no key options at all).
    assert "access_key" not in options and "secret_key" not in options
    config = options["client_config"]
    assert (config.connect_timeout, config.read_timeout) == (3.0, 4.0)
    assert config.retries == {"mode": "standard", "total_max_attempts": 2}
    assert config.signature_version == "s3v4"

    with pytest.raises(SettingsError, match="THUMBNAIL_S3_SECRET_ACCESS_KEY"):
        load_settings(THUMBNAIL_S3_BUCKET="b-1", THUMBNAIL_S3_ACCESS_KEY_ID="AKIA-only")
    with pytest.raises(SettingsError, match="THUMBNAIL_S3_ENDPOINT_URL"):
        load_settings(THUMBNAIL_S3_ENDPOINT_URL="minio:9000")


def test_images_are_private_objects_under_the_prefix_served_by_presigned_urls(
    s3, anon_client, settings
) -> None:
    made = _make(anon_client, count=2)

    client_id = anon_client.client_id
    rows = Thumbnail.objects.filter(client_id=client_id)
    expected = sorted(f"thumbnails/{row.file_name}" for row in rows)
    assert expected == sorted(f"thumbnails/{client_id}/{t['id']}.png" for t in made)
    assert s3.object_keys() == expected  # nothing else in the bucket
    for key in expected:
        head = s3.client.head_object(Bucket=s3.name, Key=key)
        assert head["ContentType"] == "image/png"
        grants = s3.client.get_object_acl(Bucket=s3.name, Key=key)["Grants"]
        assert all("URI" not in grant["Grantee"] for grant in grants)  # no AllUsers grant
        row = rows.get(file_name=key.removeprefix("thumbnails/"))
        assert head["ContentLength"] == row.size_bytes

    listed = anon_client.get("/api/thumbnails/").json()["results"]
    for thumbnail in listed:
        url = thumbnail["url"]
        key = f"thumbnails/{client_id}/{thumbnail['id']}.png"
        # The object store's own URL (path-style here), not our endpoint.
        assert url.startswith(f"{s3.server.url}/{s3.name}/{key}?")
        query = _query(url)
        assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
        assert query["X-Amz-Credential"].startswith(f"{ACCESS_KEY_ID}/")
        assert int(query["X-Amz-Expires"]) == settings.ENV.THUMBNAIL_URL_TTL_S
        signed_at = datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        assert abs((datetime.now(UTC) - signed_at).total_seconds()) < 60
        assert query["X-Amz-Signature"]

        fetched = httpx.get(url)  # what the browser's <img> does: no token, no cookie
        assert fetched.status_code == 200
        assert fetched.content == s3.body(key)
        assert _png(fetched.content).size == (1280, 720)
        # Without its signature the link is refused: the object is private.
        assert httpx.get(url.split("?")[0]).status_code == 403


def test_urls_are_made_when_read_with_the_current_ttl(s3, anon_client, env) -> None:
    [made] = _make(anon_client)
    row = Thumbnail.objects.get(pk=made["id"])
    # Only the object's name is kept; the link is minted on each read.
    assert row.file_name == f"{anon_client.client_id}/{made['id']}.png"

    env(THUMBNAIL_URL_TTL_S=120)
    fresh = anon_client.get(f"/api/thumbnails/{made['id']}/").json()["url"]
    assert _query(fresh)["X-Amz-Expires"] == "120"
    assert httpx.get(fresh).status_code == 200


def test_our_signed_endpoint_redirects_to_a_fresh_presigned_url(s3, anon_client, settings) -> None:
    [made] = _make(anon_client)
    # A link made from the id and owner alone (as the account export makes them).
    own = selectors.image_url(Thumbnail(id=made["id"], client_id=anon_client.client_id))
    assert own.startswith(f"/api/thumbnails/{made['id']}/image/?sig=")

    response = APIClient().get(own)
    assert response.status_code == 302
    assert response["Cache-Control"] == "private, no-store"
    target = response["Location"]
    assert target.startswith(f"{s3.server.url}/{s3.name}/thumbnails/")
    assert int(_query(target)["X-Amz-Expires"]) == settings.ENV.THUMBNAIL_URL_TTL_S
    assert _png(httpx.get(target).content).size == (1280, 720)

    assert APIClient().get(own.replace("sig=", "sig=x")).status_code == 404


def test_deleting_a_thumbnail_removes_its_object(s3, anon_client) -> None:
    kept, gone = _make(anon_client, count=2)
    key = f"thumbnails/{anon_client.client_id}/{gone['id']}.png"
    assert key in s3.object_keys()

    assert anon_client.delete(f"/api/thumbnails/{gone['id']}/").status_code == 204

    assert s3.object_keys() == [f"thumbnails/{anon_client.client_id}/{kept['id']}.png"]
    assert httpx.get(gone["url"]).status_code == 404  # NoSuchKey, even with its signature
    assert not storage().exists(f"{anon_client.client_id}/{gone['id']}.png")


def test_account_deletion_removes_all_of_the_clients_objects(s3, anon_client) -> None:
    from django.utils import timezone

    from backend.accounts.services.auth import account_register

    account, pair = account_register(email="ada@example.com", password=PASSWORD, ip_hash="t")
    account.email_verified_at = timezone.now()
    account.save(update_fields=["email_verified_at"])
    signed_in = APIClient()
    signed_in.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.as_dict()['access']}")
    mine = _make(signed_in, count=3)
    [theirs] = _make(anon_client)
    own_prefix = f"thumbnails/{account.client_id}/"
    assert len(s3.object_keys(own_prefix)) == 3

    exported = signed_in.get("/api/accounts/export/").json()["thumbnails"]
    assert {t["id"] for t in exported} == {t["id"] for t in mine}
    redirected = APIClient().get(exported[0]["url"])
    assert redirected.status_code == 302
    assert httpx.get(redirected["Location"]).status_code == 200

    deleted = signed_in.delete("/api/accounts/me/", {"password": PASSWORD}, format="json")
    assert deleted.status_code == 204, deleted.content

    assert s3.object_keys(own_prefix) == []
    assert s3.object_keys() == [f"thumbnails/{anon_client.client_id}/{theirs['id']}.png"]
    assert not Thumbnail.objects.filter(client_id=str(account.client_id)).exists()


def test_one_connection_serves_every_thread(moto_server, settings, env) -> None:
    """Under ASGI each request's sync code has a thread of its own: a connection per thread
    (the library's default) is a new boto3 session per request."""
    _use_s3(settings, env, **moto_server.settings(BUCKET))
    files = storage()
    seen: list[int] = []
    threads = [threading.Thread(target=lambda: seen.append(id(files.connection))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(seen)) == 1 and id(files.connection) in seen


def test_a_hung_endpoint_fails_the_request_in_bounded_time(
    moto_server, settings, env, anon_client
) -> None:
    hung = HungServer().start()
    try:
        _use_s3(
            settings,
            env,
            **{
                **moto_server.settings(BUCKET),
                "THUMBNAIL_S3_ENDPOINT_URL": hung.url,
                "THUMBNAIL_S3_READ_TIMEOUT_S": 0.5,
                "THUMBNAIL_S3_MAX_ATTEMPTS": 2,
            },
        )
        started = time.monotonic()
        response = anon_client.post(
            "/api/thumbnails/", {"prompt": "latte art", "count": 1}, format="json"
        )
        elapsed = time.monotonic() - started
    finally:
        hung.stop()

    # The store being down is the client's to retry, said so, never a 500.
    assert response.status_code == 503, response.content
    assert response.json()["error"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert response["Retry-After"] == "10"
    assert elapsed < 10, elapsed  # two attempts of 0.5 s each, with a backoff between
    assert hung.connections == 2  # THUMBNAIL_S3_MAX_ATTEMPTS in all
    assert not Thumbnail.objects.exists()
