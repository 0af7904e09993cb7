"""Hashtags in titles and descriptions, and how the videos using each one perform.

A hashtag is ``#`` followed by word characters (letters of any script, digits,
underscore; combining marks continue a tag so ``#हिन्दी`` stays whole), where the ``#``
is not preceded by a word character or another ``#``: ``a#b`` (a URL fragment, an
identifier) and ``##b`` are not hashtags. All-digit tags (``#2024``) count, as they do
on YouTube.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from pydantic import BaseModel, ConfigDict

from agents.analytics.stats import engagement_rate
from agents.analytics.video import Video

_START = re.compile(r"(?<![\w#])#(?=\w)")
TEXT_FIELDS = ("title", "description")


def _continues_tag(ch: str) -> bool:
    return ch.isalnum() or ch == "_" or unicodedata.category(ch) in ("Mn", "Mc")


def extract_hashtags(text: str) -> list[str]:
    """Hashtags (without ``#``) in order of appearance, original case, repeats kept."""
    found: list[str] = []
    for match in _START.finditer(text):
        start = end = match.end()
        while end < len(text) and _continues_tag(text[end]):
            end += 1
        found.append(text[start:end])
    return found


class HashtagStat(BaseModel):
    model_config = ConfigDict(frozen=True)

    tag: str  # the most used spelling (first seen on a tie)
    count: int  # videos using the tag (a video counts once)
    average_views: float
    average_engagement_rate: float
    video_ids: list[str]


def hashtag_stats(
    videos: Iterable[Video], *, text_fields: Sequence[str] = TEXT_FIELDS
) -> list[HashtagStat]:
    """Per hashtag (case-insensitive), videos using it and their average performance.

    Sorted by count, then average views (both descending), then tag.
    """
    unknown = [f for f in text_fields if f not in TEXT_FIELDS]
    if unknown or not text_fields:
        raise ValueError(f"text_fields must be a non-empty subset of {TEXT_FIELDS}, got {unknown}")
    spellings: dict[str, dict[str, int]] = {}
    users: dict[str, list[Video]] = {}
    for video in videos:
        tags_here: dict[str, str] = {}
        for field in text_fields:
            for tag in extract_hashtags(getattr(video, field)):
                key = tag.casefold()
                tags_here.setdefault(key, tag)
                counts = spellings.setdefault(key, {})
                counts[tag] = counts.get(tag, 0) + 1
        for key in tags_here:
            users.setdefault(key, []).append(video)
    stats = []
    for key, using in users.items():
        spelled = spellings[key]
        best = max(spelled, key=lambda s: spelled[s])  # dicts keep first-seen order on ties
        stats.append(
            HashtagStat(
                tag=best,
                count=len(using),
                average_views=sum(v.views for v in using) / len(using),
                average_engagement_rate=sum(
                    engagement_rate(views=v.views, likes=v.likes, comments=v.comments)
                    for v in using
                )
                / len(using),
                video_ids=[v.video_id for v in using],
            )
        )
    stats.sort(key=lambda s: (-s.count, -s.average_views, s.tag.casefold()))
    return stats


__all__ = ["HashtagStat", "extract_hashtags", "hashtag_stats"]
