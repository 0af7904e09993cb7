"""The thumbnail service on its provider chain, with the real HTTP clients talking to local
servers that speak Replicate's and Pollinations' APIs: the primary's failure completes on
the fallback and says so (P5), a paid image is priced and settled by the cost guard, and a
budget that cannot hold one is a 402 with nothing kept."""

from __future__ import annotations

import base64
import io
from decimal import Decimal

import pytest
from PIL import Image

from backend.guard.instance import reset_for_tests as reset_guard
from backend.thumbnails.models import Thumbnail
from tests.fakes.image_servers import (
    ImageReply,
    PollinationsServer,
    PredictionScript,
    ReplicateServer,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_guard(thumbnail_files):
    reset_guard()
    yield
    reset_guard()


@pytest.fixture
def providers(env):
    replicate = ReplicateServer().start()
    pollinations = PollinationsServer().start()
    env(
        REPLICATE_API_TOKEN=replicate.api_token,
        REPLICATE_BASE_URL=replicate.base_url,
        REPLICATE_PRICE_PER_IMAGE_USD="0.003",
        POLLINATIONS_ENABLED=True,
        POLLINATIONS_BASE_URL=pollinations.base_url,
        THUMBNAIL_PROVIDER_TIMEOUT_S=2,
    )
    yield replicate, pollinations
    replicate.stop()
    pollinations.stop()


def _make(client, count=1):
    return client.post(
        "/api/thumbnails/", {"prompt": "latte art", "title": "Latte art", "count": count},
        format="json",
    )  # fmt: skip


def test_replicate_makes_it_and_the_guard_charges_its_price(anon_client, providers) -> None:
    replicate, _ = providers
    replicate.script([PredictionScript.succeed_after(1)])

    response = _make(anon_client)

    assert response.status_code == 201, response.content
    [made] = response.json()["results"]
    assert made["provider"] == "replicate" and not made["offline"]
    assert Decimal(made["cost_usd"]) == Decimal("0.003")
    assert [a["provider"] for a in made["attempts"]] == ["replicate"]
    [create] = replicate.requests_to("/v1/models/")
    assert create.json["input"]["prompt"] == "latte art"


@pytest.mark.parametrize(
    "failure",
    [PredictionScript.fail(), PredictionScript.http_error(500), PredictionScript.refuse(),
     PredictionScript.slow(4.0)],
    ids=["failed", "http-500", "refused", "timeout"],
)  # fmt: skip
def test_p5_a_failed_primary_completes_on_the_fallback_and_says_so(
    anon_client, providers, failure
) -> None:
    replicate, pollinations = providers
    replicate.script([failure])
    pollinations.script([ImageReply.ok()])

    response = _make(anon_client)

    assert response.status_code == 201, response.content
    [made] = response.json()["results"]
    assert made["provider"] == "pollinations"
    attempts = made["attempts"]
    assert [(a["provider"], a["ok"]) for a in attempts] == [
        ("replicate", False),
        ("pollinations", True),
    ]
    assert attempts[0]["error"]
    # An error answer is not billed; a timeout is (the provider may have made it).
    expected = Decimal("0.003") if "timeout" in attempts[0]["error"] else Decimal(0)
    assert Decimal(made["cost_usd"]) == expected


def test_both_providers_down_ends_on_the_offline_card(anon_client, providers) -> None:
    replicate, pollinations = providers
    replicate.script([PredictionScript.http_error(503)])
    pollinations.script([ImageReply.http_error(500)])

    [made] = _make(anon_client).json()["results"]

    assert made["provider"] == "offline" and made["offline"]
    assert [a["provider"] for a in made["attempts"]] == ["replicate", "pollinations", "offline"]


def test_a_budget_that_cannot_hold_an_image_is_402_and_nothing_is_kept(
    anon_client, providers, env
) -> None:
    replicate, _ = providers
    env(GUARD_ANON_CLIENT_DAILY_USD="0.001")
    replicate.script([PredictionScript.succeed()])

    response = _make(anon_client)

    assert response.status_code == 402, response.content
    assert response.json()["error"]["code"] == "BUDGET_EXCEEDED"
    assert replicate.requests_to("/v1/models/") == []  # refused before the call
    assert not Thumbnail.objects.exists()


def test_a_reference_image_reaches_replicate_without_its_metadata(anon_client, providers) -> None:
    replicate, _ = providers
    replicate.script([PredictionScript.succeed()])
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    source = io.BytesIO()
    Image.new("RGB", (640, 360), (200, 30, 30)).save(source, format="JPEG", exif=exif)
    source.seek(0)
    source.name = "reference.jpg"

    response = anon_client.post(
        "/api/thumbnails/",
        {"prompt": "latte art", "count": 1, "reference_image": source},
        format="multipart",
    )

    assert response.status_code == 201, response.content
    [create] = replicate.requests_to("/v1/models/")
    uri = create.json["input"]["image"]
    assert uri.startswith("data:image/jpeg;base64,")
    sent = base64.b64decode(uri.split(",", 1)[1])
    assert b"SecretCam" not in sent
    with Image.open(io.BytesIO(sent)) as image:
        assert image.size == (640, 360) and not image.getexif()


def test_a_reference_that_is_not_an_image_names_the_field(anon_client, providers) -> None:
    bogus = io.BytesIO(b"%PDF-1.4 not an image")
    bogus.name = "notes.pdf"
    response = anon_client.post(
        "/api/thumbnails/", {"prompt": "latte art", "reference_image": bogus}, format="multipart"
    )
    assert response.status_code == 400
    assert "reference_image" in response.json()["error"]["details"]["fields"]
    assert not Thumbnail.objects.exists()
