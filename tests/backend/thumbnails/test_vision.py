"""POST /api/thumbnails/analyse/ with a vision model (P14): the real ChatOpenAI over HTTP to
the local OpenAI-compatible server, through the guarded factory, so the call is reserved
(the image priced per image), settled, in the ledger and in PostHog. A refusal or a failed
call still answers 200 with the measured features; the offline model gives only those."""

from __future__ import annotations

import base64
import io
import json
from decimal import Decimal
from typing import Any

import pytest
from PIL import Image, ImageDraw
from rest_framework.test import APIClient

from agents.models import IMAGE_INPUT_TOKENS
from agents.thumbnails.vision import CRITIQUE_MAX_TOKENS
from backend.guard.models import GuardEvent, LlmCall
from backend.llm.selectors import model_price
from backend.llm.services import catalogue_refresh
from tests.fakes.openai_server import OpenAIServer, Reply

pytestmark = pytest.mark.django_db(transaction=True)

VISION = "test/vision"
CRITIQUE = {
    "tags": ["espresso", "crema", "dark background"],
    "text_legibility": "No text.",
    "faces": "No faces.",
    "contrast": "The pale cup stands out on the dark table.",
    "clutter": "Minimal.",
    "summary": "Strong and simple; add a short, bold title to say what the video is.",
}
SECRET = "GPS-and-serial-of-the-creator"


@pytest.fixture
def vision_model(env, openai_server: OpenAIServer) -> OpenAIServer:
    env(
        OPENROUTER_API_KEY="sk-test",
        OPENROUTER_BASE_URL=openai_server.base_url,
        DECLARED_MODELS=[
            {
                "id": VISION,
                "input_per_million": "1",
                "output_per_million": "2",
                "input_per_image": "0.004",
            }
        ],
        THUMBNAIL_VISION_MODEL=VISION,
        GUARD_ANON_CLIENT_DAILY_USD="1",
        GUARD_ANON_MAX_CALL_USD="1",
    )
    return openai_server


def _upload(size: tuple[int, int] = (1920, 1080), *, exif: bool = True) -> io.BytesIO:
    image = Image.new("RGB", size, (30, 25, 20))
    ImageDraw.Draw(image).ellipse((700, 300, 1200, 800), fill=(235, 225, 200))
    meta = Image.Exif()
    if exif:
        meta[0x010F] = SECRET  # Make
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=meta.tobytes(), quality=90)
    out.seek(0)
    out.name = "thumb.jpg"
    return out


def _analyse(client: APIClient, upload: io.BytesIO | None = None) -> dict[str, Any]:
    response = client.post(
        "/api/thumbnails/analyse/", {"image": upload or _upload()}, format="multipart"
    )
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    assert body["measured"]["format"] == "JPEG" and body["measured"]["width"] == 1920
    return body


def _sent_jpeg(request: dict[str, Any]) -> bytes:
    [part] = [
        part
        for message in request["messages"]
        if isinstance(message["content"], list)
        for part in message["content"]
        if part["type"] == "image_url"
    ]
    scheme, _, data = part["image_url"]["url"].partition(",")
    assert scheme == "data:image/jpeg;base64"
    return base64.b64decode(data, validate=True)


def test_anonymous_is_401_and_bad_input_is_400(vision_model: OpenAIServer, anon_client) -> None:
    anonymous = APIClient().post(
        "/api/thumbnails/analyse/", {"image": _upload()}, format="multipart"
    )
    assert anonymous.status_code == 401
    text = io.BytesIO(b"not an image")
    text.name = "notes.txt"
    bad = anon_client.post("/api/thumbnails/analyse/", {"image": text}, format="multipart")
    assert bad.status_code == 400 and "image" in bad.json()["error"]["details"]["fields"]
    assert vision_model.requests == []


def test_the_vision_model_tags_and_critiques_it_through_the_guard(
    vision_model: OpenAIServer, anon_client, posthog_server
) -> None:
    vision_model.script(
        [Reply(text=json.dumps(CRITIQUE), prompt_tokens=900, completion_tokens=150, cost=0.0051)]
    )

    body = _analyse(anon_client)

    assert body["critique"] == CRITIQUE
    assert body["model"] == VISION
    assert "model_error" not in body
    assert "Measured locally" in body["note"] and VISION in body["note"]
    # The model got the pixels, downscaled and re-encoded without the upload's EXIF.
    [request] = vision_model.requests
    assert request["model"] == VISION
    sent = _sent_jpeg(request)
    with Image.open(io.BytesIO(sent)) as image:
        assert image.size == (1280, 720) and len(image.getexif()) == 0
    assert SECRET.encode() not in sent
    # Reserved, settled and recorded like every model call, for the requesting client.
    [row] = LlmCall.objects.all()
    assert (row.feature, row.model, row.client_id) == (
        "thumbnail_critique",
        VISION,
        anon_client.client_id,
    )
    assert (row.input_tokens, row.output_tokens, row.cost_usd) == (900, 150, Decimal("0.0051"))
    assert not row.estimated and not row.is_error
    # The reservation held the image at its fixed token count and its price ($0.004), the
    # text and 700 output tokens: not a token per byte of its data URI (which alone would
    # be more than the $0.003 of slack left for the text).
    fixed = Decimal(IMAGE_INPUT_TOKENS + 2 * CRITIQUE_MAX_TOKENS) / 1_000_000 + Decimal("0.004")
    assert fixed < row.reserved_usd < fixed + Decimal("0.003")
    assert len(sent) * 4 / 3 > 3_000
    generation = posthog_server.wait_for("$ai_generation")[0]["properties"]
    assert generation["feature"] == "thumbnail_critique"
    assert generation["$ai_model"] == VISION


