"""The provider chain: fallback in order, prompt abandonment, billing hooks, normalising."""

from __future__ import annotations

import asyncio
import io
import ssl
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from agents.thumbnails import (
    OfflineRenderer,
    PollinationsProvider,
    ProviderChain,
    ProviderError,
    ReplicateProvider,
    ThumbnailProvider,
    ThumbnailSpec,
    default_chain,
    to_png,
)
from tests.agents.thumbnails.conftest import centre_colour, close_to, png_pixels
from tests.fakes.image_servers import (
    POLLINATIONS_COLOUR,
    REPLICATE_COLOUR,
    ImageReply,
    PollinationsServer,
    PredictionScript,
    ReplicateServer,
)

SPEC = ThumbnailSpec(prompt="a lighthouse in a storm", title="Lighthouse Storm")
TIMEOUT_S = 0.3
# Made once: a client per example would load the CA bundle each time (~30 ms).
LOCAL_TLS = ssl.create_default_context()


def chain_over(
    replicate_server: ReplicateServer,
    pollinations_server: PollinationsServer,
    *,
    offline: bool = True,
    http: httpx.AsyncClient | None = None,
    **hooks: Any,
) -> ProviderChain:
    providers: list[ThumbnailProvider] = [
        ReplicateProvider(
            api_token=replicate_server.api_token,
            base_url=replicate_server.base_url,
            timeout_s=TIMEOUT_S,
            poll_interval_s=0.01,
            http=http,
        ),
        PollinationsProvider(base_url=pollinations_server.base_url, timeout_s=TIMEOUT_S, http=http),
    ]
    if offline:
        providers.append(OfflineRenderer())
    return ProviderChain(providers, **hooks)


PRIMARY = {
    "ok": PredictionScript.succeed,
    "ok after polls": lambda: PredictionScript.succeed_after(2),
    "failed status": lambda: PredictionScript.fail("CUDA out of memory"),
    "failed after polls": lambda: PredictionScript.fail("internal error", after_polls=2),
    "HTTP 500": lambda: PredictionScript.http_error(500),
    "422 refusal": lambda: PredictionScript.refuse("NSFW content detected"),
    "slow": lambda: PredictionScript.slow(5.0),
    "drip": lambda: PredictionScript.drip(0.05),
    "unreadable image": lambda: PredictionScript.succeed(image=b"\x89PNG\r\n\x1a\nnot really"),
}
FALLBACK = {
    "ok": ImageReply.ok,
    "HTTP 500": lambda: ImageReply.http_error(500),
    "not an image": ImageReply.not_image,
    "slow": lambda: ImageReply.slow(5.0),
}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(primary=st.sampled_from(sorted(PRIMARY)), fallback=st.sampled_from(sorted(FALLBACK)))
async def test_the_chain_completes_on_the_first_provider_that_succeeds(
    replicate_server: ReplicateServer,
    pollinations_server: PollinationsServer,
    primary: str,
    fallback: str,
) -> None:
    """P5: whatever the primary and the fallback do, the request completes on the first
    provider in order that succeeded, every attempt is listed in order, and the PNG is
    exactly 1280×720."""
    replicate_server.reset()
    pollinations_server.reset()
    replicate_server.script([PRIMARY[primary]()])
    pollinations_server.script([FALLBACK[fallback]()])

    # One client for both providers, as a caller with a shared client would pass it.
    async with httpx.AsyncClient(verify=LOCAL_TLS) as http:
        result = await chain_over(replicate_server, pollinations_server, http=http).generate(SPEC)

    outcomes = [("replicate", primary.startswith("ok"))]
    if not outcomes[-1][1]:
        outcomes.append(("pollinations", fallback == "ok"))
    if not outcomes[-1][1]:
        outcomes.append(("offline", True))
    assert [(a.provider, a.ok) for a in result.attempts] == outcomes
    assert all((a.error is None) == a.ok for a in result.attempts)
    assert result.provider == outcomes[-1][0]
    assert result.offline == (result.provider == "offline")
    assert (result.width, result.height) == (1280, 720)
    assert png_pixels(result.png).shape == (720, 1280, 3)
    expected_colour = {"replicate": REPLICATE_COLOUR, "pollinations": POLLINATIONS_COLOUR}
    if result.provider in expected_colour:
        assert close_to(centre_colour(result.png), expected_colour[result.provider])
    # Nobody was asked twice, and the fallback only after the primary failed.
    assert len(replicate_server.requests_to("/v1/models/")) == 1
    assert len(pollinations_server.requests) == (0 if result.provider == "replicate" else 1)


