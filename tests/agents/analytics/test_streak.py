from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.analytics.streak import upload_streak
from agents.analytics.video import Video

from .support import AS_OF, make_video, video_lists


def _weekly(count: int, *, last: datetime, step_days: float = 7) -> list[Video]:
    return [
        make_video(published_at=last - timedelta(days=step_days * i), views=1000 + i)
        for i in range(count)
    ]


@given(video_lists)
def test_score_is_an_integer_in_range_and_components_in_unit_interval(vs: list[Video]) -> None:
    report = upload_streak(vs, as_of=AS_OF)
    assert isinstance(report.score, int)
    assert 0 <= report.score <= 100
    for value in report.components.model_dump().values():
        assert 0.0 <= value <= 1.0
    assert report.longest_weekly_streak >= report.current_weekly_streak >= 0
    assert report.shorts_count + report.long_form_count == report.upload_count
    assert sum(w.count for w in report.uploads_per_week) == report.upload_count
    assert report.upload_count + report.future_excluded == len(vs)


@given(video_lists)
def test_weekly_series_is_contiguous_mondays_up_to_as_of(vs: list[Video]) -> None:
    weeks = [w.week_start for w in upload_streak(vs, as_of=AS_OF).uploads_per_week]
    assert all(w.weekday() == 0 for w in weeks)
    assert all(b - a == timedelta(days=7) for a, b in itertools.pairwise(weeks))
    if weeks:
        assert weeks[-1] <= AS_OF.date() < weeks[-1] + timedelta(days=7)


@settings(max_examples=60)
@given(st.integers(10, 150), st.integers(0, 7 * 86_400 - 1))
def test_regular_weekly_uploads_score_high(count: int, since_last: int) -> None:
    last = AS_OF - timedelta(seconds=since_last)  # any weekday and time within the week
    report = upload_streak(_weekly(count, last=last), as_of=AS_OF)
    assert report.score >= 90
    assert report.current_weekly_streak == count
    assert report.longest_weekly_streak == count
    assert report.median_gap_days == 7
    assert report.average_days_between_uploads == pytest.approx(7)


@settings(max_examples=60)
@given(
    st.lists(st.integers(0, 2000 * 86_400), min_size=1, max_size=40),
    st.lists(st.integers(0, 400 * 86_400), min_size=2, max_size=6),
)
def test_score_never_rises_while_the_channel_is_silent(
    offsets: list[int], waits: list[int]
) -> None:
    vs = [make_video(published_at=AS_OF - timedelta(seconds=s)) for s in offsets]
    scores = [upload_streak(vs, as_of=AS_OF + timedelta(seconds=w)).score for w in sorted(waits)]
    assert scores == sorted(scores, reverse=True)


def test_long_silence_scores_zero_and_breaks_the_current_streak() -> None:
    vs = _weekly(52, last=AS_OF - timedelta(days=60))
    report = upload_streak(vs, as_of=AS_OF)
    assert report.components.recency == 0.0
    assert report.score == 0
    assert report.current_weekly_streak == 0
    assert report.longest_weekly_streak == 52


def test_irregular_uploads_score_below_regular_ones() -> None:
    regular = _weekly(30, last=AS_OF - timedelta(days=1))
    gaps = [1, 20, 2, 15, 1, 30, 3, 9, 1, 25, 2, 14] * 2
    times = [AS_OF - timedelta(days=1 + sum(gaps[:i])) for i in range(len(gaps) + 1)]
    irregular = [make_video(published_at=t) for t in times]
    assert upload_streak(irregular, as_of=AS_OF).score < upload_streak(regular, as_of=AS_OF).score


def test_current_week_is_allowed_to_be_open() -> None:
    monday = datetime(2025, 1, 6, 9, tzinfo=UTC)  # a Monday
    vs = _weekly(3, last=monday - timedelta(days=3))  # Fri 3 Jan and the two Fridays before
    assert upload_streak(vs, as_of=monday).current_weekly_streak == 3
    # A week later with nothing new the previous week is closed and empty.
    assert upload_streak(vs, as_of=monday + timedelta(days=7)).current_weekly_streak == 0


def test_empty_and_single_video_are_defined() -> None:
    empty = upload_streak([], as_of=AS_OF)
    assert (empty.score, empty.current_weekly_streak, empty.longest_weekly_streak) == (0, 0, 0)
    assert empty.average_days_between_uploads is None
    assert empty.median_gap_days is None and empty.days_since_last_upload is None
    assert empty.uploads_per_week == []
    assert [s.median_views for s in empty.by_weekday] == [None] * 7
    assert len(empty.by_hour) == 24

    one = upload_streak([make_video(age_days=2)], as_of=AS_OF)
    assert one.upload_count == 1
    assert one.score == 25  # f = r = 0, m = 1, recency = 1
    assert one.average_days_between_uploads is None
    assert one.current_weekly_streak == 1


def test_weekday_and_hour_medians_use_videos_at_least_a_week_old() -> None:
    tuesday_9 = datetime(2024, 10, 1, 9, tzinfo=UTC)
    vs = [
        make_video(published_at=tuesday_9, views=100),
        make_video(published_at=tuesday_9 + timedelta(days=7), views=300),
        make_video(published_at=tuesday_9 + timedelta(days=14, hours=5), views=1000),
        # Tuesday 31 Dec 2024 12:00, a day before AS_OF: too young to measure.
        make_video(published_at=AS_OF - timedelta(days=1), views=5),
    ]
    report = upload_streak(vs, as_of=AS_OF)
    tuesday = report.by_weekday[1]
    assert (tuesday.label, tuesday.count, tuesday.measured_count) == ("Tuesday", 4, 3)
    assert tuesday.median_views == 300
    assert report.by_hour[9].median_views == 200
    assert report.by_hour[14].median_views == 1000
    assert (report.by_hour[12].count, report.by_hour[12].median_views) == (1, None)
    assert all(s.count == 0 for s in report.by_weekday if s.slot != 1)


def test_shorts_counts_and_future_uploads() -> None:
    vs = [
        make_video(duration_seconds=30),
        make_video(duration_seconds=60),
        make_video(duration_seconds=61),
        make_video(duration_seconds=None),
        make_video(published_at=AS_OF + timedelta(hours=1)),
    ]
    report = upload_streak(vs, as_of=AS_OF)
    assert (report.shorts_count, report.long_form_count) == (2, 2)
    assert report.unknown_duration_count == 1
    assert report.future_excluded == 1
    assert upload_streak(vs, as_of=AS_OF, shorts_max_seconds=180).shorts_count == 3
    with pytest.raises(ValueError, match="timezone"):
        upload_streak(vs, as_of=datetime(2025, 1, 1))


def test_week_start_for_a_known_date() -> None:
    video = make_video(published_at=datetime(2024, 12, 18, 14, tzinfo=UTC))  # a Wednesday
    report = upload_streak([video], as_of=datetime(2024, 12, 20, tzinfo=UTC))
    assert [w.week_start for w in report.uploads_per_week] == [date(2024, 12, 16)]
