"""P14's measured features on images the test draws with Pillow."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw

from agents.thumbnails import OfflineRenderer, ThumbnailSpec
from agents.thumbnails.analysis import ImageRejected, decode, measure


def _png(image: Image.Image, fmt: str = "PNG", **save: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **save)
    return out.getvalue()


def test_brightness_contrast_and_colours_are_measured() -> None:
    black = measure(decode(_png(Image.new("RGB", (1280, 720), "black"))))
    assert black["brightness"] == 0 and black["contrast"] == 0
    assert black["dominant_colours"] == [{"hex": "#000000", "share": 1.0}]

    halves = Image.new("RGB", (1280, 720), "white")
    ImageDraw.Draw(halves).rectangle((0, 0, 639, 719), fill="black")
    measured = measure(decode(_png(halves)))
    assert measured["brightness"] == pytest.approx(0.5, abs=0.01)
    assert measured["contrast"] == pytest.approx(1.0, abs=0.02)
    top = measured["dominant_colours"][:2]
    assert {c["hex"] for c in top} == {"#000000", "#ffffff"}
    assert sum(c["share"] for c in top) > 0.95  # (the downscaled edge adds a few greys)
    assert measured["is_16_9"] and measured["aspect_ratio"] == pytest.approx(1.778, abs=0.001)


async def test_lettering_reads_as_more_detail_than_a_plain_card() -> None:
    plain = measure(decode(_png(Image.new("RGB", (1280, 720), (40, 90, 160)))))
    card = await OfflineRenderer().generate(ThumbnailSpec(prompt="p", title="Latte art at home"))
    lettered = measure(decode(card))
    assert plain["detail_area_share"] == 0
    assert 0.02 < lettered["detail_area_share"] < 0.6


def test_other_shapes_formats_and_metadata() -> None:
    image = Image.new("RGB", (800, 600), "orange")
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    jpeg = _png(image, "JPEG", exif=exif.tobytes())
    decoded = decode(jpeg)
    assert decoded.format == "JPEG" and not decoded.rgb.info  # EXIF and the rest dropped
    assert not decoded.rgb.getexif()
    measured = measure(decoded)
    assert measured["aspect_ratio"] == pytest.approx(1.333, abs=0.001) and not measured["is_16_9"]
    assert measured["file_size_bytes"] == len(jpeg)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not an image at all", "not an image"),
        (_png(Image.new("RGB", (64, 64)), "GIF"), "PNG, JPEG or WebP"),
        (_png(Image.new("RGB", (1280, 720)))[:200], "not an image"),
    ],
    ids=["text", "gif", "truncated"],
)
def test_what_is_not_a_readable_image_is_rejected_with_why(data: bytes, reason: str) -> None:
    with pytest.raises(ImageRejected, match=reason):
        decode(data)


def test_a_decompression_bomb_is_refused_before_it_is_decoded() -> None:
    huge = _png(Image.new("1", (9000, 9000)))  # 81 M pixels, a few KB as a PNG
    with pytest.raises(ImageRejected, match="too large"):
        decode(huge)