@pytest.mark.parametrize(
    ("primary", "reason"),
    [
        (PredictionScript.http_error(500), "HTTP 500"),
        (PredictionScript.refuse("NSFW content detected"), "refused (HTTP 422): NSFW"),
        (PredictionScript.slow(5.0), "timeout after 0.3 s"),
        (PredictionScript.succeed(image=b"GIF89a garbage"), "unreadable image"),
    ],
)
async def test_a_failed_attempt_says_why(
    replicate_server: ReplicateServer,
    pollinations_server: PollinationsServer,
    primary: PredictionScript,
    reason: str,
) -> None:
    replicate_server.script([primary])
    pollinations_server.script([ImageReply.ok()])

    result = await chain_over(replicate_server, pollinations_server).generate(SPEC)

    first = result.attempts[0]
    assert (first.provider, first.ok) == ("replicate", False)
    assert first.error is not None and first.error.startswith(reason)
    assert result.provider == "pollinations"


@dataclass
class Hanging:
    """A provider that never answers and ignores deadlines of its own."""

    name: str = "hanging"
    model: str = "never"
    paid: bool = False
    timeout_s: float = TIMEOUT_S
    started: asyncio.Event = field(default_factory=asyncio.Event)

    async def generate(self, spec: ThumbnailSpec) -> bytes:
        self.started.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


async def test_a_hanging_primary_is_abandoned_at_its_timeout(
    pollinations_server: PollinationsServer,
) -> None:
    pollinations_server.script([ImageReply.ok()])
    hanging = Hanging()
    chain = ProviderChain(
        [hanging, PollinationsProvider(base_url=pollinations_server.base_url, timeout_s=5.0)]
    )
    started = time.monotonic()

    result = await chain.generate(SPEC)

    assert time.monotonic() - started < TIMEOUT_S + 1.0
    assert hanging.started.is_set()
    assert [(a.provider, a.ok, a.error) for a in result.attempts] == [
        ("hanging", False, "timeout after 0.3 s"),
        ("pollinations", True, None),
    ]
    assert result.attempts[0].duration_ms >= 250


async def test_a_slow_replicate_hands_over_to_the_fallback_promptly(
    replicate_server: ReplicateServer, pollinations_server: PollinationsServer
) -> None:
    replicate_server.script([PredictionScript.slow(10.0)])
    pollinations_server.script([ImageReply.ok()])
    started = time.monotonic()

    result = await chain_over(replicate_server, pollinations_server).generate(SPEC)

    assert time.monotonic() - started < TIMEOUT_S + 1.0
    assert result.provider == "pollinations"


@dataclass
class Ledger:
    """Records the chain's reserve/settle calls; can refuse like a spent budget."""

    refuse: bool = False
    reserved: list[str] = field(default_factory=list)
    settled: list[tuple[str, bool]] = field(default_factory=list)

    async def reserve(self, provider: ThumbnailProvider) -> str:
        if self.refuse:
            raise BudgetRefusedError("thumbnail budget spent")
        self.reserved.append(provider.name)
        return f"token-{len(self.reserved)}"

    async def settle(self, token: str, *, billed: bool) -> None:
        self.settled.append((token, billed))


class BudgetRefusedError(Exception):
    pass


@pytest.mark.parametrize(
    ("primary", "billed", "provider"),
    [
        (PredictionScript.succeed(), True, "replicate"),
        (PredictionScript.slow(5.0), True, "pollinations"),  # it may have made (and billed) it
        (PredictionScript.drip(0.05), True, "pollinations"),
        (PredictionScript.succeed(image=b"GIF89a garbage"), True, "pollinations"),
        (PredictionScript.http_error(500), False, "pollinations"),
        (PredictionScript.refuse("NSFW content detected"), False, "pollinations"),
        (PredictionScript.fail("CUDA out of memory"), False, "pollinations"),
    ],
    ids=["success", "timeout", "drip", "unreadable", "http-500", "refusal", "failed"],
)
async def test_paid_attempts_are_reserved_and_settled(
    replicate_server: ReplicateServer,
    pollinations_server: PollinationsServer,
    primary: PredictionScript,
    billed: bool,
    provider: str,
) -> None:
    replicate_server.script([primary])
    pollinations_server.script([ImageReply.ok()])
    ledger = Ledger()

    result = await chain_over(
        replicate_server, pollinations_server, reserve=ledger.reserve, settle=ledger.settle
    ).generate(SPEC)

    assert result.provider == provider
    assert ledger.reserved == ["replicate"]  # Pollinations and offline are free
    assert ledger.settled == [("token-1", billed)]