def test_with_no_reported_cost_the_image_is_charged_its_catalogue_price(
    env, openai_server: OpenAIServer, anon_client
) -> None:
    """A model from OpenRouter's list (``pricing.image``), priced by the guard itself."""
    openai_server.models = [
        {
            "id": "remote/vision",
            "name": "Remote vision",
            "context_length": 128_000,
            "pricing": {"prompt": "0.000001", "completion": "0.000002", "image": "0.0036"},
        },
        {"id": "remote/text", "pricing": {"prompt": "0.000001", "completion": "0.000002"}},
    ]
    env(
        OPENROUTER_API_KEY="sk-test",
        OPENROUTER_BASE_URL=openai_server.base_url,
        THUMBNAIL_VISION_MODEL="remote/vision",
        GUARD_ANON_CLIENT_DAILY_USD="1",
        GUARD_ANON_MAX_CALL_USD="1",
    )
    assert catalogue_refresh() == 2
    price = model_price(model_id="remote/vision")
    assert price is not None and price.input_per_image == Decimal("0.0036")
    text_only = model_price(model_id="remote/text")
    assert text_only is not None and text_only.input_per_image == 0
    openai_server.script(
        [Reply(text=json.dumps(CRITIQUE), prompt_tokens=1000, completion_tokens=100, cost=None)]
    )

    body = _analyse(anon_client)

    assert body["critique"] == CRITIQUE and body["model"] == "remote/vision"
    [row] = LlmCall.objects.all()
    # 1,000 tokens at $1/M, 100 at $2/M, and the image at $0.0036.
    assert row.cost_usd == Decimal("0.001") + Decimal("0.0002") + Decimal("0.0036")


@pytest.mark.parametrize(
    "reply",
    [
        Reply(text="Looks great to me!"),
        Reply(text=json.dumps({**CRITIQUE, "tags": [f"t{i}" for i in range(13)]})),
        Reply(text=json.dumps({key: CRITIQUE[key] for key in ("tags", "summary")})),
    ],
    ids=["prose", "too-many-tags", "missing-fields"],
)
def test_a_malformed_reply_gives_no_critique_and_says_why(
    vision_model: OpenAIServer, anon_client, reply: Reply
) -> None:
    vision_model.script([reply])

    body = _analyse(anon_client)

    assert body["critique"] is None and body["model"] == VISION
    assert body["model_error"]["code"] == "UPSTREAM_ERROR"
    assert "not a valid critique" in body["model_error"]["message"]
    assert body["model_error"]["message"] in body["note"]
    # The call was made and billed: it is in the ledger all the same.
    assert LlmCall.objects.get().feature == "thumbnail_critique"


def test_a_budget_refusal_is_200_with_the_measured_features(
    vision_model: OpenAIServer, anon_client, env
) -> None:
    env(GUARD_ANON_CLIENT_DAILY_USD="0.001")

    body = _analyse(anon_client)

    assert body["critique"] is None
    assert body["model_error"]["code"] == "BUDGET_EXCEEDED"
    assert body["model_error"]["message"] and body["model_error"]["message"] in body["note"]
    assert body["measured"]["brightness"] > 0
    assert vision_model.requests == []  # refused before any call
    assert not LlmCall.objects.exists()
    assert GuardEvent.objects.filter(kind=GuardEvent.Kind.BUDGET_EXCEEDED).count() == 1


def test_the_image_price_alone_can_refuse_the_call(
    vision_model: OpenAIServer, anon_client, env
) -> None:
    """The tokens fit the per-call cap; the image's own price does not (~$0.0047 of
    tokens at most, and $0.004 for the image)."""
    env(GUARD_ANON_MAX_CALL_USD="0.006")

    body = _analyse(anon_client)

    assert body["model_error"]["code"] == "BUDGET_EXCEEDED"
    assert vision_model.requests == []
    env(
        DECLARED_MODELS=[{"id": VISION, "input_per_million": "1", "output_per_million": "2"}],
        GUARD_ANON_MAX_CALL_USD="0.006",
    )
    vision_model.script([Reply(text=json.dumps(CRITIQUE))])
    assert _analyse(anon_client)["critique"] == CRITIQUE


def test_an_upstream_error_gives_no_critique(vision_model: OpenAIServer, anon_client) -> None:
    vision_model.script([Reply(status=400, error_message="image too small for this model")])

    body = _analyse(anon_client)

    assert body["critique"] is None
    assert body["model_error"]["code"] == "UPSTREAM_ERROR"
    assert len(vision_model.requests) == 1  # a client error is not retried


def test_the_default_model_is_used_when_no_vision_model_is_set(
    vision_model: OpenAIServer, anon_client, env
) -> None:
    env(THUMBNAIL_VISION_MODEL=None, DEFAULT_MODEL=VISION)
    vision_model.script([Reply(text=json.dumps(CRITIQUE))])

    body = _analyse(anon_client)

    assert body["model"] == VISION and body["critique"] == CRITIQUE


def test_a_vision_model_without_a_price_is_not_used(
    vision_model: OpenAIServer, anon_client, env
) -> None:
    env(THUMBNAIL_VISION_MODEL="nobody/knows")

    body = _analyse(anon_client)

    assert body["critique"] is None
    assert body["model_error"]["code"] == "AI_SERVICE_UNAVAILABLE"
    assert "no known price" in body["note"]
    assert vision_model.requests == []


def test_the_offline_model_gives_the_measured_features_only(anon_client, openai_server) -> None:
    body = _analyse(anon_client)

    assert body["critique"] is None and body["model"] is None
    assert "model_error" not in body
    assert "No model looked at this image" in body["note"] and "offline" in body["note"]
    assert openai_server.requests == [] and not LlmCall.objects.exists()
