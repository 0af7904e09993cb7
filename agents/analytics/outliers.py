"""Outlier videos of a channel: which uploads beat (or trail) the channel's own norm.

Per video, from the statistics read at ``as_of``:

- ``views``;
- ``views_per_day = views / max(1, age_days)`` with fractional days (seconds / 86400), so
  a video less than a day old is not credited with more than its views;
- ``engagement_rate = (likes + comments) / max(1, views)``.

Shorts (``duration_seconds <= shorts_max_seconds``) and long-form videos are two groups
scored separately: a Short's views are not comparable to a long video's. A video with
an unknown duration (``None``) counts as long-form.

Within each group every metric is min-max normalised to [0, 1] over all the group's
videos (``(x - min) / (max - min)``; a metric whose max equals its min normalises to 0),
and ``SmartScore = 0.5 * n_views + 0.3 * n_velocity + 0.2 * n_engagement``.

The *baseline* of a group is its videos at least ``MIN_AGE_DAYS`` (7) days old at
``as_of``: younger videos are still collecting views, so they are scored but left out
of the quartiles and the median and never flagged. On the baseline's SmartScores the
quartiles use linear interpolation (numpy's default method, see ``stats``) and a video
is a *high* outlier above ``Q3 + 1.5 * IQR`` and a *low* outlier below
``Q1 - 1.5 * IQR`` (Tukey's fences). A group whose baseline has fewer than 4 videos has
no meaningful quartiles: its thresholds are ``None`` and it flags nothing.

``views_to_median`` is views divided by the median views of the group's baseline
(``None`` when the baseline is empty or its median is 0).

Each group keeps its per-video scores as aligned columns (``ScoredColumns``), in input
order; ``OutlierGroup.row``/``rows`` and ``OutlierReport.outliers`` build ``ScoredVideo``
dicts on demand. The models are built with ``model_construct``: building and
validating 100,000 row objects we just computed would cost more than computing them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict
from typing_extensions import TypedDict

from agents.analytics.stats import median_sorted, quantile_sorted
from agents.analytics.video import Video

Group = Literal["shorts", "long_form"]
Flag = Literal["high", "low", "none"]

MIN_AGE_DAYS = 7
MIN_BASELINE = 4
WEIGHT_VIEWS = 0.5
WEIGHT_VELOCITY = 0.3
WEIGHT_ENGAGEMENT = 0.2
IQR_FACTOR = 1.5
METHOD = (
    "SmartScore = 0.5*n_views + 0.3*n_views_per_day + 0.2*n_engagement, min-max normalised "
    "within Shorts and long-form separately; outliers outside Q1 - 1.5*IQR .. Q3 + 1.5*IQR "
    "(linear-interpolated quartiles) of videos at least 7 days old; groups under 4 such "
    "videos flag nothing."
)
_SECONDS_PER_DAY = 86_400.0


class ScoredVideo(TypedDict):
    """One video's scores, as a row (built on demand from a group's columns)."""

    video_id: str
    group: Group
    views: int
    age_days: float
    views_per_day: float
    engagement_rate: float
    n_views: float
    n_velocity: float
    n_engagement: float
    smart_score: float
    views_to_median: float | None
    in_baseline: bool
    flag: Flag


class ScoredColumns(BaseModel):
    """Per-video scores of one group as aligned columns (position i is one video).

    Columns, not rows: a row object per video costs more than the scoring itself at
    100,000 videos, and callers page through rows (``OutlierGroup.rows``) anyway.
    """

    model_config = ConfigDict(frozen=True)

    video_id: list[str]
    views: list[int]
    age_days: list[float]
    views_per_day: list[float]
    engagement_rate: list[float]
    n_views: list[float]
    n_velocity: list[float]
    n_engagement: list[float]
    smart_score: list[float]
    views_to_median: list[float | None]
    in_baseline: list[bool]
    flag: list[Flag]


class OutlierGroupStats(BaseModel):
    """The Shorts' or the long-form videos' quartiles and thresholds (SmartScore units),
    median views and counts, without the per-video scores."""

    model_config = ConfigDict(frozen=True)

    group: Group
    count: int
    baseline_count: int
    young_count: int
    q1: float | None
    median_score: float | None
    q3: float | None
    iqr: float | None
    high_threshold: float | None
    low_threshold: float | None
    median_views: float | None
    high_count: int
    low_count: int
    note: str


class OutlierGroup(OutlierGroupStats):
    """Summary and per-video scores of the Shorts or the long-form videos."""

    videos: ScoredColumns

    def row(self, index: int) -> ScoredVideo:
        c = self.videos
        return {
            "video_id": c.video_id[index],
            "group": self.group,
            "views": c.views[index],
            "age_days": c.age_days[index],
            "views_per_day": c.views_per_day[index],
            "engagement_rate": c.engagement_rate[index],
            "n_views": c.n_views[index],
            "n_velocity": c.n_velocity[index],
            "n_engagement": c.n_engagement[index],
            "smart_score": c.smart_score[index],
            "views_to_median": c.views_to_median[index],
            "in_baseline": c.in_baseline[index],
            "flag": c.flag[index],
        }

    def rows(self, *, flag: Flag | None = None) -> list[ScoredVideo]:
        """Rows in input order, optionally only those with ``flag``."""
        flags = self.videos.flag
        return [self.row(i) for i in range(self.count) if flag is None or flags[i] == flag]


class OutlierReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    as_of: datetime
    source: str
    method: str
    shorts_max_seconds: int
    min_age_days: int
    video_count: int
    median_views_all: float | None
    groups: dict[Group, OutlierGroup]

    def rows(self, *, flag: Flag | None = None) -> list[ScoredVideo]:
        """Rows of every group (Shorts first), each group in input order."""
        return [row for group in self.groups.values() for row in group.rows(flag=flag)]

    def outliers(self, flag: Flag = "high") -> list[ScoredVideo]:
        """Flagged rows, strongest first (highest SmartScore for high, lowest for low)."""
        return sorted(self.rows(flag=flag), key=lambda r: r["smart_score"], reverse=flag == "high")

    def find(self, video_id: str) -> ScoredVideo | None:
        for group in self.groups.values():
            ids = group.videos.video_id
            if video_id in ids:
                return group.row(ids.index(video_id))
        return None


def _normalise(values: list[int] | list[float]) -> list[float]:
    if not values:
        return []
    low = min(values)
    span = max(values) - low
    if span == 0:
        return [0.0] * len(values)
    return [(x - low) / span for x in values]


def _score_group(group: Group, members: list[Video], as_of: datetime) -> OutlierGroup:
    views = [v.views for v in members]
    # Subtracting an aware as_of from a naive published_at raises, which is the point.
    ages = [(as_of - v.published_at).total_seconds() / _SECONDS_PER_DAY for v in members]
    velocity = [n / (a if a > 1.0 else 1.0) for n, a in zip(views, ages, strict=True)]
    engagement = [(v.likes + v.comments) / (v.views if v.views > 1 else 1) for v in members]
    n_views = _normalise(views)
    n_velocity = _normalise(velocity)
    n_engagement = _normalise(engagement)
    scores = [
        WEIGHT_VIEWS * a + WEIGHT_VELOCITY * b + WEIGHT_ENGAGEMENT * c
        for a, b, c in zip(n_views, n_velocity, n_engagement, strict=True)
    ]
    mature = [age >= MIN_AGE_DAYS for age in ages]
    baseline_scores = sorted(s for s, ok in zip(scores, mature, strict=True) if ok)
    baseline_views = sorted(n for n, ok in zip(views, mature, strict=True) if ok)
    baseline_count = len(baseline_scores)

    median_views = median_sorted(baseline_views) if baseline_views else None
    q1 = med = q3 = iqr = high_threshold = low_threshold = None
    if baseline_count >= MIN_BASELINE:
        q1 = quantile_sorted(baseline_scores, 0.25)
        med = quantile_sorted(baseline_scores, 0.5)
        q3 = quantile_sorted(baseline_scores, 0.75)
        iqr = q3 - q1
        high_threshold = q3 + IQR_FACTOR * iqr
        low_threshold = q1 - IQR_FACTOR * iqr

    if high_threshold is not None and low_threshold is not None:
        hi_t, lo_t = high_threshold, low_threshold
        flags: list[Flag] = [
            "none" if not ok else "high" if s > hi_t else "low" if s < lo_t else "none"
            for s, ok in zip(scores, mature, strict=True)
        ]
    else:
        flags = ["none"] * len(members)
    ratios: list[float | None]
    ratios = [n / median_views for n in views] if median_views else [None] * len(members)

    high_count = flags.count("high")
    low_count = flags.count("low")
    if not members:
        note = "no videos in this group"
    elif baseline_count < MIN_BASELINE:
        note = (
            f"only {baseline_count} video(s) at least {MIN_AGE_DAYS} days old "
            f"(need {MIN_BASELINE}): scored, nothing flagged"
        )
    else:
        note = f"{high_count} high and {low_count} low outlier(s) among {baseline_count}"
    columns = ScoredColumns.model_construct(
        video_id=[v.video_id for v in members],
        views=views,
        age_days=ages,
        views_per_day=velocity,
        engagement_rate=engagement,
        n_views=n_views,
        n_velocity=n_velocity,
        n_engagement=n_engagement,
        smart_score=scores,
        views_to_median=ratios,
        in_baseline=mature,
        flag=flags,
    )
    return OutlierGroup.model_construct(
        group=group,
        count=len(members),
        baseline_count=baseline_count,
        young_count=len(members) - baseline_count,
        q1=q1,
        median_score=med,
        q3=q3,
        iqr=iqr,
        high_threshold=high_threshold,
        low_threshold=low_threshold,
        median_views=median_views,
        high_count=high_count,
        low_count=low_count,
        note=note,
        videos=columns,
    )


def is_short(duration_seconds: int | None, *, shorts_max_seconds: int = 60) -> bool:
    """Duration-only Shorts rule: known and at most ``shorts_max_seconds`` long."""
    return duration_seconds is not None and duration_seconds <= shorts_max_seconds


def score_outliers(
    videos: Iterable[Video],
    *,
    as_of: datetime,
    shorts_max_seconds: int = 60,
    source: str = "YouTube Data API statistics",
) -> OutlierReport:
    """Score every video and flag the outliers of its group (Shorts / long-form).

    ``as_of`` (timezone-aware) is when the statistics were read; rows come back in
    input order.
    """
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware (UTC)")
    if shorts_max_seconds < 0:
        raise ValueError(f"shorts_max_seconds must be >= 0, got {shorts_max_seconds}")
    all_videos = list(videos)
    limit = shorts_max_seconds
    shorts: list[Video] = []
    long_form: list[Video] = []
    add_short, add_long = shorts.append, long_form.append
    for video in all_videos:
        duration = video.duration_seconds
        if duration is not None and duration <= limit:
            add_short(video)
        else:
            add_long(video)
    all_views = sorted(v.views for v in all_videos)
    return OutlierReport.model_construct(
        as_of=as_of,
        source=(
            f"{source}, read as of {as_of.isoformat()}; "
            f"Shorts = known duration <= {shorts_max_seconds} s (duration-only rule)"
        ),
        method=METHOD,
        shorts_max_seconds=shorts_max_seconds,
        min_age_days=MIN_AGE_DAYS,
        video_count=len(all_videos),
        median_views_all=median_sorted(all_views) if all_views else None,
        groups={
            "shorts": _score_group("shorts", shorts, as_of),
            "long_form": _score_group("long_form", long_form, as_of),
        },
    )


__all__ = [
    "METHOD",
    "MIN_AGE_DAYS",
    "MIN_BASELINE",
    "OutlierGroup",
    "OutlierReport",
    "ScoredColumns",
    "ScoredVideo",
    "is_short",
    "score_outliers",
]
