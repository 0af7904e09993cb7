from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.analytics.keywords import keyword_metrics, related_terms
from agents.analytics.video import Video

from .support import AS_OF, make_video

MONTH = 30.4375


def test_search_volume_is_the_median_monthly_views_of_matching_videos() -> None:
    corpus = [
        make_video(title="Power BI in 10 minutes", views=3000, age_days=3 * MONTH),  # 1000/mo
        make_video(title="power  bi tips", views=8000, age_days=2 * MONTH),  # 4000/mo
        make_video(title="SQL", tags=("Power BI",), views=500, age_days=10),  # floor: 500/mo
        make_video(title="Powerful BIG ideas", views=10**9),  # not whole words
        make_video(title="Excel", description="power bi everywhere", views=10**9),  # no desc
    ]
    metrics = keyword_metrics(term=" Power BI ", videos=corpus, as_of=AS_OF)
    assert metrics.term == "power bi"
    assert metrics.matching_videos == 3
    assert metrics.search_volume == pytest.approx(1000)
    assert "median" in metrics.search_volume_method
    assert metrics.reason is None


def test_competition_and_relevance_from_channels() -> None:
    one_owner = [make_video(title="dbt tutorial", channel_id="UC_a") for _ in range(3)]
    others = [make_video(title=f"other {i}", channel_id=f"UC_{i}") for i in range(7)]
    solo = keyword_metrics(term="dbt", videos=one_owner + others, as_of=AS_OF)
    assert solo.channel_concentration == 1.0
    assert solo.effective_channels == 1.0
    assert solo.competition == 0  # one channel owns it: nobody competes
    assert solo.relevance == pytest.approx(1 / 8)

    shared = [make_video(title="dbt tutorial", channel_id=f"UC_{i}") for i in range(4)]
    spread = keyword_metrics(term="dbt", videos=shared + others[:6], as_of=AS_OF)
    # 4 of 10 videos (saturated share), 4 channels with one each: HHI = 0.25.
    assert spread.channel_concentration == pytest.approx(0.25)
    assert spread.competition == 75
    assert spread.match_share == pytest.approx(0.4)


def test_no_data_gives_nulls_with_a_reason_never_numbers() -> None:
    corpus = [make_video(title="Python basics")]
    none = keyword_metrics(term="kubernetes", videos=corpus, as_of=AS_OF)
    assert none.search_volume is None and none.competition is None and none.relevance is None
    assert "kubernetes" in (none.reason or "")
    assert keyword_metrics(term="x", videos=[], as_of=AS_OF).reason == "the corpus is empty"
    future = make_video(title="kubernetes", published_at=AS_OF + timedelta(days=1))
    assert keyword_metrics(term="kubernetes", videos=[future], as_of=AS_OF).matching_videos == 0
    with pytest.raises(ValueError, match="term"):
        keyword_metrics(term="  ", videos=corpus, as_of=AS_OF)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["python tips", "sql", "python", "excel python"]),
            st.sampled_from(["UC_a", "UC_b", "UC_c"]),
            st.integers(0, 10**7),
        ),
        max_size=30,
    )
)
def test_metric_ranges(rows: list[tuple[str, str, int]]) -> None:
    corpus = [make_video(title=t, channel_id=c, views=n) for t, c, n in rows]
    m = keyword_metrics(term="python", videos=corpus, as_of=AS_OF)
    if m.matching_videos == 0:
        assert m.search_volume is None and m.reason
        return
    assert m.competition is not None and 0 <= m.competition <= 100
    assert m.relevance is not None and 0 < m.relevance <= 1
    assert m.channel_concentration is not None and 0 < m.channel_concentration <= 1
    assert m.search_volume is not None and m.search_volume >= 0


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
