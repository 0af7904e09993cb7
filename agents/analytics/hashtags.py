"""Hashtags in titles and descriptions, and how the videos using each one perform.

A hashtag is ``#`` followed by word characters (letters of any script, digits,
underscore; combining marks continue a tag so ``#हिन्दी`` stays whole), where the ``#``
is not preceded by a word character or another ``#``: ``a#b`` (a URL fragment, an
identifier) and ``##b`` are not hashtags. All-digit tags (``#2024``) count, as they do
on YouTube.

``hashtag_stats`` measures a corpus (the client's own and competitor channels): per tag,
the videos and channels using it and those videos' average views and engagement. The
averages follow the keyword figures' minimum sample (``keywords.MIN_MATCHING_VIDEOS``,
5 videos): below it they are ``None`` and ``reason`` says why, never one video's numbers
presented as an average. Counts are always given: a count is exact at any size.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from pydantic import BaseModel, ConfigDict

from agents.analytics.keywords import MIN_MATCHING_VIDEOS
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
    channels: int  # channels with at least one of those videos
    average_views: float | None  # None below MIN_MATCHING_VIDEOS videos
    average_engagement_rate: float | None
    reason: str | None  # why the averages are None
    video_ids: list[str]


def hashtag_stats(
    videos: Iterable[Video], *, text_fields: Sequence[str] = TEXT_FIELDS
) -> list[HashtagStat]:
    """Per hashtag (case-insensitive), videos using it and their average performance.

    Sorted by count, then average views (both descending; no average last), then tag.
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
        views: float | None = None
        engagement: float | None = None
        reason: str | None = None
        if len(using) >= MIN_MATCHING_VIDEOS:
            views = sum(v.views for v in using) / len(using)
            engagement = sum(
                engagement_rate(views=v.views, likes=v.likes, comments=v.comments) for v in using
            ) / len(using)
        else:
            reason = (
                f"only {len(using)} video(s) use it; averages take at least {MIN_MATCHING_VIDEOS}"
            )
        stats.append(
            HashtagStat(
                tag=best,
                count=len(using),
                channels=len({v.channel_id for v in using}),
                average_views=views,
                average_engagement_rate=engagement,
                reason=reason,
                video_ids=[v.video_id for v in using],
            )
        )
    stats.sort(key=lambda s: (-s.count, -(s.average_views or -1.0), s.tag.casefold()))
    return stats


__all__ = ["HashtagStat", "extract_hashtags", "hashtag_stats"]
