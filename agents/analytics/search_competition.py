"""Competition and demand for a keyword from a sample of YouTube's own search results.

The input is the top results of one ``search.list`` (order=relevance, type=video) with
their views and publish dates (``videos.list``) and their channels' subscriber counts
(``channels.list``; ``None`` when a channel hides it or was not returned).

- **search_competition** (0-100) =
  ``round(100 * (0.4 * S + 0.4 * V + 0.2 * B))`` with
  ``S = min(1, log10(1 + median subscribers) / 6)`` (a million subscribers is 1),
  ``V = min(1, log10(1 + median views) / 7)`` (ten million views is 1) and
  ``B`` = the share of results from channels with at least 100,000 subscribers. The
  subscriber terms use the results whose channel shows its count. Big channels with
  big videos at the top of a search are hard to outrank.
- **search_demand** = the median over the results of ``views / max(1, days since
  publish)``: views per day the top results earn, a proxy for how much people watch
  what this search finds (YouTube publishes no search counts).

Minimum samples: both need at least ``MIN_SEARCH_RESULTS`` (5) results with a view
count; competition also needs ``MIN_KNOWN_SUBSCRIBERS`` (3) results whose channel shows
its subscriber count. Below that the figure is ``None`` with the reason.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict

MIN_SEARCH_RESULTS = 5
MIN_KNOWN_SUBSCRIBERS = 3
BIG_CHANNEL_SUBSCRIBERS = 100_000
SUBSCRIBERS_FULL_LOG10 = 6.0
VIEWS_FULL_LOG10 = 7.0
WEIGHT_SUBSCRIBERS = 0.4
WEIGHT_VIEWS = 0.4
WEIGHT_BIG_CHANNELS = 0.2

SEARCH_COMPETITION_METHOD = (
    "round(100 * (0.4 * min(1, log10(1 + median subscribers) / 6) + 0.4 * min(1, "
    "log10(1 + median views) / 7) + 0.2 * share of results from channels with >= 100,000 "
    "subscribers)) over the top YouTube search results (order=relevance); the subscriber "
    "terms use results whose channel shows its count"
)
SEARCH_DEMAND_METHOD = (
    "median over the top YouTube search results of views / max(1, days since publish): "
    "views per day those videos earn, not searches"
)
RESULT_COUNT_METHOD = (
    "search.list pageInfo.totalResults: YouTube's estimate of the number of results (an "
    "approximation, not a count of searches)"
)


@dataclass(frozen=True, kw_only=True)
class SearchResult:
    video_id: str
    channel_id: str
    views: int | None  # None: not public (upcoming premieres)
    published_at: datetime
    channel_subscribers: int | None  # None: hidden, or the channel was not returned


class SearchFigures(BaseModel):
    model_config = ConfigDict(frozen=True)

    results: int
    channels: int
    results_with_views: int
    results_with_subscribers: int
    median_views: float | None
    median_subscribers: float | None
    big_channel_share: float | None
    median_age_days: float | None
    competition: int | None
    competition_reason: str | None
    demand: float | None
    demand_reason: str | None


def _log_share(value: float, full_log10: float) -> float:
    return min(1.0, math.log10(1 + value) / full_log10)


def search_figures(results: Sequence[SearchResult], *, as_of: datetime) -> SearchFigures:
    """Competition and demand of one search's top results (module docstring)."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware (UTC)")
    viewed = [r for r in results if r.views is not None]
    with_subscribers = [r for r in results if r.channel_subscribers is not None]
    ages = [max(1.0, (as_of - r.published_at).total_seconds() / 86_400) for r in viewed]
    median_views = float(statistics.median(r.views or 0 for r in viewed)) if viewed else None
    median_subscribers = (
        float(statistics.median(r.channel_subscribers or 0 for r in with_subscribers))
        if with_subscribers
        else None
    )
    big_share = (
        sum(1 for r in with_subscribers if (r.channel_subscribers or 0) >= BIG_CHANNEL_SUBSCRIBERS)
        / len(with_subscribers)
        if with_subscribers
        else None
    )

    too_few = (
        f"YouTube returned {len(viewed)} result(s) with a view count; it takes at least "
        f"{MIN_SEARCH_RESULTS}"
        if len(viewed) < MIN_SEARCH_RESULTS
        else None
    )
    demand_reason = too_few
    demand = None
    if demand_reason is None:
        demand = float(
            statistics.median((r.views or 0) / age for r, age in zip(viewed, ages, strict=True))
        )

    competition_reason = too_few
    if competition_reason is None and len(with_subscribers) < MIN_KNOWN_SUBSCRIBERS:
        competition_reason = (
            f"only {len(with_subscribers)} of {len(results)} results' channels show a "
            f"subscriber count; it takes at least {MIN_KNOWN_SUBSCRIBERS}"
        )
    competition = None
    if (
        competition_reason is None
        and median_views is not None
        and median_subscribers is not None
        and big_share is not None
    ):
        competition = round(
            100
            * (
                WEIGHT_SUBSCRIBERS * _log_share(median_subscribers, SUBSCRIBERS_FULL_LOG10)
                + WEIGHT_VIEWS * _log_share(median_views, VIEWS_FULL_LOG10)
                + WEIGHT_BIG_CHANNELS * big_share
            )
        )
    return SearchFigures(
        results=len(results),
        channels=len({r.channel_id for r in results}),
        results_with_views=len(viewed),
        results_with_subscribers=len(with_subscribers),
        median_views=median_views,
        median_subscribers=median_subscribers,
        big_channel_share=big_share,
        median_age_days=float(statistics.median(ages)) if ages else None,
        competition=competition,
        competition_reason=competition_reason,
        demand=demand,
        demand_reason=demand_reason,
    )


__all__ = [
    "MIN_KNOWN_SUBSCRIBERS",
    "MIN_SEARCH_RESULTS",
    "RESULT_COUNT_METHOD",
    "SEARCH_COMPETITION_METHOD",
    "SEARCH_DEMAND_METHOD",
    "SearchFigures",
    "SearchResult",
    "search_figures",
]
