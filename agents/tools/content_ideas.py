"""Three video concepts for a topic, each with a measured SEO score; a template fallback
of the same shape when the model cannot deliver valid JSON twice."""

from __future__ import annotations

from pydantic import BaseModel, Field, ValidationError, field_validator

from agents.analytics.keywords import normalise_term, related_terms
from agents.analytics.seo import seo_breakdown
from agents.guard.interface import GuardError
from agents.prompts import (
    CONTENT_IDEAS_PROMPT,
    CONTENT_IDEAS_REQUEST,
    QUOTED_DATA_RULE,
    quoted_data,
)
from agents.tools._sources import corpus_source
from agents.tools.base import ToolContext, ToolFailure, agent_tool

IDEA_COUNT = 3
MODEL_ATTEMPTS = 2  # the first try and one retry
RELATED_KEYWORDS = 4
SEO_METHOD = (
    "agents/analytics/seo.py: 40 points title length (40-70 characters best), 35 points "
    "placement of the primary keyword (the topic), 25 points share of keywords in the title"
)


class ContentIdeasArgs(BaseModel):
    topic: str = Field(description="The channel's niche or the subject to find ideas for.")


class Description(BaseModel):
    hook: str = Field(min_length=1, description="The first seconds of the video.")
    main_content: str = Field(min_length=1)
    cta: str = Field(min_length=1, description="The call to action at the end.")


class Concept(BaseModel):
    title: str
    seo_score: int = Field(ge=0, le=100, description="seo_score(title, seo_keywords).")
    keywords_in_title: list[str]
    description: Description
    tags: list[str] = Field(min_length=1)


class ContentIdeasOutput(BaseModel):
    topic: str
    concepts: list[Concept] = Field(min_length=IDEA_COUNT, max_length=IDEA_COUNT)
    seo_keywords: list[str] = Field(
        description="The keywords every seo_score uses, primary (the topic) first."
    )
    seo_keywords_source: str
    seo_method: str
    fallback: bool = Field(description="True: template concepts, the model's reply was unusable.")
    fallback_reason: str | None
    inspired_by_video_ids: list[str]


class _ModelIdea(BaseModel):
    title: str = Field(min_length=1, max_length=150)
    hook: str = Field(min_length=1)
    main_content: str = Field(min_length=1)
    cta: str = Field(min_length=1)
    tags: list[str]

    @field_validator("title", "hook", "main_content", "cta")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        cleaned = list(dict.fromkeys(t.strip().lstrip("#") for t in value if t.strip("# ")))
        if not cleaned:
            raise ValueError("needs at least one tag")
        return cleaned


class _ModelIdeas(BaseModel):
    ideas: list[_ModelIdea] = Field(min_length=IDEA_COUNT)


_FALLBACK = (
    (
        "{Topic}: the complete beginner's guide",
        "Starting with {topic}? Here is everything you need in one video.",
        "The basics of {topic} step by step, the common mistakes and how to avoid them.",
        "Subscribe for the next part and tell me in the comments where you are stuck.",
    ),
    (
        "7 {topic} mistakes almost everyone makes",
        "You are probably making at least one of these {topic} mistakes.",
        "Seven frequent {topic} mistakes, each shown and then fixed on camera.",
        "Comment which mistake you made, and save this for later.",
    ),
    (
        "{Topic} in 60 seconds",
        "One {topic} tip you can use today, in under a minute.",
        "A single technique with a clear before and after.",
        "Follow for a new tip every week.",
    ),
)


def _concept(
    *, title: str, hook: str, main: str, cta: str, tags: list[str], keywords: list[str]
) -> Concept:
    seo = seo_breakdown(title=title, keywords=keywords)
    return Concept(
        title=title,
        seo_score=seo.score,
        keywords_in_title=seo.keywords_found,
        description=Description(hook=hook, main_content=main, cta=cta),
        tags=tags,
    )


