"""The offline title card: right size, deterministic, readable, and marked as offline."""

from __future__ import annotations

import numpy as np
import pytest

from agents.thumbnails import OfflineRenderer, ProviderChain, ThumbnailSpec
from agents.thumbnails.offline import PALETTES, palette_for
from tests.agents.thumbnails.conftest import png_pixels

# The badge sits in the top-left corner, inside this share of the card.
BADGE_REGION = (slice(0, 72), slice(0, 160))  # rows, columns of a 1280×720 card


def text_mask(pixels: np.ndarray) -> np.ndarray:
    """Pixels of the white title or its black outline (the palettes are all mid-tones)."""
    return np.all(pixels >= 235, axis=-1) | np.all(pixels <= 25, axis=-1)


async def test_the_card_is_a_1280x720_png_made_offline() -> None:
    result = await ProviderChain([OfflineRenderer()]).generate(
        ThumbnailSpec(prompt="espresso", title="Espresso at Home")
    )

    assert (result.provider, result.model, result.offline) == ("offline", "title-card", True)
    assert png_pixels(result.png).shape == (720, 1280, 3)


async def test_the_same_spec_gives_the_same_png() -> None:
    spec = ThumbnailSpec(prompt="espresso", title="Espresso at Home", seed=1)

    assert await OfflineRenderer().generate(spec) == await OfflineRenderer().generate(spec)


async def test_different_titles_get_different_palettes() -> None:
    titles = [f"Video number {n}" for n in range(8)]
    corners = set()
    for title in titles:
        spec = ThumbnailSpec(prompt="", title=title, width=320, height=180)
        pixels = png_pixels(await OfflineRenderer().generate(spec))
        corners.add(tuple(int(c) for c in pixels[-1, -1]))  # bottom right: plain gradient

    assert len({palette_for(title) for title in titles}) > 1
    assert len(corners) > 1


def test_palettes_stay_clear_of_the_text_colours() -> None:
    for start, end in PALETTES:
        for colour in (start, end):
            assert not text_mask(np.array([[colour]], dtype=np.uint8)).any()


@pytest.mark.parametrize(
    "title",
    [
        "Short",
        "How I Built a Tiny Espresso Machine From Scrap Parts in 30 Days",
        " ".join(["Supercalifragilisticexpialidocious"] * 40),
        "A" * 300,
    ],
    ids=["short", "typical", "many-long-words", "one-unbreakable-word"],
)
async def test_the_title_stays_inside_the_card(title: str) -> None:
    pixels = png_pixels(await OfflineRenderer().generate(ThumbnailSpec(prompt="x", title=title)))
    mask = text_mask(pixels)
    mask[BADGE_REGION] = False
    rows, columns = np.nonzero(mask)

    assert rows.size > 500  # the title is there
    margin_x, margin_y = int(1280 * 0.05), int(720 * 0.1)
    assert columns.min() >= margin_x and columns.max() < 1280 - margin_x
    assert rows.min() >= margin_y and rows.max() < 720 - margin_y


async def test_the_prompt_stands_in_for_a_missing_title() -> None:
    renderer = OfflineRenderer()
    with_prompt = await renderer.generate(ThumbnailSpec(prompt="Latte Art Basics"))
    with_title = await renderer.generate(ThumbnailSpec(prompt="ignored", title="Latte Art Basics"))

    assert with_prompt == with_title


async def test_a_short_title_is_drawn_large() -> None:
    pixels = png_pixels(await OfflineRenderer().generate(ThumbnailSpec(prompt="", title="Hi")))
    mask = text_mask(pixels)
    mask[BADGE_REGION] = False
    rows = np.nonzero(mask)[0]

    assert rows.max() - rows.min() > 720 * 0.1  # taller than a tenth of the card


async def test_the_offline_badge_marks_the_top_left_corner() -> None:
    pixels = png_pixels(await OfflineRenderer().generate(ThumbnailSpec(prompt="", title="Hi")))
    badge, plain = pixels[BADGE_REGION], pixels[-72:, :160]  # top left, bottom left

    def light(region: np.ndarray) -> int:
        return int(np.all(region >= 235, axis=-1).sum())

    def dark(region: np.ndarray) -> int:
        return int(np.all(region <= 60, axis=-1).sum())

    assert light(badge) > 50 and dark(badge) > 500  # light letters on a dark label
    assert light(plain) == 0 and dark(plain) == 0  # the same corner size, plain gradient


async def test_other_sizes_are_drawn_at_that_size() -> None:
    pixels = png_pixels(
        await OfflineRenderer().generate(
            ThumbnailSpec(prompt="", title="Small", width=320, height=180)
        )
    )

    assert pixels.shape == (180, 320, 3)


async def test_the_concepts_of_one_request_differ_by_their_seed() -> None:
    renderer = OfflineRenderer()
    cards = {
        await renderer.generate(ThumbnailSpec(prompt="p", title="Latte art", seed=seed))
        for seed in (1, 2, 3)
    }
    assert len(cards) > 1
