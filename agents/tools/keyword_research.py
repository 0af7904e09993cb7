from __future__ import annotations

from pydantic import BaseModel, Field

from agents.tools._text import content_words, top_phrases
from agents.tools.base import ToolContext, agent_tool


class KeywordResearchArgs(BaseModel):
    topic: str = Field(description="What the video is about, in the creator's words.")
    limit: int = Field(default=10, ge=1, le=25, description="How many keywords to return.")


class Keyword(BaseModel):
    keyword: str
    videos_using: int = Field(description="Corpus videos whose title or tags use it.")
    total_views: int = Field(description="Views of those videos, a demand signal.")


class KeywordResearchOutput(BaseModel):
    topic: str
    keywords: list[Keyword]
    suggested_title: str
    suggested_title_seo_score: int = Field(ge=0, le=100)
    videos_analyzed: int


def _seo_score(title: str, keywords: list[str]) -> int:
    try:
        from agents.analytics.seo import seo_score
    except ImportError:
        # TODO: agents.analytics.seo.seo_score is the real formula; this stand-in scores
        # keyword coverage and a title length that is not cut off in search results.
        title_words = set(content_words(title))
        covered = sum(1 for k in keywords if set(content_words(k)) <= title_words)
        coverage = covered / len(keywords) if keywords else 0.0
        length_ok = 1.0 if 20 <= len(title) <= 70 else 0.5
        return round(100 * (0.7 * coverage + 0.3 * length_ok))
    return int(seo_score(title=title, keywords=keywords))


@agent_tool(args=KeywordResearchArgs, output=KeywordResearchOutput)
async def keyword_research(args: KeywordResearchArgs, ctx: ToolContext) -> KeywordResearchOutput:
    """Find the search keywords and phrases that videos on a topic use, ranked by how many
    videos use them and the views those videos get, plus an SEO-scored title suggestion.
    Use for SEO, keywords, search terms, or what to put in a title so people find it."""
    ctx.progress(done=0, total=2, message="Collecting videos on the topic")
    corpus = await ctx.context.deps.data.corpus_videos(args.topic)
    ctx.progress(done=1, total=2, message=f"Analysing {len(corpus)} videos")
    texts = [f"{v.title} {' '.join(v.tags)}" for v in corpus]
    phrases = top_phrases(texts, limit=args.limit * 3) if corpus else []
    keywords: list[Keyword] = []
    for phrase, used_by in phrases:
        views = sum(
            v.views for v, text in zip(corpus, texts, strict=True) if phrase in text.lower()
        )
        keywords.append(Keyword(keyword=phrase, videos_using=used_by, total_views=views))
    keywords.sort(key=lambda k: (-k.videos_using, -k.total_views, k.keyword))
    keywords = keywords[: args.limit]
    if not keywords:
        keywords = [
            Keyword(keyword=word, videos_using=0, total_views=0)
            for word in content_words(args.topic)[: args.limit]
        ]
    lead = keywords[0].keyword if keywords else args.topic
    suggested = f"{args.topic.strip().title()}: {lead} guide"[:70]
    score = _seo_score(suggested, [k.keyword for k in keywords[:5]])
    ctx.progress(done=2, total=2, message=f"{len(keywords)} keywords ranked")
    return KeywordResearchOutput(
        topic=args.topic,
        keywords=keywords,
        suggested_title=suggested,
        suggested_title_seo_score=max(0, min(100, score)),
        videos_analyzed=len(corpus),
    )