def _fallback(topic: str, keywords: list[str]) -> list[Concept]:
    capitalised = topic[:1].upper() + topic[1:]
    tags = list(dict.fromkeys([topic, *keywords]))[:6]
    return [
        _concept(
            title=title.format(topic=topic, Topic=capitalised),
            hook=hook.format(topic=topic),
            main=main.format(topic=topic),
            cta=cta,
            tags=tags,
            keywords=keywords,
        )
        for title, hook, main, cta in _FALLBACK
    ]


async def _model_ideas(
    ctx: ToolContext, *, system: str, request: str
) -> tuple[_ModelIdeas | None, str | None]:
    """The model's ideas, asking twice at most; guard refusals are not retried (they
    propagate: a refused call is not a bad reply)."""
    reason: str | None = None
    for attempt in range(1, MODEL_ATTEMPTS + 1):
        try:
            reply = await ctx.ask_model_json(
                tool_name="content_ideas", system=system, request=request
            )
            return _ModelIdeas.model_validate(reply), None
        except ToolFailure as exc:
            reason = f"attempt {attempt}: {exc.message}"
        except ValidationError as exc:
            errors = exc.error_count()
            reason = f"attempt {attempt}: the reply did not match the shape ({errors} errors)"
        except GuardError:
            raise
        except Exception as exc:  # an upstream failure after the factory's own retries
            reason = f"attempt {attempt}: the model call failed: {type(exc).__name__}"
    return None, reason


@agent_tool(args=ContentIdeasArgs, output=ContentIdeasOutput)
async def content_ideas(args: ContentIdeasArgs, ctx: ToolContext) -> ContentIdeasOutput:
    """Suggest exactly 3 video concepts for a topic or niche: a title with its SEO score
    (0-100, for the topic and keywords measured on videos about it), a description (hook,
    main content, call to action) and tags. Use when a creator asks what to make next,
    for video ideas, topics or a series."""
    if not args.topic.strip():
        raise ToolFailure("The topic is empty.", code="VALIDATION_ERROR")
    ctx.progress(done=0, total=3, message="Looking at existing videos on the topic")
    data = ctx.context.deps.data
    corpus = await data.corpus_videos(args.topic)
    topic = normalise_term(args.topic)
    related = related_terms(
        term=topic, videos=corpus, as_of=ctx.context.deps.now(), limit=RELATED_KEYWORDS
    )
    keywords = [topic, *(r.term for r in related)]
    ctx.progress(done=1, total=3, message="Asking for ideas")
    request = CONTENT_IDEAS_REQUEST.format(
        topic=args.topic,
        keywords=", ".join(keywords),
        quoted_titles=quoted_data((video.title for video in corpus[:15]), label="video titles"),
    )
    system = CONTENT_IDEAS_PROMPT.format(quoted_data_rule=QUOTED_DATA_RULE)
    ideas, reason = await _model_ideas(ctx, system=system, request=request)
    ctx.progress(done=2, total=3, message="Scoring the titles")
    if ideas is None:
        concepts = _fallback(args.topic.strip(), keywords)
    else:
        concepts = [
            _concept(
                title=idea.title,
                hook=idea.hook,
                main=idea.main_content,
                cta=idea.cta,
                tags=idea.tags,
                keywords=keywords,
            )
            for idea in ideas.ideas[:IDEA_COUNT]
        ]
    ctx.progress(done=3, total=3, message=f"{len(concepts)} concepts ready")
    return ContentIdeasOutput(
        topic=args.topic,
        concepts=concepts,
        seo_keywords=keywords,
        seo_keywords_source=(
            f"the topic, then tags and title words co-occurring with it in "
            f"{corpus_source(data)} ({len(corpus)} videos)"
        ),
        seo_method=SEO_METHOD,
        fallback=ideas is None,
        fallback_reason=None if ideas is not None else reason,
        inspired_by_video_ids=[video.video_id for video in corpus[:15]],
    )
