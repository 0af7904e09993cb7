"""YouTube search samples for keyword research: an optional extension of ``AgentData``.

A data layer that can search YouTube implements ``SamplesSearch``; ``keyword_research``
checks it with ``isinstance`` (like ``DescribesSources``) and, without it, reports every
keyword as "not sampled". The data layer owns the costs: which keywords it searches
(the first few it is given), quota, caps per client / network address / day, the cache
and the time budget. It never raises for those: a keyword it did not search comes back
with ``sampled=False`` and the reason ("not sampled: time budget", "...: daily cap"...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from agents.analytics.search_competition import SearchResult
from agents.context import AgentData

NOT_AVAILABLE = "not sampled: this data layer cannot search YouTube"


@dataclass(frozen=True, kw_only=True)
class KeywordSearch:
    """One keyword's YouTube search: its top results, or why it was not searched."""

    keyword: str
    sampled: bool
    reason: str | None = None  # set when not sampled: "not sampled: <why>"
    total_results: int | None = None  # pageInfo.totalResults, YouTube's estimate
    results: tuple[SearchResult, ...] = ()
    observed_at: datetime | None = None  # when YouTube answered (older when cached)
    from_cache: bool = False


@dataclass(frozen=True, kw_only=True)
class SearchSampling:
    """What a data layer did for one request's keywords."""

    available: bool  # False: no YouTube access at all (no keys, no support)
    note: str | None  # what the reader should know (e.g. "YOUTUBE_API_KEYS is unset")
    searches: Mapping[str, KeywordSearch] = field(default_factory=dict)  # normalised keys
    sample_size: int = 0  # keywords searched per request at most
    max_results: int = 0  # results per search
    units_spent: int = 0  # YouTube quota units this request cost
    searches_made: int = 0  # search.list calls this request made (cache hits are free)


@runtime_checkable
class SamplesSearch(Protocol):
    """Optional extension of ``AgentData``."""

    async def sample_search(
        self, keywords: Sequence[str], *, client_id: str, ip_hash: str | None
    ) -> SearchSampling:
        """Search YouTube for the first few ``keywords`` (normalised, most important
        first) within the data layer's limits; one entry per keyword, cached ones served
        whatever their position."""
        ...


async def sample_search(
    data: AgentData, keywords: Sequence[str], *, client_id: str, ip_hash: str | None
) -> SearchSampling:
    if isinstance(data, SamplesSearch):
        return await data.sample_search(keywords, client_id=client_id, ip_hash=ip_hash)
    return SearchSampling(
        available=False,
        note="YouTube search sampling is not available here; figures come from the corpus.",
        searches={
            k: KeywordSearch(keyword=k, sampled=False, reason=NOT_AVAILABLE) for k in keywords
        },
    )


__all__ = ["NOT_AVAILABLE", "KeywordSearch", "SamplesSearch", "SearchSampling", "sample_search"]