async def test_free_providers_are_never_reserved(pollinations_server: PollinationsServer) -> None:
    pollinations_server.script([ImageReply.http_error(500)])
    ledger = Ledger()
    chain = default_chain(
        replicate_token=None,
        pollinations_base_url=pollinations_server.base_url,
        reserve=ledger.reserve,
        settle=ledger.settle,
    )

    result = await chain.generate(SPEC)

    assert [a.provider for a in result.attempts] == ["pollinations", "offline"]
    assert (ledger.reserved, ledger.settled) == ([], [])


async def test_a_refused_reservation_propagates_and_no_provider_runs(
    replicate_server: ReplicateServer, pollinations_server: PollinationsServer
) -> None:
    replicate_server.script([PredictionScript.succeed()])
    pollinations_server.script([ImageReply.ok()])
    ledger = Ledger(refuse=True)
    chain = chain_over(
        replicate_server, pollinations_server, reserve=ledger.reserve, settle=ledger.settle
    )

    with pytest.raises(BudgetRefusedError, match="thumbnail budget spent"):
        await chain.generate(SPEC)

    assert replicate_server.requests == []
    assert pollinations_server.requests == []
    assert ledger.settled == []


async def test_a_cancelled_paid_attempt_is_still_settled(
    replicate_server: ReplicateServer, pollinations_server: PollinationsServer
) -> None:
    replicate_server.script([PredictionScript.slow(5.0)])
    ledger = Ledger()
    chain = chain_over(
        replicate_server, pollinations_server, reserve=ledger.reserve, settle=ledger.settle
    )
    task = asyncio.create_task(chain.generate(SPEC))
    while not replicate_server.requests:
        await asyncio.sleep(0.01)

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert ledger.settled == [("token-1", True)]


async def test_when_every_provider_fails_the_error_lists_the_attempts(
    replicate_server: ReplicateServer, pollinations_server: PollinationsServer
) -> None:
    replicate_server.script([PredictionScript.http_error(500)])
    pollinations_server.script([ImageReply.not_image()])
    chain = chain_over(replicate_server, pollinations_server, offline=False)

    with pytest.raises(ProviderError) as raised:
        await chain.generate(SPEC)

    assert str(raised.value) == (
        "every provider failed: replicate: HTTP 500; pollinations: not an image: text/html"
    )
    assert [(a.provider, a.ok) for a in raised.value.attempts] == [
        ("replicate", False),
        ("pollinations", False),
    ]


def test_default_chain_orders_replicate_pollinations_offline() -> None:
    def names(chain: ProviderChain) -> list[str]:
        return [provider.name for provider in chain.providers]

    assert names(default_chain(replicate_token="r8_x")) == ["replicate", "pollinations", "offline"]
    assert names(default_chain(replicate_token=None)) == ["pollinations", "offline"]
    assert names(default_chain(replicate_token="", pollinations_enabled=False)) == ["offline"]
    assert names(default_chain(replicate_token="r8_x", pollinations_enabled=False)) == [
        "replicate",
        "offline",
    ]


@pytest.mark.parametrize(
    ("source_size", "image_format", "target"),
    [
        ((1024, 576), "PNG", (1280, 720)),
        ((1024, 1024), "JPEG", (1280, 720)),
        ((2000, 500), "WEBP", (1280, 720)),
        ((1280, 720), "JPEG", (640, 360)),
    ],
)
def test_any_image_becomes_a_png_of_exactly_the_asked_size(
    source_size: tuple[int, int], image_format: str, target: tuple[int, int]
) -> None:
    # A square with a centred red band: the cover crop keeps the centre.
    source = Image.new("RGB", source_size, (0, 200, 0))
    width, height = source_size
    source.paste((220, 0, 0), (width // 3, height // 3, 2 * width // 3, 2 * height // 3))
    buffer = io.BytesIO()
    source.save(buffer, format=image_format)

    png = to_png(buffer.getvalue(), width=target[0], height=target[1])

    pixels = png_pixels(png)
    assert pixels.shape == (target[1], target[0], 3)
    assert close_to(centre_colour(png), (220, 0, 0), tolerance=30)


def test_a_png_of_the_right_size_is_kept_as_it_is() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (1280, 720), (9, 9, 9)).save(buffer, format="PNG")

    assert to_png(buffer.getvalue(), width=1280, height=720) == buffer.getvalue()
