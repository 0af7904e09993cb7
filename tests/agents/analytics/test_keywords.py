from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.analytics.keywords import (
    DEMAND_PROXY_METHOD,
    MIN_CORPUS_CHANNELS,
    MIN_CORPUS_VIDEOS,
    MIN_MATCHING_VIDEOS,
    Sample,
    keyword_metrics,
    related_terms,
)
from agents.analytics.video import Video

from .support import AS_OF, make_video

MONTH = 30.4375


def filler(n: int, *, channels: int = 3) -> list[Video]:
    """``n`` videos that match nothing, spread over ``channels`` channels."""
    return [make_video(title=f"other {i}", channel_id=f"UC_f{i % channels}") for i in range(n)]


def test_demand_proxy_is_the_median_monthly_views_of_matching_videos() -> None:
    corpus = [
        make_video(title="Power BI in 10 minutes", views=3000, age_days=3 * MONTH),  # 1000/mo
        make_video(title="power  bi tips", views=8000, age_days=2 * MONTH),  # 4000/mo
        make_video(title="SQL", tags=("Power BI",), views=500, age_days=10),  # floor: 500/mo
        make_video(title="Power BI dashboards", views=600, age_days=MONTH),  # 600/mo
        make_video(title="DAX in power bi", views=20_000, age_days=10 * MONTH),  # 2000/mo
        make_video(title="Powerful BIG ideas", views=10**9),  # not whole words
        make_video(title="Excel", description="power bi everywhere", views=10**9),  # no desc
    ]
    metrics = keyword_metrics(term=" Power BI ", videos=corpus, as_of=AS_OF)
    assert metrics.term == "power bi"
    assert metrics.matching_videos == 5
    assert metrics.demand_proxy.value == pytest.approx(1000)
    assert metrics.demand_proxy.reason is None
    assert metrics.demand_proxy.sample == Sample(videos=5, channels=1)
    assert "not searches" in DEMAND_PROXY_METHOD and "median" in DEMAND_PROXY_METHOD

    # Four matching videos: below the minimum, no median of four videos' luck.
    fewer = keyword_metrics(term="power bi", videos=corpus[1:], as_of=AS_OF)
    assert fewer.demand_proxy.value is None
    assert fewer.demand_proxy.reason == "only 4 matching video(s); it takes at least 5"


def test_one_channel_gives_null_competition_and_relevance_with_a_reason() -> None:
    """Once a test asserted competition 0 here: one channel 'owns' every term of its own
    corpus by construction, which says nothing about competition."""
    own = [make_video(title=f"dbt tutorial {i}", channel_id="UC_mine") for i in range(30)]
    solo = keyword_metrics(term="dbt", videos=own, as_of=AS_OF, roles={"UC_mine": "own"})
    assert solo.competition.value is None and solo.relevance.value is None
    reason = (
        "the corpus has videos from 1 channel(s); it takes at least 3 (add competitor channels)"
    )
    assert solo.competition.reason == reason and solo.relevance.reason == reason
    assert solo.competition.sample == Sample(
        videos=30, channels=1, own_channels=1, competitor_channels=0
    )
    assert solo.demand_proxy.value is not None  # the creator's own demand is still measured
    # Two channels are not enough either (the HHI alone would cap competition at 50).
    two = own + filler(5, channels=1)
    assert keyword_metrics(term="dbt", videos=two, as_of=AS_OF).competition.value is None


def test_competition_and_relevance_from_channels() -> None:
    one_owner = [make_video(title="dbt tutorial", channel_id="UC_a") for _ in range(5)]
    others = filler(25)
    solo = keyword_metrics(term="dbt", videos=one_owner + others, as_of=AS_OF)
    # Four channels in the corpus, one of them uses the term: measured, and low.
    assert solo.channel_concentration == 1.0
    assert solo.effective_channels == 1.0
    assert solo.competition.value == 0
    assert solo.relevance.value == pytest.approx(1 / 4)

    shared = [make_video(title="dbt tutorial", channel_id=f"UC_{i}") for i in range(8)]
    spread = keyword_metrics(term="dbt", videos=shared + others[:12], as_of=AS_OF)
    # 8 of 20 videos (saturated share), 8 channels with one each: HHI = 1/8.
    assert spread.channel_concentration == pytest.approx(1 / 8)
    assert spread.competition.value == round(100 * (1 - 1 / 8))
    assert spread.match_share == pytest.approx(0.4)
    assert spread.relevance.value == pytest.approx(8 / 11)
    assert spread.competition.sample == Sample(videos=20, channels=11)

    small = keyword_metrics(term="dbt", videos=shared + others[:3], as_of=AS_OF)
    assert small.competition.value is None
    assert small.competition.reason == "the corpus has 11 videos; it takes at least 20"
    assert small.relevance.value == pytest.approx(8 / 11)  # channels suffice for relevance


