from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.analytics.seo import seo_breakdown, seo_score

titles = st.text(max_size=120)
keyword_lists = st.lists(st.text(max_size=20), max_size=6)


@given(titles, keyword_lists)
def test_score_is_an_int_in_range_and_deterministic(title: str, keywords: list[str]) -> None:
    score = seo_score(title=title, keywords=keywords)
    assert isinstance(score, int)
    assert 0 <= score <= 100
    assert seo_score(title=title, keywords=keywords) == score
    parts = seo_breakdown(title=title, keywords=keywords)
    assert parts.score == score
    assert 0 <= parts.length_points <= 40
    assert 0 <= parts.placement_points <= 35
    assert 0 <= parts.coverage_points <= 25


@given(st.integers(0, 120))
def test_length_points_follow_the_documented_curve(length: int) -> None:
    title = ("x" * length)[:length]
    points = seo_breakdown(title=title, keywords=[]).length_points
    if length < 40:
        assert points == pytest.approx(length)
    elif length <= 70:
        assert points == 40
    else:
        assert points == pytest.approx(max(0, 40 * (100 - length) / 30))


@given(st.from_regex(r"[a-z]{3,10}", fullmatch=True), st.integers(30, 60))
def test_primary_keyword_at_the_start_beats_it_at_the_end(keyword: str, filler: int) -> None:
    padding = " ".join(["word"] * (filler // 5))
    start = seo_score(title=f"{keyword} {padding}", keywords=[keyword])
    end = seo_score(title=f"{padding} {keyword}", keywords=[keyword])
    assert start > end


def test_examples_worked_by_hand() -> None:
    # 64 characters (40 points); "power bi" at 0 (35); 2 of 3 keywords (25 * 2/3).
    title = "Power BI Tutorial for Beginners: Build a Dashboard in 30 Minutes"
    assert len(title) == 64
    assert seo_score(title=title, keywords=["power bi", "Dashboard", "excel"]) == round(
        40 + 35 + 25 * 2 / 3
    )
    assert seo_score(title="", keywords=["x"]) == 0
    assert seo_score(title=title, keywords=[]) == 40
    # Whole words only: "bi" is not found inside "big".
    assert seo_breakdown(title="A big deal", keywords=["bi"]).keywords_missing == ["bi"]
    # Blank and repeated keywords are ignored.
    assert seo_breakdown(title=title, keywords=[" ", "POWER  BI", "power bi"]).keywords_found == [
        "power bi"
    ]


def test_a_bare_string_is_not_a_keyword_list() -> None:
    with pytest.raises(TypeError):
        seo_score(title="Python tips", keywords="python")
