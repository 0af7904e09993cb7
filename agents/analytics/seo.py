"""A title's SEO score (0-100) from its length and its keywords.

Deterministic and explainable; three parts, summed and rounded:

- **Length, 40 points.** ``L`` = characters of the stripped title. The sweet spot is
  40-70 characters (long enough to carry keywords, short enough not to be cut off in
  search results, which show about 70). Below 40: ``40 * L / 40``. Above 70: falls
  linearly to 0 at YouTube's 100-character maximum, ``40 * (100 - L) / 30``.
- **Placement, 35 points.** The *primary* keyword is the first non-blank keyword. If it
  occurs in the title (case-insensitive, whole words), it earns
  ``35 * (1 - p / max(1, L - k))`` where ``p`` is where it starts and ``k`` its length:
  35 at the very start, 0 at the very end. Absent: 0.
- **Coverage, 25 points.** ``25 *`` the share of distinct keywords (case-insensitive)
  that occur in the title as whole words.

No keywords -> only the length part counts (at most 40). An empty title scores 0.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

SWEET_SPOT = (40, 70)
MAX_TITLE = 100
LENGTH_POINTS = 40.0
PLACEMENT_POINTS = 35.0
COVERAGE_POINTS = 25.0
_SPACES = re.compile(r"\s+")


class SeoBreakdown(BaseModel):
    model_config = ConfigDict(frozen=True)

    score: int
    title_length: int
    length_points: float
    placement_points: float
    coverage_points: float
    primary_keyword: str | None
    primary_position: int | None
    keywords_found: list[str]
    keywords_missing: list[str]


def _normalise(text: str) -> str:
    return _SPACES.sub(" ", text).strip().casefold()


def _find(phrase: str, text: str) -> int | None:
    match = re.search(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)", text)
    return match.start() if match else None


def _length_points(length: int) -> float:
    low, high = SWEET_SPOT
    if length < low:
        return LENGTH_POINTS * length / low
    if length <= high:
        return LENGTH_POINTS
    return LENGTH_POINTS * max(0, MAX_TITLE - length) / (MAX_TITLE - high)


def seo_breakdown(*, title: str, keywords: Sequence[str]) -> SeoBreakdown:
    """The score with its parts (see the module docstring for the formula)."""
    clean_title = _normalise(title)
    length = len(title.strip())
    distinct: list[str] = []
    for keyword in keywords:
        key = _normalise(keyword)
        if key and key not in distinct:
            distinct.append(key)
    if not clean_title:
        return SeoBreakdown(
            score=0,
            title_length=0,
            length_points=0,
            placement_points=0,
            coverage_points=0,
            primary_keyword=distinct[0] if distinct else None,
            primary_position=None,
            keywords_found=[],
            keywords_missing=distinct,
        )
    positions = {k: _find(k, clean_title) for k in distinct}
    found = [k for k in distinct if positions[k] is not None]
    missing = [k for k in distinct if positions[k] is None]
    primary = distinct[0] if distinct else None
    position = positions[primary] if primary is not None else None
    placement = 0.0
    if primary is not None and position is not None:
        room = max(1, len(clean_title) - len(primary))
        placement = PLACEMENT_POINTS * max(0.0, 1 - position / room)
    coverage = COVERAGE_POINTS * len(found) / len(distinct) if distinct else 0.0
    length_points = _length_points(length)
    score = round(length_points + placement + coverage)
    return SeoBreakdown(
        score=max(0, min(100, score)),
        title_length=length,
        length_points=length_points,
        placement_points=placement,
        coverage_points=coverage,
        primary_keyword=primary,
        primary_position=position,
        keywords_found=found,
        keywords_missing=missing,
    )


def seo_score(*, title: str, keywords: Sequence[str]) -> int:
    """SEO score 0-100 of a title for keywords, primary keyword first."""
    if isinstance(keywords, str):
        raise TypeError("keywords must be a sequence of strings, not one string")
    return seo_breakdown(title=title, keywords=keywords).score


__all__ = ["SeoBreakdown", "seo_breakdown", "seo_score"]