def test_no_data_gives_nulls_with_a_reason_never_numbers() -> None:
    corpus = [make_video(title="Python basics")]
    none = keyword_metrics(term="kubernetes", videos=corpus, as_of=AS_OF)
    for figure in (none.demand_proxy, none.competition, none.relevance):
        assert figure.value is None and "kubernetes" in (figure.reason or "")
    empty = keyword_metrics(term="x", videos=[], as_of=AS_OF)
    assert empty.competition.reason == "the corpus is empty"
    future = make_video(title="kubernetes", published_at=AS_OF + timedelta(days=1))
    assert keyword_metrics(term="kubernetes", videos=[future], as_of=AS_OF).matching_videos == 0
    with pytest.raises(ValueError, match="term"):
        keyword_metrics(term="  ", videos=corpus, as_of=AS_OF)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["python tips", "sql", "python", "excel python"]),
            st.sampled_from(["UC_a", "UC_b", "UC_c", "UC_d"]),
            st.integers(0, 10**7),
        ),
        max_size=40,
    )
)
def test_each_figure_is_measured_exactly_when_its_minimum_is_met(
    rows: list[tuple[str, str, int]],
) -> None:
    corpus = [make_video(title=t, channel_id=c, views=n) for t, c, n in rows]
    m = keyword_metrics(term="python", videos=corpus, as_of=AS_OF)
    channels = len({c for _, c, _ in rows})
    for figure in (m.demand_proxy, m.competition, m.relevance):
        assert (figure.value is None) == (figure.reason is not None)
    assert (m.demand_proxy.value is None) == (m.matching_videos < MIN_MATCHING_VIDEOS)
    assert (m.relevance.value is None) == (m.matching_videos == 0 or channels < 3)
    competition_measured = (
        channels >= MIN_CORPUS_CHANNELS
        and len(corpus) >= MIN_CORPUS_VIDEOS
        and m.matching_videos >= MIN_MATCHING_VIDEOS
    )
    assert (m.competition.value is not None) == competition_measured
    if m.competition.value is not None:
        assert 0 <= m.competition.value <= 100
    if m.relevance.value is not None:
        assert 0 < m.relevance.value <= 1
    if m.demand_proxy.value is not None:
        assert m.demand_proxy.value >= 0
    assert m.demand_proxy.sample.videos == m.matching_videos
    assert m.competition.sample.videos == len(corpus)


def test_related_terms_are_real_co_occurrences() -> None:
    def video(title: str, tags: tuple[str, ...]) -> Video:
        return make_video(title=title, tags=tags)

    corpus = [
        video("Pandas tutorial for data cleaning", ("pandas", "python", "data cleaning")),
        video("Pandas groupby explained", ("pandas", "python")),
        video("Pandas merge and data cleaning", ("pandas", "data cleaning")),
        video("Excel pivot tables", ("excel", "python")),
    ]
    related = related_terms(term="pandas", videos=corpus, as_of=AS_OF, min_count=2)
    by_term = {(r.kind, r.term): r for r in related}
    assert ("tag", "pandas") not in by_term  # the term itself
    assert by_term[("tag", "data cleaning")].count == 2
    assert by_term[("tag", "data cleaning")].lift == pytest.approx((2 / 3) / (2 / 4))
    assert by_term[("title_bigram", "data cleaning")].count == 2
    assert by_term[("tag", "python")].count == 2
    assert ("title_word", "groupby") not in by_term  # once only, under min_count
    assert related == sorted(related, key=lambda r: (-r.count, -r.lift, r.term, r.kind))
    assert related_terms(term="rust", videos=corpus, as_of=AS_OF) == []
