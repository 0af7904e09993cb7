"""The real Replicate and Pollinations clients against local fakes of their HTTP APIs."""

from __future__ import annotations

import base64
import time

import httpx
import pytest

from agents.thumbnails import (
    PollinationsProvider,
    ProviderChain,
    ProviderError,
    ProviderTimeoutError,
    ReplicateProvider,
    ThumbnailSpec,
)
from tests.agents.thumbnails.conftest import centre_colour, close_to, png_pixels
from tests.fakes.image_servers import (
    POLLINATIONS_COLOUR,
    REPLICATE_COLOUR,
    ImageReply,
    PollinationsServer,
    PredictionScript,
    ReplicateServer,
    make_image,
)

SPEC = ThumbnailSpec(prompt="a cat drinking espresso, neon light", title="Cat Coffee", seed=7)


def replicate(server: ReplicateServer, *, timeout_s: float = 5.0) -> ReplicateProvider:
    return ReplicateProvider(
        api_token=server.api_token,
        base_url=server.base_url,
        timeout_s=timeout_s,
        poll_interval_s=0.01,
    )


async def test_replicate_creates_polls_and_downloads_a_1280x720_png(
    replicate_server: ReplicateServer,
) -> None:
    replicate_server.script([PredictionScript.succeed_after(2)])

    result = await ProviderChain([replicate(replicate_server)]).generate(SPEC)

    (create,) = replicate_server.requests_to("/v1/models/")
    assert create.method == "POST"
    assert create.path == "/v1/models/black-forest-labs/flux-schnell/predictions"
    assert create.headers["authorization"] == "Bearer r8_test_token"
    assert create.headers["prefer"] == "wait=5"
    assert create.json == {
        "input": {
            "prompt": "a cat drinking espresso, neon light",
            "aspect_ratio": "16:9",
            "output_format": "png",
            "num_outputs": 1,
            "seed": 7,
        }
    }
    polls = replicate_server.requests_to("/v1/predictions/")
    assert [p.method for p in polls] == ["GET", "GET"]
    assert all(p.headers["authorization"] == "Bearer r8_test_token" for p in polls)
    (download,) = replicate_server.requests_to("/files/")
    assert "authorization" not in download.headers  # the token stays with the API
    assert (result.provider, result.model, result.offline) == (
        "replicate",
        "black-forest-labs/flux-schnell",
        False,
    )
    assert png_pixels(result.png).shape == (720, 1280, 3)
    assert close_to(centre_colour(result.png), REPLICATE_COLOUR)
    assert [(a.provider, a.ok, a.error) for a in result.attempts] == [("replicate", True, None)]


async def test_replicate_answered_at_once_needs_no_poll_and_returns_the_served_bytes(
    replicate_server: ReplicateServer,
) -> None:
    image = make_image(size=(1344, 768), colour=REPLICATE_COLOUR, image_format="JPEG")
    replicate_server.script(
        [
            PredictionScript.succeed(
                image=image, image_content_type="image/jpeg", output_as_list=False
            )
        ]
    )

    assert await replicate(replicate_server, timeout_s=90.0).generate(SPEC) == image
    assert replicate_server.requests_to("/v1/predictions/") == []
    assert replicate_server.requests_to("/v1/models/")[0].headers["prefer"] == "wait=60"


async def test_replicate_sends_the_reference_image_as_a_data_uri(
    replicate_server: ReplicateServer,
) -> None:
    reference = make_image(size=(64, 36), colour=(1, 2, 3))
    replicate_server.script([PredictionScript.succeed()])

    await replicate(replicate_server).generate(
        ThumbnailSpec(prompt="same style", reference_image=reference)
    )

    sent = replicate_server.requests_to("/v1/models/")[0].json["input"]
    assert "seed" not in sent
    assert sent["image"] == "data:image/png;base64," + base64.b64encode(reference).decode()


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        (PredictionScript.fail("CUDA out of memory"), "prediction failed: CUDA out of memory"),
        (
            PredictionScript.fail("NSFW content detected", after_polls=1),
            "refused: NSFW content detected",
        ),
        (PredictionScript(status="canceled", after_polls=1), "prediction canceled"),
        (PredictionScript.http_error(500), "HTTP 500"),
        (
            PredictionScript.refuse("The prompt violates the content policy"),
            "refused (HTTP 422): The prompt violates the content policy",
        ),
    ],
)
async def test_replicate_failures_are_provider_errors_with_a_short_reason(
    replicate_server: ReplicateServer, script: PredictionScript, reason: str
) -> None:
    replicate_server.script([script])

    with pytest.raises(ProviderError) as raised:
        await replicate(replicate_server).generate(SPEC)

    assert str(raised.value) == reason
    assert not isinstance(raised.value, ProviderTimeoutError)
    assert replicate_server.requests_to("/files/") == []


