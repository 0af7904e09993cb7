from __future__ import annotations

import random
import statistics
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.analytics.outliers import ScoredVideo, is_short, score_outliers
from agents.analytics.video import Video

from .support import AS_OF, make_video, video_lists, videos


def _rows_by_id(videos_: list[Video]) -> dict[str, ScoredVideo]:
    return {row["video_id"]: row for row in score_outliers(videos_, as_of=AS_OF).rows()}


@given(video_lists)
def test_normalised_values_and_scores_stay_in_unit_interval(vs: list[Video]) -> None:
    for row in score_outliers(vs, as_of=AS_OF).rows():
        for key in ("n_views", "n_velocity", "n_engagement", "smart_score"):
            assert 0.0 <= row[key] <= 1.0, (key, row)


@given(video_lists)
def test_smart_score_is_the_weighted_sum(vs: list[Video]) -> None:
    for row in score_outliers(vs, as_of=AS_OF).rows():
        expected = 0.5 * row["n_views"] + 0.3 * row["n_velocity"] + 0.2 * row["n_engagement"]
        assert row["smart_score"] == pytest.approx(expected, abs=1e-12)


@given(video_lists)
def test_metrics_follow_their_definitions(vs: list[Video]) -> None:
    by_id = {v.video_id: v for v in vs}
    for row in score_outliers(vs, as_of=AS_OF).rows():
        video = by_id[row["video_id"]]
        age = (AS_OF - video.published_at).total_seconds() / 86_400
        assert row["age_days"] == pytest.approx(age)
        assert row["views_per_day"] == pytest.approx(video.views / max(1.0, age))
        assert row["engagement_rate"] == pytest.approx(
            (video.likes + video.comments) / max(1, video.views)
        )


def test_one_video_leading_every_metric_scores_one_and_a_flat_metric_scores_zero() -> None:
    leader = make_video(views=10_000, likes=5_000, comments=100, age_days=10)
    others = [make_video(views=100 + i, likes=1, comments=0, age_days=300) for i in range(5)]
    rows = _rows_by_id([leader, *others])
    top = rows[leader.video_id]
    assert (top["n_views"], top["n_velocity"], top["n_engagement"]) == (1.0, 1.0, 1.0)
    assert top["smart_score"] == pytest.approx(1.0)

    flat = [make_video(views=500, likes=5, comments=0, age_days=50) for _ in range(5)]
    for row in score_outliers(flat, as_of=AS_OF).rows():
        assert row["n_views"] == row["n_velocity"] == row["n_engagement"] == 0.0
        assert row["flag"] == "none"


@pytest.mark.parametrize(
    ("age_days", "views", "expected"),
    [(0.25, 800, 800.0), (1.0, 800, 800.0), (4.0, 800, 200.0), (-3.0, 800, 800.0)],
)
def test_views_per_day_has_a_one_day_floor(age_days: float, views: int, expected: float) -> None:
    video = make_video(views=views, age_days=age_days)
    (row,) = score_outliers([video], as_of=AS_OF).rows()
    assert row["views_per_day"] == pytest.approx(expected)


@given(st.lists(videos(), max_size=25), st.integers(0, 200))
def test_shorts_rule(vs: list[Video], limit: int) -> None:
    report = score_outliers(vs, as_of=AS_OF, shorts_max_seconds=limit)
    by_id = {v.video_id: v for v in vs}
    for row in report.rows():
        duration = by_id[row["video_id"]].duration_seconds
        expected = "shorts" if duration is not None and duration <= limit else "long_form"
        assert row["group"] == expected
        assert is_short(duration, shorts_max_seconds=limit) == (expected == "shorts")
    assert report.groups["shorts"].count + report.groups["long_form"].count == len(vs)


def test_unknown_duration_is_long_form_and_the_limit_is_inclusive() -> None:
    assert is_short(60) and is_short(1)
    assert not is_short(61)
    assert not is_short(None)


@given(video_lists)
def test_young_videos_are_never_flagged_nor_in_the_baseline(vs: list[Video]) -> None:
    report = score_outliers(vs, as_of=AS_OF)
    for row in report.rows():
        if row["age_days"] < 7:
            assert row["flag"] == "none"
            assert not row["in_baseline"]
        else:
            assert row["in_baseline"]


