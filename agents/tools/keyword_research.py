"""Keyword research: candidates from the topic, the corpus and the model; every number
measured on the corpus by ``agents.analytics.keywords`` (the model never gives one)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

from agents.analytics.keywords import (
    SEARCH_VOLUME_METHOD,
    KeywordMetrics,
    keyword_metrics,
    normalise_term,
    related_terms,
)
from agents.prompts import (
    KEYWORD_CANDIDATES_PROMPT,
    KEYWORD_CANDIDATES_REQUEST,
    QUOTED_DATA_RULE,
    quoted_data,
)
from agents.tools._sources import corpus_source
from agents.tools.base import ToolContext, ToolFailure, agent_tool
from agents.videos import Video

TRENDING_WINDOW_DAYS = 90
LONG_TAIL_MIN_WORDS = 3
METHODS = {
    "search_volume": SEARCH_VOLUME_METHOD + " (views met by these videos, not searches)",
    "competition": (
        "100 * min(1, share of corpus videos matching / 0.10) * (1 - Herfindahl index of "
        "the matching videos' channels)"
    ),
    "relevance": "share of the corpus's channels with at least one matching video",
    "trending": (
        f"the same metrics over the videos published in the {TRENDING_WINDOW_DAYS} days "
        "before as_of; ranked by that search volume"
    ),
}

Origin = Literal["topic", "model", "corpus"]


class Metric(BaseModel):
    value: float | None
    source: str
    reason: str | None = Field(default=None, description="Why the value is null.")


class Keyword(BaseModel):
    keyword: str
    proposed_by: Origin = Field(description="Who proposed the keyword; never the numbers.")
    matching_videos: int
    search_volume: Metric
    competition: Metric
    relevance: Metric


class RelatedTopic(Keyword):
    kind: Literal["tag", "title_word", "title_bigram"]
    co_occurrences: int = Field(description="Videos matching the topic that also use it.")
    lift: float = Field(description="Its share among those videos over its share overall.")


class KeywordResearchOutput(BaseModel):
    topic: str
    as_of: datetime
    source: str
    videos_analyzed: int
    methods: dict[str, str]
    primary: list[Keyword]
    long_tail: list[Keyword]
    trending: list[Keyword]
    related_topics: list[RelatedTopic]
    model_candidates_note: str | None = Field(
        description="Why no model candidates were used, when none were."
    )


class KeywordResearchArgs(BaseModel):
    topic: str = Field(description="What the video is about, in the creator's words.")
    limit: int = Field(default=10, ge=1, le=25, description="How many keywords per list.")


def _keyword(term: str, origin: Origin, metrics: KeywordMetrics) -> Keyword:
    def metric(value: float | None) -> Metric:
        return Metric(value=value, source=metrics.source, reason=metrics.reason)

    return Keyword(
        keyword=metrics.term,
        proposed_by=origin,
        matching_videos=metrics.matching_videos,
        search_volume=metric(metrics.search_volume),
        competition=metric(None if metrics.competition is None else float(metrics.competition)),
        relevance=metric(metrics.relevance),
    )


def _ranked(keywords: list[Keyword]) -> list[Keyword]:
    """Measured first, by search volume; unmeasured after, in proposal order."""
    measured = [k for k in keywords if k.search_volume.value is not None]
    unmeasured = [k for k in keywords if k.search_volume.value is None]
    measured.sort(key=lambda k: (-(k.search_volume.value or 0.0), k.keyword))
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
    def __init__(self, *, corpus: list[Video], as_of: datetime, source: str) -> None:
        self.corpus = corpus
        self.as_of = as_of
        self.source = source
        since = as_of - timedelta(days=TRENDING_WINDOW_DAYS)
        self.recent = [v for v in corpus if since < v.published_at <= as_of]

    def keyword(self, term: str, origin: Origin) -> Keyword:
        metrics = keyword_metrics(
            term=term, videos=self.corpus, as_of=self.as_of, source=self.source
        )
        return _keyword(term, origin, metrics)

    def trending(self, term: str, origin: Origin) -> Keyword:
        source = f"{self.source}, last {TRENDING_WINDOW_DAYS} days"
        metrics = keyword_metrics(term=term, videos=self.recent, as_of=self.as_of, source=source)
        return _keyword(term, origin, metrics)


@agent_tool(args=KeywordResearchArgs, output=KeywordResearchOutput)
async def keyword_research(args: KeywordResearchArgs, ctx: ToolContext) -> KeywordResearchOutput:
    """Research search keywords for a topic: primary, long-tail and trending keywords and
    related topics, each with a search-volume proxy, competition (0-100) and relevance
    (0-1) measured on videos about the topic (null with a reason when there is no data).
    Use for SEO, keywords, search terms, or what to put in a title so people find it."""
    ctx.progress(done=0, total=3, message="Collecting videos on the topic")
    if not args.topic.strip():
        raise ToolFailure("The topic is empty.", code="VALIDATION_ERROR")
    topic = normalise_term(args.topic)
    data = ctx.context.deps.data
    corpus = await data.corpus_videos(args.topic)
    as_of = ctx.context.deps.now()
    source = corpus_source(data)
    ctx.progress(done=1, total=3, message="Asking for candidate keywords")
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

    ctx.progress(done=2, total=3, message=f"Measuring keywords on {len(corpus)} videos")
    measure = _Measurer(corpus=corpus, as_of=as_of, source=source)
    related = related_terms(term=topic, videos=corpus, as_of=as_of, limit=args.limit)
    candidates: dict[str, Origin] = {topic: "topic"}
    for term in model_primary + model_long_tail:
        candidates.setdefault(term, "model")
    for item in related:
        candidates.setdefault(item.term, "corpus")

    primary_terms = [topic, *(t for t in model_primary if t != topic)]
    primary = _ranked([measure.keyword(t, candidates[t]) for t in dict.fromkeys(primary_terms)])
    long_terms = [t for t in candidates if len(t.split()) >= LONG_TAIL_MIN_WORDS]
    long_tail = _ranked([measure.keyword(t, candidates[t]) for t in long_terms])
    trending = [
        k
        for k in _ranked([measure.trending(t, origin) for t, origin in candidates.items()])
        if k.search_volume.value is not None
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
    ctx.progress(done=3, total=3, message=f"{len(candidates)} keywords measured")
    return KeywordResearchOutput(
        topic=args.topic,
        as_of=as_of,
        source=f"{source}: {len(corpus)} videos about the topic",
        videos_analyzed=len(corpus),
        methods=METHODS,
        primary=primary[: args.limit],
        long_tail=long_tail[: args.limit],
        trending=trending[: args.limit],
        related_topics=related_topics,
        model_candidates_note=note,
    )
