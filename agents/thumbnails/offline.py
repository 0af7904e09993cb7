"""The offline renderer: a Pillow title card, so a thumbnail request always completes.

A two-colour gradient (palette and direction chosen from a hash of the title), the title
word-wrapped in the bundled DejaVu Sans Bold as large as fits, outlined and shadowed for
contrast, and an "offline" badge in the top-left corner so that it never passes for AI
art. The same spec always gives the same PNG.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import io
import math
from importlib import resources

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from agents.thumbnails.spec import ThumbnailSpec

RGB = tuple[int, int, int]

# Mid-tone pairs: white text with a black outline reads on all of them, and none comes
# near pure white or black (the tests tell text from background that way).
PALETTES: tuple[tuple[RGB, RGB], ...] = (
    ((214, 48, 49), (108, 92, 231)),
    ((9, 132, 227), (0, 184, 148)),
    ((225, 112, 85), (253, 203, 110)),
    ((108, 92, 231), (232, 67, 147)),
    ((0, 148, 170), (45, 52, 160)),
    ((39, 174, 96), (41, 128, 185)),
    ((192, 57, 43), (243, 156, 18)),
    ((142, 68, 173), (52, 152, 219)),
    ((230, 126, 34), (155, 89, 182)),
    ((22, 160, 133), (211, 84, 0)),
    ((52, 73, 160), (231, 76, 60)),
    ((200, 80, 120), (60, 140, 200)),
)
BADGE_TEXT = "offline"
MAX_LINES = 4
TEXT_WIDTH_SHARE = 0.85
TEXT_HEIGHT_SHARE = 0.62  # the rest keeps the text clear of the badge
_FONT_RESOURCE = "fonts/DejaVuSans-Bold.ttf"
_TEXT_FILL = (255, 255, 255)
_OUTLINE_FILL = (0, 0, 0)
_LINE_SPACING = 1.08


class OfflineRenderer:
    """A ``ThumbnailProvider`` that needs no network; the chain's last resort."""

    name = "offline"
    model = "title-card"
    paid = False
    timeout_s: float | None = None

    async def generate(self, spec: ThumbnailSpec) -> bytes:
        return await asyncio.to_thread(render_title_card, spec)


def render_title_card(spec: ThumbnailSpec) -> bytes:
    """The title card for ``spec`` as PNG bytes of exactly ``spec.width`` × ``spec.height``."""
    text = " ".join((spec.title or spec.prompt).split()) or "Untitled video"
    # Each concept of a request (its seed) gets a palette of its own.
    key = text if spec.seed is None else f"{text}\x00{spec.seed}"
    card = _gradient(spec.width, spec.height, key).convert("RGBA")
    _draw_title(card, text)
    _draw_badge(card)
    out = io.BytesIO()
    card.convert("RGB").save(out, format="PNG")
    return out.getvalue()


def palette_for(title: str) -> tuple[RGB, RGB]:
    return PALETTES[_digest(title)[0] % len(PALETTES)]


def _digest(title: str) -> bytes:
    return hashlib.sha256(title.encode("utf-8")).digest()


def _gradient(width: int, height: int, title: str) -> Image.Image:
    start, end = (np.array(colour, dtype=np.float32) for colour in palette_for(title))
    ys = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    xs = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    diagonal = _digest(title)[1] % 2 == 0
    share = (xs + ys) / 2 if diagonal else np.broadcast_to(ys, (height, width))
    pixels = start + (end - start) * share[..., None]
    return Image.fromarray(np.rint(pixels).astype(np.uint8), mode="RGB")


@functools.cache
def _font_bytes() -> bytes:
    return resources.files("agents.thumbnails").joinpath(_FONT_RESOURCE).read_bytes()


def _font(size: int) -> ImageFont.FreeTypeFont:
    # A fresh face per render: FreeType faces must not be shared across threads.
    return ImageFont.truetype(io.BytesIO(_font_bytes()), size)


