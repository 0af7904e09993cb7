"""Measured features of a thumbnail, computed locally (Pillow and numpy, no model).

Everything here is a measurement of the pixels, reported as such: dominant colours (share
of the image), brightness and contrast of the luminance, an estimate of the area covered by
text or other fine detail (the share of 16×16 blocks with dense strong edges — high for
lettering, low for smooth photos and gradients; an estimate, not a text detector), the
aspect ratio, size and file size.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

# Decompression bombs: refuse anything larger than this many pixels before decoding.
MAX_PIXELS = 40_000_000
ACCEPTED_FORMATS = frozenset({"PNG", "JPEG", "WEBP"})
_BLOCK = 16
# A block counts as "detailed" when this share of its pixels are strong edges.
_EDGE_SHARE = 0.12
_EDGE_STRENGTH = 48.0


class ImageRejected(ValueError):
    """The upload is not an image we read (its message says why)."""


@dataclass(frozen=True, kw_only=True)
class DecodedImage:
    """The upload decoded into plain RGB pixels (no EXIF or other metadata kept)."""

    rgb: Image.Image
    format: str
    file_size: int


def decode(data: bytes) -> DecodedImage:
    """Open ``data`` safely: a known format, a bounded pixel count, fully decoded here."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            fmt = probe.format or ""
            if fmt not in ACCEPTED_FORMATS:
                raise ImageRejected(f"must be a PNG, JPEG or WebP image (got {fmt or 'unknown'})")
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise ImageRejected(f"is too large ({width}×{height} pixels)")
            probe.verify()  # a truncated or corrupt file fails here
            image = Image.open(io.BytesIO(data))
            image.load()
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected("is too large") from exc
    except Exception as exc:  # Pillow raises many types for bad input
        raise ImageRejected("is not an image we can read") from exc
    # Only the pixels go on: EXIF, ICC and text chunks are dropped with the original.
    converted = image.convert("RGB")
    rgb = Image.frombytes("RGB", converted.size, converted.tobytes())
    return DecodedImage(rgb=rgb, format=fmt, file_size=len(data))


def measure(decoded: DecodedImage, *, colours: int = 5) -> dict[str, Any]:
    """The measured features, as JSON."""
    image = decoded.rgb
    width, height = image.size
    pixels = np.asarray(image, dtype=np.float32)
    luminance = pixels @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
    return {
        "width": width,
        "height": height,
        "aspect_ratio": round(width / height, 3),
        "is_16_9": abs(width / height - 16 / 9) < 0.02,
        "file_size_bytes": decoded.file_size,
        "format": decoded.format,
        "brightness": round(float(luminance.mean()) / 255, 3),
        "contrast": round(float(luminance.std()) / 128, 3),
        "detail_area_share": round(_detail_share(luminance), 3),
        "dominant_colours": _dominant(image, colours),
    }


def _detail_share(luminance: np.ndarray) -> float:
    gx = np.abs(np.diff(luminance, axis=1))[:-1, :]
    gy = np.abs(np.diff(luminance, axis=0))[:, :-1]
    edges = (np.maximum(gx, gy) > _EDGE_STRENGTH).astype(np.float32)
    rows, cols = edges.shape[0] // _BLOCK, edges.shape[1] // _BLOCK
    if rows == 0 or cols == 0:
        return 0.0
    blocks = edges[: rows * _BLOCK, : cols * _BLOCK].reshape(rows, _BLOCK, cols, _BLOCK)
    share = blocks.mean(axis=(1, 3))
    return float((share > _EDGE_SHARE).mean())


def _dominant(image: Image.Image, colours: int) -> list[dict[str, Any]]:
    small = image.copy()
    small.thumbnail((160, 160))
    quantised = small.quantize(colors=colours, method=Image.Quantize.MEDIANCUT)
    palette = quantised.getpalette() or []
    counts: list[tuple[int, Any]] = sorted(quantised.getcolors() or [], reverse=True)
    total = sum(count for count, _ in counts) or 1
    result = []
    for count, index in counts:
        at = int(index) * 3  # (a palette image's colours are palette indices)
        r, g, b = palette[at : at + 3]
        result.append({"hex": f"#{r:02x}{g:02x}{b:02x}", "share": round(count / total, 3)})
    return result
