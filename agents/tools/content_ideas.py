"""Three video concepts for a topic, each with a measured SEO score; a template fallback
of the same shape when the model cannot deliver valid JSON twice.

Optional ``seeds`` are content gaps (``competitor_gap``: a topic and its proof videos).
The model sees their topics as quoted data, numbered, and says which one each idea builds
on; each concept then ``cites`` that seed's proof video ids, so an answer can point at
the competitors' videos the idea comes from. A reply that names no valid seed is matched
by the seed topic's words in the idea's title or tags; failing that the idea cites
nothing rather than a guess.
"""

from __future__ import annotations

import re
from typing import Annotated

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
from agents.tools.base import ToolContext, ToolCost, ToolFailure, agent_tool

IDEA_COUNT = 3
MODEL_ATTEMPTS = 2  # the first try and one retry
RELATED_KEYWORDS = 4
SEO_METHOD = (
    "agents/analytics/seo.py: 40 points title length (40-70 characters best), 35 points "
    "placement of the primary keyword (the topic), 25 points share of keywords in the title"
)


MAX_SEEDS = 5
SEEDS_SYSTEM_RULE = (
    'When content gaps are given, build each idea on one of them and add "seed": the '
    "number of the gap it builds on."
)
SEEDS_REQUEST = """
Content gaps to build on: {count} (topics where competitors' videos beat their channel's
median views and the creator has no video; give each idea's gap number as "seed"):
{quoted_seeds}"""
_WORDS = re.compile(r"[\w']+")


class IdeaSeed(BaseModel):
    topic: str = Field(min_length=1, max_length=200, description="The gap's topic.")
    proof_video_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list,
        max_length=20,
        description="The gap's proof videos, which the ideas built on it cite.",
    )

    @field_validator("topic")
    @classmethod
    def _topic(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return " ".join(value.split())


class ContentIdeasArgs(BaseModel):
    topic: str = Field(description="The channel's niche or the subject to find ideas for.")
    seeds: list[IdeaSeed] | None = Field(
        default=None,
        max_length=MAX_SEEDS,
        description=(
            "Content gaps to build the ideas on: from competitor_gap, each gap's topic and "
            "proof_video_ids. Each idea then cites the proof videos of its gap."
        ),
    )


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
    seed_topic: str | None = Field(default=None, description="The content gap it builds on.")
    cites: list[str] = Field(
        default_factory=list, description="Video ids it builds on: its seed's proof videos."
    )


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
    seeds: list[IdeaSeed] = Field(default_factory=list)


class _ModelIdea(BaseModel):
    title: str = Field(min_length=1, max_length=150)
    hook: str = Field(min_length=1)
    main_content: str = Field(min_length=1)
    cta: str = Field(min_length=1)
    tags: list[str]
    # The number of the content gap the idea builds on; anything else is ignored.
    seed: int | str | None = None

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


def _fallback(topic: str, keywords: list[str], seeds: list[IdeaSeed]) -> list[Concept]:
    """The templates on the topic, or with seeds on each seed's topic in turn."""
    concepts = []
    for index, (title, hook, main, cta) in enumerate(_FALLBACK):
        seed = seeds[index % len(seeds)] if seeds else None
        subject = seed.topic if seed else topic
        capitalised = subject[:1].upper() + subject[1:]
        concept = _concept(
            title=title.format(topic=subject, Topic=capitalised),
            hook=hook.format(topic=subject),
            main=main.format(topic=subject),
            cta=cta,
            tags=list(dict.fromkeys([subject, *keywords]))[:6],
            keywords=keywords,
        )
        concepts.append(_cited(concept, seed))
    return concepts


def _cited(concept: Concept, seed: IdeaSeed | None) -> Concept:
    if seed is None:
        return concept
    return concept.model_copy(
        update={"seed_topic": seed.topic, "cites": list(dict.fromkeys(seed.proof_video_ids))}
    )


def _words(text: str) -> set[str]:
    return {w.strip("'") for w in _WORDS.findall(text.casefold())}


def _seed_of(idea: _ModelIdea, seeds: list[IdeaSeed]) -> IdeaSeed | None:
    """The seed the model named; else the first whose topic words all occur in the idea's
    title or tags; else none (an idea is never credited to a gap by guesswork)."""
    if not seeds:
        return None
    try:
        number = int(str(idea.seed).strip().lstrip("#")) if idea.seed is not None else 0
    except ValueError:
        number = 0
    if 1 <= number <= len(seeds):
        return seeds[number - 1]
    text = _words(" ".join([idea.title, *idea.tags]))
    return next((seed for seed in seeds if _words(seed.topic) <= text), None)


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


@agent_tool(args=ContentIdeasArgs, output=ContentIdeasOutput, cost=ToolCost(model_calls=1))
async def content_ideas(args: ContentIdeasArgs, ctx: ToolContext) -> ContentIdeasOutput:
    """Suggest exactly 3 video concepts for a topic or niche: a title with its SEO score
    (0-100, for the topic and keywords measured on videos about it), a description (hook,
    main content, call to action) and tags. Use when a creator asks what to make next,
    for video ideas, topics or a series. Given seeds (content gaps from competitor_gap),
    the ideas build on them and each cites its gap's proof videos."""
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
    seeds = args.seeds or []
    request = CONTENT_IDEAS_REQUEST.format(
        topic=args.topic,
        keywords=", ".join(keywords),
        quoted_titles=quoted_data((video.title for video in corpus[:15]), label="video titles"),
    )
    system = CONTENT_IDEAS_PROMPT.format(quoted_data_rule=QUOTED_DATA_RULE)
    if seeds:
        # Gap topics are words from competitors' titles and tags: quoted data.
        request += SEEDS_REQUEST.format(
            count=len(seeds),
            quoted_seeds=quoted_data(
                (f"{n}. {seed.topic}" for n, seed in enumerate(seeds, start=1)),
                label="content gap topics",
            ),
        )
        system += "\n\n" + SEEDS_SYSTEM_RULE
    ideas, reason = await _model_ideas(ctx, system=system, request=request)
    ctx.progress(done=2, total=3, message="Scoring the titles")
    if ideas is None:
        concepts = _fallback(args.topic.strip(), keywords, seeds)
    else:
        concepts = [
            _cited(
                _concept(
                    title=idea.title,
                    hook=idea.hook,
                    main=idea.main_content,
                    cta=idea.cta,
                    tags=idea.tags,
                    keywords=keywords,
                ),
                _seed_of(idea, seeds),
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
        seeds=seeds,
    )
