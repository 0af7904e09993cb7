"""Images in a prompt: a fixed number of tokens each in the bound (never their bytes), and
the model's per-image price reserved and, when the provider reports no cost, settled."""

from __future__ import annotations

import base64
import dataclasses
import os
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from agents.guard import BudgetExceededError, CallUsage, CostGuard, MemoryBudgetStore
from agents.guard.pricing import actual_micros, settled_micros, worst_case_micros
from agents.models import IMAGE_INPUT_TOKENS, image_inputs, prompt_tokens_upper_bound
from tests.agents.guard.support import PRICED, FakeClock, limits, meta

# PRICED ($1 per 1,000 input tokens, $2 per 1,000 output) plus $0.25 per input image.
WITH_IMAGES = dataclasses.replace(PRICED, input_per_image=Decimal("0.25"))


def data_uri(size_bytes: int) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(os.urandom(size_bytes)).decode()


def asking(*images: str, text: str = "Critique this thumbnail.") -> list[BaseMessage]:
    parts: list[str | dict] = [{"type": "text", "text": text}]
    parts += [{"type": "image_url", "image_url": {"url": url, "detail": "high"}} for url in images]
    return [SystemMessage("You review thumbnails."), HumanMessage(content=parts)]


def test_an_image_of_2_mb_reserves_the_same_as_one_of_20_kb() -> None:
    small = prompt_tokens_upper_bound(messages=asking(data_uri(20_000)))
    large = prompt_tokens_upper_bound(messages=asking(data_uri(2_000_000)))
    text_only = prompt_tokens_upper_bound(messages=asking())

    assert small == large
    # The image is its fixed count plus the few bytes of its placeholder, not 2.7M bytes.
    assert IMAGE_INPUT_TOKENS <= large - text_only <= IMAGE_INPUT_TOKENS + 32
    assert large < 3 * IMAGE_INPUT_TOKENS


def test_each_image_counts_and_the_text_around_it_still_does() -> None:
    one = prompt_tokens_upper_bound(messages=asking(data_uri(1000)))
    two = prompt_tokens_upper_bound(messages=asking(data_uri(1000), data_uri(500_000)))
    longer = prompt_tokens_upper_bound(messages=asking(data_uri(1000), text="x" * 5000))

    assert two - one >= IMAGE_INPUT_TOKENS
    assert longer - one >= 5000 - len("Critique this thumbnail.")
    assert image_inputs(asking(data_uri(10), data_uri(10))) == 2
    assert image_inputs(asking()) == 0


def test_langchains_own_image_blocks_count_as_images_too() -> None:
    def standard(raw: str) -> HumanMessage:
        return HumanMessage(
            content=[
                {"type": "text", "text": "What is this?"},
                {"type": "image", "base64": raw, "mime_type": "image/png"},
            ]
        )

    raw = base64.b64encode(os.urandom(300_000)).decode()
    large, small = standard(raw), standard("AAAA")
    assert image_inputs([large]) == 1
    assert prompt_tokens_upper_bound(messages=[large]) == prompt_tokens_upper_bound(
        messages=[small]
    )
    assert prompt_tokens_upper_bound(messages=[large]) < IMAGE_INPUT_TOKENS + 400
    # The message itself is left as it was (the bound works on a copy).
    assert large.content[1]["base64"] == raw  # type: ignore[index]


def test_the_per_image_price_is_reserved_per_image() -> None:
    # 1,000 prompt tokens at $0.001 + 100 output tokens at $0.002 + 2 images at $0.25.
    assert (
        worst_case_micros(
            model=WITH_IMAGES, prompt_tokens_upper_bound=1000, max_tokens=100, images=2
        )
        == 1_700_000
    )
    assert (
        worst_case_micros(model=PRICED, prompt_tokens_upper_bound=1000, max_tokens=100, images=2)
        == 1_200_000
    )  # a model with no per-image price bills images as tokens only


def test_settled_without_a_reported_cost_the_images_are_priced_on_top_of_the_tokens() -> None:
    usage = CallUsage(input_tokens=1_200, output_tokens=50, images=1)
    assert actual_micros(model=WITH_IMAGES, usage=usage) == 1_200_000 + 100_000 + 250_000
    # The provider's own figure wins whenever it reports one.
    reported = dataclasses.replace(usage, reported_cost_usd=Decimal("0.0042"))
    assert actual_micros(model=WITH_IMAGES, usage=reported) == 4_200
    # A call that ended before any usage arrived costs what was reserved, images included.
    held = worst_case_micros(
        model=WITH_IMAGES, prompt_tokens_upper_bound=2_000, max_tokens=100, images=1
    )
    cut_off = CallUsage(unreported=True, images=1)
    assert settled_micros(model=WITH_IMAGES, usage=cut_off, reserved_micros=held) == held


@given(
    prompt=st.integers(0, 100_000),
    completion=st.integers(0, 10_000),
    images=st.integers(0, 8),
    used_in=st.integers(0, 10),
    used_out=st.integers(0, 10),
)
def test_usage_within_the_bounds_never_costs_more_than_the_reservation(
    prompt, completion, images, used_in, used_out
) -> None:
    usage = CallUsage(
        input_tokens=prompt * used_in // 10,
        output_tokens=completion * used_out // 10,
        images=images,
    )
    assert actual_micros(model=WITH_IMAGES, usage=usage) <= worst_case_micros(
        model=WITH_IMAGES,
        prompt_tokens_upper_bound=prompt,
        max_tokens=completion,
        images=images,
    )


async def test_the_guard_holds_and_charges_the_image_price() -> None:
    clock = FakeClock()
    store = MemoryBudgetStore(clock=clock)
    guard = CostGuard(store=store, limits=limits(client="10"), clock=clock)

    reservation = await guard.reserve(
        meta=meta(), model=WITH_IMAGES, prompt_tokens_upper_bound=1000, max_tokens=0, images=1
    )
    assert reservation.amount_usd == Decimal("1.25")

    cost = await guard.settle(reservation, CallUsage(input_tokens=800, output_tokens=0, images=1))
    assert cost == Decimal("1.05")  # 800 tokens at $0.001 and the image at $0.25
    usage = await store.usage(reservation.buckets)
    assert {u.spent for u in usage.values()} == {1_050_000}
    assert {u.held for u in usage.values()} == {0}


async def test_an_image_price_that_breaks_the_per_call_cap_is_refused() -> None:
    clock = FakeClock()
    store = MemoryBudgetStore(clock=clock)
    guard = CostGuard(store=store, limits=limits(max_call="1.1"), clock=clock)
    fits = {"prompt_tokens_upper_bound": 1000, "max_tokens": 0}

    await guard.reserve(meta=meta(), model=WITH_IMAGES, **fits)  # $1, no image
    with pytest.raises(BudgetExceededError) as refused:
        await guard.reserve(meta=meta(), model=WITH_IMAGES, **fits, images=1)  # $1.25
    assert refused.value.details["bucket"] == "max_call"
    assert await guard.check(meta=meta(), model=WITH_IMAGES, **fits) is not None
    with pytest.raises(BudgetExceededError):
        await guard.check(meta=meta(), model=WITH_IMAGES, **fits, images=1)
