"""An uploaded thumbnail's measured features beside those of a channel's outlier videos.

Plain arithmetic over ``analysis.measure`` results: for each compared feature, the upload's
value, the references' median and range, and how many references it exceeds. It says what
differs, not what is better: a channel's breakouts may share a look for reasons the pixels
do not show.
"""

from __future__ import annotations

from collections.abc import Sequence
from statistics import median
from typing import Any

# Feature → how a sentence says "more" and "less" of it.
COMPARED: dict[str, tuple[str, str]] = {
    "brightness": ("brighter", "darker"),
    "contrast": ("more contrasted", "flatter (less contrast)"),
    "detail_area_share": ("busier (more text or fine detail)", "plainer (less text or detail)"),
}


def compare_features(
    upload: dict[str, Any], references: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """``upload`` against ``references`` (each a ``measure`` result); empty references give
    ``compared_with: 0`` and no features."""
    count = len(references)
    features: dict[str, Any] = {}
    summary: list[str] = []
    for name, (more, less) in COMPARED.items():
        if not count:
            break
        values = sorted(float(r[name]) for r in references)
        yours = float(upload[name])
        below = sum(1 for v in values if v < yours)
        above = sum(1 for v in values if v > yours)
        features[name] = {
            "yours": yours,
            "median": round(median(values), 3),
            "low": values[0],
            "high": values[-1],
            "higher_than": below,
        }
        if below == 0 and above == 0:
            summary.append(f"{_cap(name_of(name))}: the same as all {count} outlier thumbnails.")
        elif below == count:
            summary.append(f"{_cap(more)} than all {count} outlier thumbnails.")
        elif above == count:
            summary.append(f"{_cap(less)} than all {count} outlier thumbnails.")
        else:
            summary.append(
                f"{_cap(more)} than {below} of {count} outlier thumbnails "
                f"(yours {yours:g}, their median {features[name]['median']:g})."
            )
    if count:
        wide = sum(1 for r in references if r.get("is_16_9"))
        shape = "16:9" if upload.get("is_16_9") else f"{upload.get('aspect_ratio')}:1"
        summary.append(f"Yours is {shape}; {wide} of {count} outlier thumbnails are 16:9.")
    return {"compared_with": count, "features": features, "summary": summary}


def name_of(feature: str) -> str:
    return {"detail_area_share": "text and detail area"}.get(feature, feature)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]
