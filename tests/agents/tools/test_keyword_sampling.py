"""keyword_research with a data layer that samples YouTube search (``SamplesSearch``), and
the hashtags tool's promise about a given text (P11)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents.analytics.search_competition import SearchResult, search_figures
from agents.sample_data import SAMPLE_NOW, InMemoryAgentData
from agents.tools._search import KeywordSearch, SamplesSearch, SearchSampling
from tests.agents.conftest import make_context
from tests.agents.tools.support import run_tool

OBSERVED = SAMPLE_NOW - timedelta(hours=3)


def results(n: int) -> tuple[SearchResult, ...]:
    return tuple(
        SearchResult(
            video_id=f"yt{i}",
            channel_id=f"UCbig{i % 3}",
            views=10_000 * (i + 1),
            published_at=OBSERVED - timedelta(days=10 * (i + 1)),
            channel_subscribers=None if i == 0 else 50_000 * i,
        )
        for i in range(n)
    )


class SearchingData(InMemoryAgentData):
    """The sample corpus plus canned YouTube searches; records what it was asked."""

    def __init__(self, searches: dict[str, KeywordSearch]) -> None:
        super().__init__()
        self.searches = searches
        self.calls: list[tuple[list[str], str, str | None]] = []

    async def sample_search(
        self, keywords: Sequence[str], *, client_id: str, ip_hash: str | None
    ) -> SearchSampling:
        self.calls.append((list(keywords), client_id, ip_hash))
        return SearchSampling(
            available=True,
            note=None,
            searches={
                k: self.searches.get(
                    k,
                    KeywordSearch(
                        keyword=k, sampled=False, reason="not sampled: beyond the top 1 keyword"
                    ),
                )
                for k in keywords
            },
            sample_size=1,
            max_results=25,
            units_spent=102,
            searches_made=1,
        )


async def test_sampled_keywords_carry_youtube_figures_computed_from_the_results() -> None:
    espresso = KeywordSearch(
        keyword="espresso",
        sampled=True,
        total_results=1_234_567,
        results=results(8),
        observed_at=OBSERVED,
    )
    data = SearchingData({"espresso": espresso})
    assert isinstance(data, SamplesSearch)
    context = make_context(data=data, ip_hash="iphash-1")

    out = await run_tool("keyword_research", {"topic": "espresso"}, context)

    ((asked, client_id, ip_hash),) = data.calls
    assert asked[0] == "espresso" and len(asked) == len(set(asked))
    assert (client_id, ip_hash) == ("client-1", "iphash-1")
    top = next(k for k in out["primary"] if k["keyword"] == "espresso")
    youtube = top["youtube"]
    expected = search_figures(espresso.results, as_of=OBSERVED)
    assert youtube["status"] == "sampled" and youtube["reason"] is None
    assert youtube["result_count_estimate"]["value"] == 1_234_567
    assert "estimate" in youtube["result_count_estimate"]["source"]
    assert youtube["search_competition"]["value"] == expected.competition
    assert youtube["search_competition"]["sample"] == {
        "videos": 8,
        "channels": 3,
        "own_channels": None,
        "competitor_channels": None,
    }
    assert youtube["search_demand"]["value"] == expected.demand
    assert youtube["median_subscribers"] == expected.median_subscribers
    assert "YouTube Data API search.list" in youtube["search_demand"]["source"]
    # The corpus figures are still there, separately named.
    assert top["demand_proxy"]["source"].startswith("sample corpus")
    others = [k for k in out["primary"] + out["long_tail"] if k["keyword"] != "espresso"]
    assert others and all(k["youtube"]["status"] == "not sampled" for k in others)
    assert all(k["youtube"]["reason"].startswith("not sampled: ") for k in others)
    assert out["youtube"] == {
        "available": True,
        "note": None,
        "sampled": ["espresso"],
        "from_cache": 0,
        "searches_made": 1,
        "units_spent": 102,
        "sample_size": 1,
        "max_results": 25,
    }
    for name in ("result_count_estimate", "search_competition", "search_demand"):
        assert name in out["methods"]


async def test_a_thin_search_sample_is_null_with_its_reason() -> None:
    thin = KeywordSearch(
        keyword="espresso", sampled=True, total_results=3, results=results(3), observed_at=OBSERVED
    )
    out = await run_tool(
        "keyword_research",
        {"topic": "espresso"},
        make_context(data=SearchingData({"espresso": thin})),
    )
    youtube = out["primary"][0]["youtube"]
    assert youtube["status"] == "sampled"
    assert youtube["result_count_estimate"]["value"] == 3
    assert youtube["search_competition"]["value"] is None
    assert youtube["search_demand"]["reason"] == (
        "YouTube returned 3 result(s) with a view count; it takes at least 5"
    )


# Random tags and ones the sample corpus uses (so some are measured, some beyond ``count``).
hashtag_words = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,11}", fullmatch=True) | st.sampled_from(
    ["espresso", "Coffee", "homebarista", "latteart", "shorts", "grinder", "milk", "review"]
)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tags=st.lists(hashtag_words, min_size=1, max_size=40), count=st.integers(1, 30))
async def test_every_hashtag_of_the_text_is_reported_whatever_count_is(
    tags: list[str], count: int
) -> None:
    """P11: ``count`` bounds the corpus's tags and the suggestions, never the text's."""
    text = " ".join(f"#{tag}" for tag in tags)
    out = await run_tool(
        "hashtags", {"topic": "espresso", "text": text, "count": count}, make_context()
    )
    reported = {h["tag"].casefold() for h in out["hashtags"] if h["text_occurrences"]}
    assert reported == {f"#{tag}".casefold() for tag in tags}
    for tag in {t.casefold() for t in tags}:
        occurrences = sum(1 for t in tags if t.casefold() == tag)
        (row,) = [
            h for h in out["hashtags"] if h["tag"].casefold() == f"#{tag}" and not h["suggested"]
        ]
        assert row["text_occurrences"] == occurrences