async def test_a_wrong_replicate_token_is_an_http_401(replicate_server: ReplicateServer) -> None:
    replicate_server.script([PredictionScript.succeed()])
    provider = ReplicateProvider(api_token="wrong", base_url=replicate_server.base_url)

    with pytest.raises(ProviderError, match=r"^HTTP 401$"):
        await provider.generate(SPEC)


@pytest.mark.parametrize(
    "script",
    [PredictionScript.slow(5.0), PredictionScript.drip(0.05), PredictionScript.succeed_after(500)],
    ids=["slow", "drip", "never-finishes"],
)
async def test_replicate_keeps_one_total_deadline(
    replicate_server: ReplicateServer, script: PredictionScript
) -> None:
    """A drip beats httpx's per-read timeout and endless polls are each quick: only the
    provider's own deadline, counted from the start, ends them."""
    replicate_server.script([script])
    started = time.monotonic()

    with pytest.raises(ProviderTimeoutError, match=r"^timeout after 0\.3 s$"):
        await replicate(replicate_server, timeout_s=0.3).generate(SPEC)

    assert time.monotonic() - started < 1.3


async def test_pollinations_asks_for_the_spec_and_its_jpeg_becomes_a_1280x720_png(
    pollinations_server: PollinationsServer,
) -> None:
    pollinations_server.script([ImageReply.ok()])
    provider = PollinationsProvider(base_url=pollinations_server.base_url, timeout_s=5.0)

    result = await ProviderChain([provider]).generate(
        ThumbnailSpec(prompt="50% off: cats & dogs?/#1", seed=3)
    )

    (request,) = pollinations_server.requests
    assert request.path == "/prompt/50% off: cats & dogs?/#1"
    assert request.query == {
        "width": "1280",
        "height": "720",
        "model": "flux",
        "nologo": "true",
        "seed": "3",
    }
    assert (result.provider, result.model) == ("pollinations", "flux")
    assert png_pixels(result.png).shape == (720, 1280, 3)
    assert close_to(centre_colour(result.png), POLLINATIONS_COLOUR)


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (ImageReply.http_error(500), "HTTP 500"),
        (ImageReply.not_image(), "not an image: text/html"),
    ],
)
async def test_pollinations_failures_are_provider_errors(
    pollinations_server: PollinationsServer, reply: ImageReply, reason: str
) -> None:
    pollinations_server.script([reply])
    provider = PollinationsProvider(base_url=pollinations_server.base_url, timeout_s=5.0)

    with pytest.raises(ProviderError) as raised:
        await provider.generate(SPEC)

    assert str(raised.value) == reason


async def test_pollinations_keeps_its_deadline(pollinations_server: PollinationsServer) -> None:
    pollinations_server.script([ImageReply.slow(5.0)])
    provider = PollinationsProvider(base_url=pollinations_server.base_url, timeout_s=0.3)
    started = time.monotonic()

    with pytest.raises(ProviderTimeoutError):
        await provider.generate(SPEC)

    assert time.monotonic() - started < 1.3


async def test_the_real_services_are_out_of_reach_in_these_tests() -> None:
    """The guard in conftest: a provider left at its real address fails without a packet."""
    with pytest.raises(httpx.ConnectError, match=r"test tried to look up 'api\.replicate\.com'"):
        await ReplicateProvider(api_token="r8_unused", timeout_s=2.0).generate(SPEC)