def _stroke(size: int) -> int:
    return max(2, size // 14)


def _line_height(font: ImageFont.FreeTypeFont) -> int:
    ascent, descent = font.getmetrics()
    return round((ascent + descent) * _LINE_SPACING)


def _fits(line: str, font: ImageFont.FreeTypeFont, max_width: float) -> bool:
    return font.getlength(line) + 2 * _stroke(int(font.size)) <= max_width


def _wrap(text: str, font: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    """Greedy word wrap; a word wider than a line is broken between characters."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if _fits(candidate, font, max_width):
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        for char in word:
            if current and not _fits(current + char, font, max_width):
                lines.append(current)
                current = ""
            current += char
    if current:
        lines.append(current)
    return lines


def _ellipsize(line: str, font: ImageFont.FreeTypeFont, max_width: float) -> str:
    while line and not _fits(line + "…", font, max_width):
        line = line[:-1].rstrip()
    return line + "…"


def _layout(text: str, width: int, height: int) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    """The largest font at which the text fits in at most ``MAX_LINES`` lines.

    A binary search over sizes: a smaller font never needs more lines, near enough.
    """
    max_width, max_height = width * TEXT_WIDTH_SHARE, height * TEXT_HEIGHT_SHARE

    def fitted(size: int) -> tuple[ImageFont.FreeTypeFont, list[str]] | None:
        font = _font(size)
        lines = _wrap(text, font, max_width)
        fits = len(lines) <= MAX_LINES and len(lines) * _line_height(font) <= max_height
        return (font, lines) if fits else None

    smallest = max(10, round(height * 0.04))
    low, high = smallest, max(smallest, round(height * 0.16))
    best = fitted(low)
    if best is None:  # too long even at the smallest size: cut it short
        font = _font(smallest)
        lines = _wrap(text, font, max_width)[:MAX_LINES]
        lines[-1] = _ellipsize(lines[-1], font, max_width)
        return font, lines
    while low < high:
        middle = (low + high + 1) // 2
        candidate = fitted(middle)
        if candidate is None:
            high = middle - 1
        else:
            best, low = candidate, middle
    return best


def _draw_title(card: Image.Image, text: str) -> None:
    width, height = card.size
    font, lines = _layout(text, width, height)
    size = int(font.size)
    stroke, line_height = _stroke(size), _line_height(font)
    top = (height - line_height * len(lines)) / 2
    placed = [
        ((width - font.getlength(line)) / 2, top + index * line_height, line)
        for index, line in enumerate(lines)
    ]

    shadow = Image.new("RGBA", card.size, (0, 0, 0, 0))
    shadow_draw = ImageDraw.Draw(shadow)
    offset = max(2, size // 16)
    for x, y, line in placed:
        shadow_draw.text(
            (x + offset, y + offset),
            line,
            font=font,
            fill=(0, 0, 0, 150),
            stroke_width=stroke,
            stroke_fill=(0, 0, 0, 150),
        )
    # Blur only around the text: a whole-card blur costs more than the rest of the render.
    radius = max(1, size // 24)
    reach = stroke + offset + 3 * radius
    box = (
        max(0, int(min(x for x, _, _ in placed)) - reach),
        max(0, int(top) - reach),
        min(width, int(width - min(x for x, _, _ in placed)) + reach),
        min(height, int(top + line_height * len(lines)) + reach),
    )
    blurred = shadow.crop(box).filter(ImageFilter.GaussianBlur(radius))
    card.alpha_composite(blurred, dest=box[:2])

    draw = ImageDraw.Draw(card)
    for x, y, line in placed:
        draw.text(
            (x, y), line, font=font, fill=_TEXT_FILL, stroke_width=stroke, stroke_fill=_OUTLINE_FILL
        )


def _draw_badge(card: Image.Image) -> None:
    font = _font(max(10, round(card.height * 0.032)))
    margin = max(4, round(card.height * 0.03))
    pad_x, pad_y = max(4, round(font.size * 0.6)), max(2, round(font.size * 0.35))
    left, top, right, bottom = font.getbbox(BADGE_TEXT)
    size = (math.ceil(right - left) + 2 * pad_x, math.ceil(bottom - top) + 2 * pad_y)
    badge = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(badge)
    draw.rounded_rectangle(
        (0, 0, size[0] - 1, size[1] - 1), radius=max(2, pad_y), fill=(15, 15, 15, 215)
    )
    draw.text((pad_x - left, pad_y - top), BADGE_TEXT, font=font, fill=(245, 245, 245, 255))
    card.alpha_composite(badge, dest=(margin, margin))
