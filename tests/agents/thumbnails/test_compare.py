"""An upload's measured features beside its channel's outlier thumbnails (images made with
Pillow, measured by the same code as an upload)."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from agents.thumbnails.analysis import decode, measure
from agents.thumbnails.compare import compare_features


def measured(colour: tuple[int, int, int], *, text: bool = False, size=(1280, 720)) -> dict:
    image = Image.new("RGB", size, colour)
    if text:
        draw = ImageDraw.Draw(image)
        for row in range(0, size[1], 40):
            draw.text((10, row), "BIG TEXT " * 20, fill=(0, 0, 0), font_size=28)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return measure(decode(out.getvalue()))


def test_a_dark_plain_upload_beside_bright_busy_outliers() -> None:
    outliers = [measured((235, 230, 40), text=True) for _ in range(3)]
    upload = measured((20, 20, 30))

    result = compare_features(upload, outliers)

    assert result["compared_with"] == 3
    brightness = result["features"]["brightness"]
    assert brightness["higher_than"] == 0 and brightness["yours"] < brightness["low"]
    assert result["features"]["detail_area_share"]["higher_than"] == 0
    assert "Darker than all 3 outlier thumbnails." in result["summary"]
    assert "Plainer (less text or detail) than all 3 outlier thumbnails." in result["summary"]
    assert result["summary"][-1] == "Yours is 16:9; 3 of 3 outlier thumbnails are 16:9."


def test_in_between_says_how_many_and_the_median() -> None:
    outliers = [measured((v, v, v)) for v in (40, 120, 200)]
    upload = measured((160, 160, 160), size=(1000, 1000))

    result = compare_features(upload, outliers)

    assert result["features"]["brightness"]["higher_than"] == 2
    assert result["summary"][0].startswith("Brighter than 2 of 3 outlier thumbnails (yours ")
    assert result["summary"][-1] == "Yours is 1.0:1; 3 of 3 outlier thumbnails are 16:9."


def test_the_same_look_is_said_plainly() -> None:
    result = compare_features(measured((90, 90, 90)), [measured((90, 90, 90))] * 2)
    assert result["summary"][0] == "Brightness: the same as all 2 outlier thumbnails."


def test_nothing_to_compare_with() -> None:
    assert compare_features(measured((1, 2, 3)), []) == {
        "compared_with": 0, "features": {}, "summary": []
    }  # fmt: skip
