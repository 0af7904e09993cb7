from __future__ import annotations

import math
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.analytics.search_competition import (
    MIN_KNOWN_SUBSCRIBERS,
    MIN_SEARCH_RESULTS,
    SearchResult,
    search_figures,
)

from .support import AS_OF


def result(
    views: int | None, *, days: float, subscribers: int | None, channel: str = "UC_x"
) -> SearchResult:
    return SearchResult(
        video_id=f"v{views}-{days}-{channel}",
        channel_id=channel,
        views=views,
        published_at=AS_OF - timedelta(days=days),
        channel_subscribers=subscribers,
    )


def test_competition_and_demand_by_hand() -> None:
    results = [
        result(1_000, days=10, subscribers=1_000, channel="UC_a"),  # 100/day
        result(20_000, days=100, subscribers=200_000, channel="UC_b"),  # 200/day
        result(300_000, days=1000, subscribers=2_000_000, channel="UC_c"),  # 300/day
        result(5_000, days=0.2, subscribers=None, channel="UC_d"),  # floor: 5000/day
        result(40, days=4, subscribers=50, channel="UC_a"),  # 10/day
    ]
    figures = search_figures(results, as_of=AS_OF)
    assert figures.results == 5 and figures.channels == 4
    assert figures.median_views == 5_000
    # Subscribers known for four results: 50, 1,000, 200,000, 2,000,000.
    assert figures.median_subscribers == (1_000 + 200_000) / 2
    assert figures.big_channel_share == 2 / 4
    expected = round(
        100
        * (
            0.4 * min(1, math.log10(1 + 100_500) / 6)
            + 0.4 * min(1, math.log10(1 + 5_000) / 7)
            + 0.2 * 0.5
        )
    )
    assert figures.competition == expected
    assert figures.demand == 200  # median of 100, 200, 300, 5000, 10
    assert figures.competition_reason is None and figures.demand_reason is None


def test_below_the_minimums_the_figures_are_null_with_a_reason() -> None:
    four = [result(100 * i, days=10, subscribers=10**6) for i in range(1, 5)]
    thin = search_figures(four, as_of=AS_OF)
    assert thin.competition is None and thin.demand is None
    assert (
        thin.demand_reason == "YouTube returned 4 result(s) with a view count; it takes at least 5"
    )
    hidden = [result(100 * i, days=10, subscribers=None) for i in range(1, 8)]
    hidden[0] = result(5, days=1, subscribers=10)
    private = search_figures(hidden, as_of=AS_OF)
    assert private.demand is not None
    assert private.competition is None
    assert private.competition_reason == (
        "only 1 of 7 results' channels show a subscriber count; it takes at least 3"
    )
    none = search_figures([], as_of=AS_OF)
    assert none.median_views is None and none.competition is None and none.demand is None


@given(
    st.lists(
        st.tuples(
            st.none() | st.integers(0, 10**10),
            st.floats(0, 5000),
            st.none() | st.integers(0, 10**9),
        ),
        max_size=30,
    )
)
def test_ranges_and_when_figures_exist(rows: list[tuple[int | None, float, int | None]]) -> None:
    results = [
        result(v, days=d, subscribers=s, channel=f"UC_{i}") for i, (v, d, s) in enumerate(rows)
    ]
    figures = search_figures(results, as_of=AS_OF)
    with_views = sum(1 for v, _, _ in rows if v is not None)
    with_subs = sum(1 for _, _, s in rows if s is not None)
    assert (figures.demand is not None) == (with_views >= MIN_SEARCH_RESULTS)
    assert (figures.competition is not None) == (
        with_views >= MIN_SEARCH_RESULTS and with_subs >= MIN_KNOWN_SUBSCRIBERS
    )
    if figures.competition is not None:
        assert 0 <= figures.competition <= 100
    if figures.demand is not None:
        assert figures.demand >= 0
    if figures.big_channel_share is not None:
        assert 0 <= figures.big_channel_share <= 1


def test_naive_as_of_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        search_figures([], as_of=AS_OF.replace(tzinfo=None))
