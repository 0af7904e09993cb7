from __future__ import annotations

from collections import Counter

from pydantic import BaseModel, Field

from agents.prompts import FACTOID_PROMPT, FACTOID_REQUEST, QUOTED_DATA_RULE, quoted_data
from agents.tools.base import ToolContext, ToolCost, ToolFailure, agent_tool, validate_model_output


class FactoidArgs(BaseModel):
    topic: str = Field(description="What the factoid should be about.")


class FactoidOutput(BaseModel):
    topic: str
    factoid: str
    factoid_id: str
    facts_used: list[str]
    source_video_ids: list[str]


class _ModelFactoid(BaseModel):
    factoid: str = Field(min_length=1)


@agent_tool(args=FactoidArgs, output=FactoidOutput, cost=ToolCost(model_calls=1))
async def factoid(args: FactoidArgs, ctx: ToolContext) -> FactoidOutput:
    """Write one short, surprising, true factoid about a topic, grounded in measured facts
    from the creator's own video corpus. It is saved privately to the creator's history
    (never published to the public factoid feed). Use for fun facts, trivia, "did you
    know" openers or a stat for an intro."""
    ctx.progress(done=0, total=3, message="Collecting videos on the topic")
    corpus = await ctx.context.deps.data.corpus_videos(args.topic)
    if not corpus:
        raise ToolFailure(f"No videos about {args.topic!r} to draw a fact from.", code="NOT_FOUND")
    ranked = sorted(corpus, key=lambda v: (-v.views, v.video_id))
    top = ranked[0]
    average_views = sum(v.views for v in corpus) // len(corpus)
    facts = [
        f"{len(corpus)} videos in the corpus are about {args.topic}.",
        f"The most viewed one has {top.views:,} views, {top.views / max(1, average_views):.1f}x "
        f"the average of {average_views:,}.",
    ]
    tags = Counter(tag.lower() for v in corpus for tag in v.tags)
    if tags:
        tag, used = tags.most_common(1)[0]
        facts.append(f"The most common tag is '{tag}', used by {used} of them.")
    ctx.progress(done=1, total=3, message="Writing the factoid")
    reply = await ctx.ask_model_json(
        tool_name="factoid",
        system=FACTOID_PROMPT.format(quoted_data_rule=QUOTED_DATA_RULE),
        request=FACTOID_REQUEST.format(
            topic=args.topic,
            facts="\n".join(f"- {fact}" for fact in facts),
            quoted_titles=quoted_data(f"{v.title} ({v.views:,} views)" for v in ranked[:5]),
        ),
    )
    text = validate_model_output(_ModelFactoid, reply).factoid.strip()
    ctx.progress(done=2, total=3, message="Saving the factoid")
    sources = tuple(v.video_id for v in ranked[:5])
    saved = await ctx.context.deps.data.save_factoid(
        topic=args.topic, text=text, source_video_ids=sources
    )
    ctx.progress(done=3, total=3, message="Factoid saved")
    return FactoidOutput(
        topic=args.topic,
        factoid=text,
        factoid_id=saved.factoid_id,
        facts_used=facts,
        source_video_ids=list(sources),
    )
