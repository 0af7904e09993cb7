"""Upload consistency of a channel: the "algorithm score", weekly streaks, cadence.

Only uploads published at or before ``as_of`` count (later ones are reported in
``future_excluded``). All calendar maths is in UTC; weeks are ISO weeks (Monday start).

Algorithm score (integer 0-100)
-------------------------------
Upload *days* are the distinct UTC dates with at least one upload (a batch released
the same day is one release), and gaps are the whole days between consecutive upload
days; the *recent gaps* are the last 26 of them (about half a year of weekly uploads).

- frequency ``f = min(1, 7 / median_gap)`` of the recent gaps: weekly or more often
  scores 1, monthly about 0.23;
- regularity ``r = 1 / (1 + CV)`` with ``CV = pstdev(gaps) / mean(gaps)`` of the recent
  gaps: identical gaps give 1, erratic gaps approach 0;
- recency ``s = clamp(1 - (silence - expected) / (3 * expected), 0, 1)``, where
  ``silence`` is the days since the last upload and ``expected = max(7, median_gap)``:
  no penalty within the usual gap, zero after four usual gaps of silence;
- momentum ``m = min(1, recent / expected_recent)``: uploads in the last 90 days against
  what the channel's lifetime pace predicts for 90 days, the pace being
  ``(uploads - 1) / max(7, days from first to last upload)``.

``score = round(100 * s * (0.40 * f + 0.35 * r + 0.25 * m))``. Recency multiplies the
rest because a silent channel is not being recommended however regular it used to be.
For a fixed upload history the score never rises as ``as_of`` moves later (``s`` and
``m`` only fall); perfectly regular weekly uploads, the last one within a week, score
at least 90.

Degenerate channels: no uploads -> score 0, streaks 0, averages ``None``, empty
series; one upload -> ``f = r = 0`` (one upload shows no cadence), ``m = 1`` if it is
within the last 90 days else 0, so the score is at most 25.

Weekly streaks count consecutive ISO weeks with at least one upload. The current
streak counts back from ``as_of``'s week; if that week has no upload yet it is still
open and the count starts from the week before.

Weekday/hour performance: median views per publish weekday and per UTC hour, over the
uploads at least 7 days old (younger ones are still collecting views); ``count`` is
every upload in the slot.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel, ConfigDict

from agents.analytics.stats import median
from agents.analytics.video import Video

RECENT_GAPS = 26
MOMENTUM_WINDOW_DAYS = 90
MIN_PERFORMANCE_AGE_DAYS = 7
WEIGHT_FREQUENCY = 0.40
WEIGHT_REGULARITY = 0.35
WEIGHT_MOMENTUM = 0.25
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class ScoreComponents(BaseModel):
    model_config = ConfigDict(frozen=True)

    frequency: float
    regularity: float
    recency: float
    momentum: float


class WeekCount(BaseModel):
    model_config = ConfigDict(frozen=True)

    week_start: date
    count: int


class SlotPerformance(BaseModel):
    """Uploads in one weekday or UTC hour and their median views."""

    model_config = ConfigDict(frozen=True)

    slot: int  # weekday 0 = Monday .. 6, or hour 0 .. 23
    label: str
    count: int
    measured_count: int
    median_views: float | None


class StreakReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    as_of: datetime
    method: str
    upload_count: int
    future_excluded: int
    score: int
    components: ScoreComponents
    median_gap_days: float | None
    days_since_last_upload: float | None
    average_days_between_uploads: float | None
    current_weekly_streak: int
    longest_weekly_streak: int
    uploads_per_week: list[WeekCount]
    shorts_count: int
    long_form_count: int
    unknown_duration_count: int
    by_weekday: list[SlotPerformance]
    by_hour: list[SlotPerformance]


METHOD = (
    "score = round(100 * recency * (0.40 * frequency + 0.35 * regularity + 0.25 * momentum)) "
    "over gaps between distinct UTC upload days (last 26 gaps); see agents/analytics/streak.py"
)


def _week_index(day_ordinal: int, weekday: int) -> int:
    # date(1, 1, 1) is a Monday with ordinal 1, so Mondays are 1 + 7k.
    return (day_ordinal - weekday - 1) // 7


def _week_start(week_index: int) -> date:
    return date.fromordinal(week_index * 7 + 1)


def _clamp01(x: float) -> float:
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x


def _components(
    published: list[datetime], as_of: datetime
) -> tuple[ScoreComponents, float | None, float | None]:
    """Score components, median recent gap and days since the last upload."""
    if not published:
        return ScoreComponents(frequency=0, regularity=0, recency=0, momentum=0), None, None
    silence = (as_of - published[-1]).total_seconds() / 86_400
    window_start = as_of - timedelta(days=MOMENTUM_WINDOW_DAYS)
    recent = sum(1 for p in published if p > window_start)
    days = sorted({p.date().toordinal() for p in published})
    gaps = [b - a for a, b in itertools.pairwise(days)][-RECENT_GAPS:]
    if not gaps:
        expected = 7.0
        recency = _clamp01(1 - (silence - expected) / (3 * expected))
        components = ScoreComponents(
            frequency=0, regularity=0, recency=recency, momentum=1.0 if recent else 0.0
        )
        return components, None, silence
    median_gap = float(statistics.median(gaps))
    frequency = min(1.0, 7 / median_gap)
    mean_gap = statistics.fmean(gaps)
    regularity = 0.0 if len(gaps) < 2 else 1 / (1 + statistics.pstdev(gaps) / mean_gap)
    expected = max(7.0, median_gap)
    recency = _clamp01(1 - (silence - expected) / (3 * expected))
    span_days = (published[-1] - published[0]).total_seconds() / 86_400
    pace = (len(published) - 1) / max(7.0, span_days)
    expected_recent = pace * MOMENTUM_WINDOW_DAYS
    momentum = min(1.0, recent / expected_recent)
    components = ScoreComponents(
        frequency=frequency, regularity=regularity, recency=recency, momentum=momentum
    )
    return components, median_gap, silence


def _streaks(week_indices: set[int], as_of_week: int) -> tuple[int, int]:
    current = 0
    week = as_of_week if as_of_week in week_indices else as_of_week - 1
    while week in week_indices:
        current += 1
        week -= 1
    longest = run = 0
    previous = None
    for week in sorted(week_indices):
        run = run + 1 if previous is not None and week == previous + 1 else 1
        longest = max(longest, run)
        previous = week
    return current, longest


def _performance(
    slots: list[int], views: list[int], measured: list[bool], labels: list[str]
) -> list[SlotPerformance]:
    counts = [0] * len(labels)
    measured_views: list[list[int]] = [[] for _ in labels]
    for slot, n, ok in zip(slots, views, measured, strict=True):
        counts[slot] += 1
        if ok:
            measured_views[slot].append(n)
    return [
        SlotPerformance(
            slot=i,
            label=label,
            count=counts[i],
            measured_count=len(measured_views[i]),
            median_views=median(measured_views[i]),
        )
        for i, label in enumerate(labels)
    ]


def upload_streak(
    videos: Iterable[Video], *, as_of: datetime, shorts_max_seconds: int = 60
) -> StreakReport:
    """Consistency score, weekly streaks, cadence and timing performance of uploads."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware (UTC)")
    as_of = as_of.astimezone(UTC)
    every = list(videos)
    uploads = sorted((v for v in every if v.published_at <= as_of), key=lambda v: v.published_at)
    # The contract says UTC already; converting the odd other offset keeps dates honest.
    published = [
        p if p.tzinfo is UTC else p.astimezone(UTC) for p in (v.published_at for v in uploads)
    ]
    components, median_gap, silence = _components(published, as_of)
    score = round(
        100
        * components.recency
        * (
            WEIGHT_FREQUENCY * components.frequency
            + WEIGHT_REGULARITY * components.regularity
            + WEIGHT_MOMENTUM * components.momentum
        )
    )

    utc_dates = [p.date() for p in published]
    week_of = [_week_index(d.toordinal(), d.weekday()) for d in utc_dates]
    as_of_day = as_of.date()
    as_of_week = _week_index(as_of_day.toordinal(), as_of_day.weekday())
    current, longest = _streaks(set(week_of), as_of_week)
    per_week: list[WeekCount] = []
    if week_of:
        counts: dict[int, int] = {}
        for week in week_of:
            counts[week] = counts.get(week, 0) + 1
        per_week = [
            WeekCount(week_start=_week_start(week), count=counts.get(week, 0))
            for week in range(week_of[0], as_of_week + 1)
        ]

    views = [v.views for v in uploads]
    mature_before = as_of - timedelta(days=MIN_PERFORMANCE_AGE_DAYS)
    measured = [p <= mature_before for p in published]
    by_weekday = _performance([d.weekday() for d in utc_dates], views, measured, list(WEEKDAYS))
    by_hour = _performance(
        [p.hour for p in published], views, measured, [f"{h:02d}:00 UTC" for h in range(24)]
    )
    durations = [v.duration_seconds for v in uploads]
    shorts = sum(1 for d in durations if d is not None and d <= shorts_max_seconds)
    average_gap = (
        (published[-1] - published[0]).total_seconds() / 86_400 / (len(published) - 1)
        if len(published) >= 2
        else None
    )
    return StreakReport(
        as_of=as_of,
        method=METHOD,
        upload_count=len(uploads),
        future_excluded=len(every) - len(uploads),
        score=score,
        components=components,
        median_gap_days=median_gap,
        days_since_last_upload=silence,
        average_days_between_uploads=average_gap,
        current_weekly_streak=current,
        longest_weekly_streak=longest,
        uploads_per_week=per_week,
        shorts_count=shorts,
        long_form_count=len(uploads) - shorts,
        unknown_duration_count=sum(1 for d in durations if d is None),
        by_weekday=by_weekday,
        by_hour=by_hour,
    )


__all__ = [
    "METHOD",
    "ScoreComponents",
    "SlotPerformance",
    "StreakReport",
    "WeekCount",
    "upload_streak",
]