@given(video_lists)
def test_thresholds_are_tukey_fences_on_the_baseline(vs: list[Video]) -> None:
    report = score_outliers(vs, as_of=AS_OF)
    for name, group in report.groups.items():
        rows = [r for r in report.rows() if r["group"] == name]
        baseline = sorted(r["smart_score"] for r in rows if r["in_baseline"])
        assert group.baseline_count == len(baseline)
        if len(baseline) < 4:
            assert group.high_threshold is None and group.low_threshold is None
            assert all(r["flag"] == "none" for r in rows)
            continue
        # Reference: the stdlib's "inclusive" method is numpy's default "linear".
        q1, q2, q3 = statistics.quantiles(baseline, n=4, method="inclusive")
        assert group.q1 == pytest.approx(q1, abs=1e-12)
        assert group.median_score == pytest.approx(q2, abs=1e-12)
        assert group.q3 == pytest.approx(q3, abs=1e-12)
        assert group.high_threshold == pytest.approx(q3 + 1.5 * (q3 - q1), abs=1e-12)
        assert group.low_threshold == pytest.approx(q1 - 1.5 * (q3 - q1), abs=1e-12)
        for r in rows:
            if not r["in_baseline"]:
                expected = "none"
            elif r["smart_score"] > group.high_threshold:
                expected = "high"
            elif r["smart_score"] < group.low_threshold:
                expected = "low"
            else:
                expected = "none"
            assert r["flag"] == expected
        assert group.high_count == sum(r["flag"] == "high" for r in rows)
        assert group.low_count == sum(r["flag"] == "low" for r in rows)


@given(video_lists)
def test_views_to_median_uses_the_baseline_median(vs: list[Video]) -> None:
    report = score_outliers(vs, as_of=AS_OF)
    for name, group in report.groups.items():
        rows = [r for r in report.rows() if r["group"] == name]
        baseline_views = [r["views"] for r in rows if r["in_baseline"]]
        expected_median = statistics.median(baseline_views) if baseline_views else None
        assert group.median_views == expected_median
        for r in rows:
            if expected_median:
                assert r["views_to_median"] == pytest.approx(r["views"] / expected_median)
            else:
                assert r["views_to_median"] is None


@settings(max_examples=50)
@given(st.lists(videos(), min_size=1, max_size=12), st.integers(1, 3))
def test_groups_under_four_mature_videos_flag_nothing(vs: list[Video], keep: int) -> None:
    mature = [v for v in vs if (AS_OF - v.published_at).days >= 7][:keep]
    young = [make_video(age_days=2, views=10**9, likes=10**7)]
    report = score_outliers(mature + young, as_of=AS_OF, shorts_max_seconds=0)
    assert all(r["flag"] == "none" for r in report.rows())
    assert "need 4" in report.groups["long_form"].note


@given(video_lists, st.randoms(use_true_random=False))
def test_input_order_does_not_change_scores(vs: list[Video], rnd: random.Random) -> None:
    shuffled = list(vs)
    rnd.shuffle(shuffled)
    assert _rows_by_id(vs) == _rows_by_id(shuffled)


def test_a_clear_outlier_is_flagged_high_and_rows_keep_input_order() -> None:
    ordinary = [
        make_video(views=1000 + 10 * i, likes=20, comments=2, age_days=100 + i) for i in range(12)
    ]
    hit = make_video(views=250_000, likes=9000, comments=800, age_days=60)
    flop = make_video(views=1, likes=0, comments=0, age_days=400)
    report = score_outliers([*ordinary[:6], hit, *ordinary[6:], flop], as_of=AS_OF)
    assert [r["video_id"] for r in report.outliers("high")] == [hit.video_id]
    assert report.find(hit.video_id)["views_to_median"] == pytest.approx(  # type: ignore[index]
        250_000 / statistics.median(v.views for v in [*ordinary, hit, flop])
    )
    ids = [r["video_id"] for r in report.groups["long_form"].rows()]
    assert ids == [v.video_id for v in [*ordinary[:6], hit, *ordinary[6:], flop]]
    assert report.find("missing") is None


def test_report_metadata_and_empty_input() -> None:
    report = score_outliers([], as_of=AS_OF)
    assert report.video_count == 0
    assert report.median_views_all is None
    assert report.groups["shorts"].note == "no videos in this group"
    assert AS_OF.isoformat() in report.source
    assert "1.5*IQR" in report.method
    dumped = score_outliers([make_video()], as_of=AS_OF).model_dump(mode="json")
    assert dumped["groups"]["long_form"]["videos"]["flag"] == ["none"]


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone"):
        score_outliers([], as_of=datetime(2025, 1, 1))
    naive = make_video(published_at=datetime(2024, 1, 1))
    with pytest.raises(TypeError):
        score_outliers([naive], as_of=AS_OF)
    with pytest.raises(ValueError, match="shorts_max_seconds"):
        score_outliers([], as_of=AS_OF, shorts_max_seconds=-1)


def test_future_published_video_is_young() -> None:
    vs = [make_video(age_days=30 + i) for i in range(5)] + [
        make_video(published_at=AS_OF + timedelta(days=3), views=10**8)
    ]
    future = score_outliers(vs, as_of=AS_OF).rows()[-1]
    assert future["flag"] == "none" and not future["in_baseline"]
