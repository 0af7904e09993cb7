"""Keyword research: candidates from the topic, the corpus and the model; every number
measured by ``agents.analytics`` (the model never gives one).

Two kinds of figure, each with its source and sample:

- corpus figures (``agents.analytics.keywords``) on the client's own and competitor
  channels' videos: a demand proxy (views per month of matching videos), competition
  and relevance, each ``null`` with the reason below its minimum sample;
- YouTube figures (``agents.analytics.search_competition``) for the first few keywords,
  from a sample of YouTube's search results, when the data layer can search YouTube
  (``agents.tools._search.SamplesSearch``): YouTube's result-count estimate, a search
  competition score and a search demand proxy. The other keywords say "not sampled"
  and why.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

from agents.analytics.keywords import (
    COMPETITION_METHOD,
    DEMAND_PROXY_METHOD,
    MINIMUMS,
    RELEVANCE_METHOD,
    Figure,
    KeywordMetrics,
    Role,
    Sample,
    keyword_metrics,
    normalise_term,
    related_terms,
    sample_of,
)
from agents.analytics.search_competition import (
    MIN_KNOWN_SUBSCRIBERS,
    MIN_SEARCH_RESULTS,
    RESULT_COUNT_METHOD,
    SEARCH_COMPETITION_METHOD,
    SEARCH_DEMAND_METHOD,
    search_figures,
)
from agents.prompts import (
    KEYWORD_CANDIDATES_PROMPT,
    KEYWORD_CANDIDATES_REQUEST,
    QUOTED_DATA_RULE,
    quoted_data,
)
from agents.tools._corpus import channel_roles, corpus_note
from agents.tools._search import KeywordSearch, SearchSampling, sample_search
from agents.tools._sources import corpus_source
from agents.tools.base import ToolContext, ToolCost, ToolFailure, agent_tool
from agents.videos import Video

TRENDING_WINDOW_DAYS = 90
LONG_TAIL_MIN_WORDS = 3
YOUTUBE_SEARCH_SOURCE = "YouTube Data API search.list (order=relevance, type=video)"
METHODS = {
    "demand_proxy": DEMAND_PROXY_METHOD,
    "competition": COMPETITION_METHOD,
    "relevance": RELEVANCE_METHOD,
    "trending": (
        f"the same corpus figures over the videos published in the {TRENDING_WINDOW_DAYS} "
        "days before as_of; ranked by that demand proxy"
    ),
    "result_count_estimate": RESULT_COUNT_METHOD,
    "search_competition": SEARCH_COMPETITION_METHOD,
    "search_demand": SEARCH_DEMAND_METHOD,
    "minimums": (
        f"{MINIMUMS} YouTube figures: at least {MIN_SEARCH_RESULTS} results with a view "
        f"count, and for search competition {MIN_KNOWN_SUBSCRIBERS} result channels showing "
        "their subscriber count."
    ),
}

Origin = Literal["topic", "model", "corpus"]


class Metric(BaseModel):
    value: float | None
    source: str
    sample: Sample = Field(description="The videos and channels the figure was computed on.")
    reason: str | None = Field(default=None, description="Why the value is null.")


class YouTubeFigures(BaseModel):
    """A keyword's figures from a sample of YouTube's search results, or why there are none."""

    status: Literal["sampled", "not sampled"]
    reason: str | None = Field(default=None, description="Why it was not sampled.")
    observed_at: datetime | None = None
    from_cache: bool = False
    result_count_estimate: Metric | None = None
    search_competition: Metric | None = None
    search_demand: Metric | None = None
    median_views: float | None = None
    median_subscribers: float | None = None
    big_channel_share: float | None = None
    median_age_days: float | None = None


class Keyword(BaseModel):
    keyword: str
    proposed_by: Origin = Field(description="Who proposed the keyword; never the numbers.")
    matching_videos: int
    demand_proxy: Metric = Field(
        description="Median views per month of the corpus videos matching it; not searches."
    )
    competition: Metric
    relevance: Metric
    youtube: YouTubeFigures


class RelatedTopic(Keyword):
    kind: Literal["tag", "title_word", "title_bigram"]
    co_occurrences: int = Field(description="Videos matching the topic that also use it.")
    lift: float = Field(description="Its share among those videos over its share overall.")


class YouTubeSummary(BaseModel):
    available: bool = Field(description="False: YouTube search is not configured here.")
    note: str | None
    sampled: list[str] = Field(description="Keywords with YouTube figures.")
    from_cache: int = Field(description="How many of them came from the cache (no quota).")
    searches_made: int
    units_spent: int = Field(description="YouTube quota units this request cost.")
    sample_size: int = Field(description="Keywords searched per request at most.")
    max_results: int = Field(description="Search results sampled per keyword.")


class KeywordResearchOutput(BaseModel):
    topic: str
    as_of: datetime
    source: str
    videos_analyzed: int
    corpus: Sample = Field(description="The corpus: videos and channels, own and competitor.")
    corpus_note: str | None = Field(
        description="What is missing from the corpus, and how to add it, when something is."
    )
    methods: dict[str, str]
    primary: list[Keyword]
    long_tail: list[Keyword]
    trending: list[Keyword]
    related_topics: list[RelatedTopic]
    youtube: YouTubeSummary
    model_candidates_note: str | None = Field(
        description="Why no model candidates were used, when none were."
    )


class KeywordResearchArgs(BaseModel):
    topic: str = Field(description="What the video is about, in the creator's words.")
    limit: int = Field(default=10, ge=1, le=25, description="How many keywords per list.")


def _metric(figure: Figure, source: str) -> Metric:
    return Metric(value=figure.value, source=source, sample=figure.sample, reason=figure.reason)


def _corpus_keyword(origin: Origin, metrics: KeywordMetrics, youtube: YouTubeFigures) -> Keyword:
    return Keyword(
        keyword=metrics.term,
        proposed_by=origin,
        matching_videos=metrics.matching_videos,
        demand_proxy=_metric(metrics.demand_proxy, metrics.source),
        competition=_metric(metrics.competition, metrics.source),
        relevance=_metric(metrics.relevance, metrics.source),
        youtube=youtube,
    )


def _youtube_figures(search: KeywordSearch | None, *, as_of: datetime) -> YouTubeFigures:
    if search is None or not search.sampled:
        reason = search.reason if search is not None else None
        return YouTubeFigures(status="not sampled", reason=reason or "not sampled")
    observed = search.observed_at or as_of
    figures = search_figures(search.results, as_of=observed)
    source = f"{YOUTUBE_SEARCH_SOURCE}, top {figures.results} results, observed " + (
        f"{observed.isoformat()}{' (cached)' if search.from_cache else ''}"
    )
    channels = figures.channels
    return YouTubeFigures(
        status="sampled",
        observed_at=search.observed_at,
        from_cache=search.from_cache,
        result_count_estimate=Metric(
            value=None if search.total_results is None else float(search.total_results),
            source=f"{YOUTUBE_SEARCH_SOURCE} pageInfo.totalResults (an estimate)",
            sample=Sample(videos=figures.results, channels=channels),
            reason=None if search.total_results is not None else "YouTube sent no estimate",
        ),
        search_competition=Metric(
            value=None if figures.competition is None else float(figures.competition),
            source=source,
            sample=Sample(videos=figures.results, channels=channels),
            reason=figures.competition_reason,
        ),
        search_demand=Metric(
            value=figures.demand,
            source=source,
            sample=Sample(videos=figures.results_with_views, channels=channels),
            reason=figures.demand_reason,
        ),
        median_views=figures.median_views,
        median_subscribers=figures.median_subscribers,
        big_channel_share=figures.big_channel_share,
        median_age_days=figures.median_age_days,
    )


def _ranked(keywords: list[Keyword]) -> list[Keyword]:
    """Measured first, by demand proxy; unmeasured after, in proposal order."""
    measured = [k for k in keywords if k.demand_proxy.value is not None]
    unmeasured = [k for k in keywords if k.demand_proxy.value is None]
    measured.sort(key=lambda k: (-(k.demand_proxy.value or 0.0), k.keyword))
    return measured + unmeasured


def _clean_candidates(raw: object) -> list[str]:
    if not isinstance(raw, list):
        return []
    found: list[str] = []
    for item in raw:
        if isinstance(item, str) and item.strip().lstrip("#").strip() and len(item) <= 80:
            found.append(normalise_term(item.strip().lstrip("#")))
    return found


class _Measurer:
    def __init__(
        self,
        *,
        corpus: list[Video],
        as_of: datetime,
        source: str,
        roles: Mapping[str, Role],
        searches: Mapping[str, KeywordSearch],
    ) -> None:
        self.corpus = corpus
        self.as_of = as_of
        self.source = source
        self.roles = roles
        self.searches = searches
        since = as_of - timedelta(days=TRENDING_WINDOW_DAYS)
        self.recent = [v for v in corpus if since < v.published_at <= as_of]

    def youtube(self, term: str) -> YouTubeFigures:
        return _youtube_figures(self.searches.get(normalise_term(term)), as_of=self.as_of)

    def keyword(self, term: str, origin: Origin) -> Keyword:
        metrics = keyword_metrics(
            term=term, videos=self.corpus, as_of=self.as_of, source=self.source, roles=self.roles
        )
        return _corpus_keyword(origin, metrics, self.youtube(term))

    def trending(self, term: str, origin: Origin) -> Keyword:
        source = f"{self.source}, last {TRENDING_WINDOW_DAYS} days"
        metrics = keyword_metrics(
            term=term, videos=self.recent, as_of=self.as_of, source=source, roles=self.roles
        )
        return _corpus_keyword(origin, metrics, self.youtube(term))


def _summary(sampling: SearchSampling, keywords: list[str]) -> YouTubeSummary:
    sampled = [k for k in keywords if (s := sampling.searches.get(k)) is not None and s.sampled]
    return YouTubeSummary(
        available=sampling.available,
        note=sampling.note,
        sampled=sampled,
        from_cache=sum(1 for k in sampled if sampling.searches[k].from_cache),
        searches_made=sampling.searches_made,
        units_spent=sampling.units_spent,
        sample_size=sampling.sample_size,
        max_results=sampling.max_results,
    )


@agent_tool(
    args=KeywordResearchArgs,
    output=KeywordResearchOutput,
    cost=ToolCost(model_calls=1, youtube_search=True),
)
async def keyword_research(args: KeywordResearchArgs, ctx: ToolContext) -> KeywordResearchOutput:
    """Research search keywords for a topic: primary, long-tail and trending keywords and
    related topics. Each has a demand proxy (median views per month of matching videos on
    the creator's own and competitor channels; not search counts), competition (0-100)
    and relevance (0-1) on those channels, and for the top few keywords YouTube figures
    from a sample of YouTube search results (result-count estimate, search competition,
    views per day of the top results). A figure without enough data is null with the
    reason. Use for SEO, keywords, search terms, or what to put in a title so people
    find it."""
    ctx.progress(done=0, total=4, message="Collecting videos on the topic")
    if not args.topic.strip():
        raise ToolFailure("The topic is empty.", code="VALIDATION_ERROR")
    topic = normalise_term(args.topic)
    data = ctx.context.deps.data
    corpus = await data.corpus_videos(args.topic)
    workspace = await data.workspace()
    roles = channel_roles(workspace)
    as_of = ctx.context.deps.now()
    source = corpus_source(data)
    ctx.progress(done=1, total=4, message="Asking for candidate keywords")
    reply, note = await ctx.try_model_json(
        tool_name="keyword_research",
        system=KEYWORD_CANDIDATES_PROMPT.format(quoted_data_rule=QUOTED_DATA_RULE),
        request=KEYWORD_CANDIDATES_REQUEST.format(
            topic=args.topic,
            quoted_videos=quoted_data(
                (f"{v.title} | tags: {', '.join(v.tags)}" for v in corpus[:20]),
                label="video titles and tags",
            ),
        ),
    )
    model_primary = _clean_candidates(reply.get("primary")) if reply else []
    model_long_tail = _clean_candidates(reply.get("long_tail")) if reply else []
    if reply is not None and not (model_primary or model_long_tail):
        note = "the model proposed no usable keyword"

    ctx.progress(done=2, total=4, message=f"Measuring keywords on {len(corpus)} videos")
    related = related_terms(term=topic, videos=corpus, as_of=as_of, limit=args.limit)
    candidates: dict[str, Origin] = {topic: "topic"}
    for term in model_primary + model_long_tail:
        candidates.setdefault(term, "model")
    for item in related:
        candidates.setdefault(item.term, "corpus")
    primary_terms = list(dict.fromkeys([topic, *(t for t in model_primary if t != topic)]))
    long_terms = [t for t in candidates if len(t.split()) >= LONG_TAIL_MIN_WORDS]

    # The topic is searched first; then the corpus figures decide which keywords are
    # worth a YouTube search.
    corpus_only = _Measurer(corpus=corpus, as_of=as_of, source=source, roles=roles, searches={})
    order = [topic]
    order += [k.keyword for k in _ranked([corpus_only.keyword(t, "topic") for t in primary_terms])]
    order += [k.keyword for k in _ranked([corpus_only.keyword(t, "topic") for t in long_terms])]
    order += [item.term for item in related]
    order = list(dict.fromkeys(order))
    ctx.progress(done=3, total=4, message="Sampling YouTube search for the top keywords")
    sampling = await sample_search(
        data, order, client_id=ctx.context.client_id, ip_hash=ctx.context.ip_hash
    )

    measure = _Measurer(
        corpus=corpus, as_of=as_of, source=source, roles=roles, searches=sampling.searches
    )
    primary = _ranked([measure.keyword(t, candidates[t]) for t in primary_terms])
    long_tail = _ranked([measure.keyword(t, candidates[t]) for t in long_terms])
    trending = [
        k
        for k in _ranked([measure.trending(t, origin) for t, origin in candidates.items()])
        if k.demand_proxy.value is not None
    ]
    related_topics = [
        RelatedTopic(
            **measure.keyword(item.term, "corpus").model_dump(),
            kind=item.kind,
            co_occurrences=item.count,
            lift=item.lift,
        )
        for item in related
    ]
    corpus_sample = sample_of(corpus, roles)
    summary = _summary(sampling, order)
    ctx.progress(
        done=4,
        total=4,
        message=f"{len(candidates)} keywords measured, {len(summary.sampled)} on YouTube search",
    )
    return KeywordResearchOutput(
        topic=args.topic,
        as_of=as_of,
        source=f"{source}: {len(corpus)} videos about the topic",
        videos_analyzed=len(corpus),
        corpus=corpus_sample,
        corpus_note=corpus_note(
            workspace=workspace,
            corpus=corpus_sample,
            topic=topic,
            what="keywords",
            few_channels="competition and relevance need",
        ),
        methods=METHODS,
        primary=primary[: args.limit],
        long_tail=long_tail[: args.limit],
        trending=trending[: args.limit],
        related_topics=related_topics,
        youtube=summary,
        model_candidates_note=note,
    )
