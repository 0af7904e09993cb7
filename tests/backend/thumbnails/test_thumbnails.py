"""Thumbnails kept and listed (P6): made through the chain, stored with how they were made,
listed newest first, served to their owner only by signed URLs, deleted with their files
(and with the account)."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PIL import Image
from rest_framework.test import APIClient

from backend.thumbnails.models import Thumbnail
from backend.thumbnails.services import storage

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("thumbnail_files")]


def _make(client: APIClient, **body) -> list[dict]:
    response = client.post(
        "/api/thumbnails/", {"prompt": "latte art close-up", **body}, format="json"
    )
    assert response.status_code == 201, response.content
    return list(response.json()["results"])


def _image(client: APIClient, url: str) -> Image.Image:
    response = client.get(url)
    assert response.status_code == 200, getattr(response, "content", b"")[:200]
    assert response["Content-Type"] == "image/png"
    return Image.open(io.BytesIO(b"".join(response.streaming_content)))


def test_offline_concepts_are_kept_labelled_and_served_by_signed_url(anon_client) -> None:
    made = _make(anon_client, title="Latte art in 60 seconds", count=2)

    assert [t["provider"] for t in made] == ["offline", "offline"]
    assert all(t["offline"] and t["model"] == "title-card" for t in made)
    assert {(t["width"], t["height"]) for t in made} == {(1280, 720)}
    assert made[0]["title"] == "Latte art in 60 seconds" and made[0]["cost_usd"] == "0.000000"
    image = _image(APIClient(), made[0]["url"])  # an <img> sends no credentials
    assert image.size == (1280, 720)
    row = Thumbnail.objects.get(pk=made[0]["id"])
    assert storage().exists(row.file_name) and row.size_bytes == storage().size(row.file_name)


def test_only_the_owner_sees_them_and_a_forged_link_is_404(anon_client, api_client) -> None:
    [made] = _make(anon_client, count=1)
    other = APIClient()
    token = other.post("/api/clients/", {}, format="json").json()["token"]
    other.credentials(HTTP_X_CLIENT_TOKEN=token)

    assert other.get(f"/api/thumbnails/{made['id']}/").status_code == 404
    assert other.delete(f"/api/thumbnails/{made['id']}/").status_code == 404
    assert other.get("/api/thumbnails/").json()["count"] == 0
    forged = made["url"].replace("sig=", "sig=x")
    assert APIClient().get(forged).status_code == 404
    [mine] = _make(other, count=1)
    # A valid signature for another thumbnail does not open this one.
    swapped = made["url"].split("?")[0] + "?" + mine["url"].split("?")[1]
    assert APIClient().get(swapped).status_code == 404
    assert APIClient().get(f"/api/thumbnails/{made['id']}/image/").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"prompt": ""}, "prompt"),
        ({"prompt": "x" * 501}, "prompt"),
        ({"prompt": "ok", "count": 0}, "count"),
        ({"prompt": "ok", "count": 5}, "count"),
        ({"prompt": "ok", "title": "t" * 201}, "title"),
        ({}, "prompt"),
    ],
)
def test_bad_input_names_the_field(anon_client, body, field) -> None:
    response = anon_client.post("/api/thumbnails/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]["fields"]
    assert not Thumbnail.objects.exists()


@hypothesis_settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(st.one_of(st.integers(1, 2), st.just("delete")), min_size=1, max_size=5))
def test_p6_the_history_is_what_was_made_minus_what_was_deleted(anon_client, ops) -> None:
    Thumbnail.objects.filter(client_id=anon_client.client_id).delete()
    kept: list[str] = []  # newest first
    for op in ops:
        if op == "delete":
            if kept:
                victim = kept.pop(len(kept) // 2)
                assert anon_client.delete(f"/api/thumbnails/{victim}/").status_code == 204
            continue
        made = _make(anon_client, count=op)
        kept = [t["id"] for t in reversed(made)] + kept

    listed = anon_client.get("/api/thumbnails/").json()
    assert listed["count"] == len(kept)
    assert [t["id"] for t in listed["results"]] == kept
    rows = Thumbnail.objects.filter(client_id=anon_client.client_id)
    assert all(storage().exists(row.file_name) for row in rows)
    for t in listed["results"]:
        assert _image(APIClient(), t["url"]).size == (1280, 720)


def test_deleting_removes_the_file(anon_client) -> None:
    [made] = _make(anon_client, count=1)
    name = Thumbnail.objects.get(pk=made["id"]).file_name

    assert anon_client.delete(f"/api/thumbnails/{made['id']}/").status_code == 204

    assert not storage().exists(name)
    assert APIClient().get(made["url"]).status_code == 404


def _upload(image: Image.Image, fmt: str = "PNG") -> io.BytesIO:
    out = io.BytesIO()
    image.save(out, format=fmt)
    out.seek(0)
    out.name = f"upload.{fmt.lower()}"
    return out


def test_an_uploaded_thumbnail_gets_its_measured_features_said_plainly(anon_client) -> None:
    response = anon_client.post(
        "/api/thumbnails/analyse/",
        {"image": _upload(Image.new("RGB", (1280, 720), (250, 250, 250)), "JPEG")},
        format="multipart",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["measured"]["is_16_9"] and body["measured"]["brightness"] > 0.9
    assert body["measured"]["format"] == "JPEG"
    assert body["critique"] is None and "No model looked" in body["note"]


def test_an_upload_that_is_no_image_or_too_big_is_400_naming_it(anon_client, env) -> None:
    text = io.BytesIO(b"hello")
    text.name = "notes.txt"
    bad = anon_client.post("/api/thumbnails/analyse/", {"image": text}, format="multipart")
    assert bad.status_code == 400
    assert "image" in bad.json()["error"]["details"]["fields"]

    env(THUMBNAIL_UPLOAD_MAX_BYTES=1024)
    noisy = Image.effect_noise((256, 256), 100).convert("RGB")
    big = anon_client.post(
        "/api/thumbnails/analyse/", {"image": _upload(noisy)}, format="multipart"
    )
    assert big.status_code == 400 and "at most 1024 bytes" in big.json()["error"]["message"]
