from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from agents.prompts import (
    CONTENT_IDEAS_PROMPT,
    CONTENT_IDEAS_REQUEST,
    QUOTED_DATA_RULE,
    quoted_data,
)
from agents.tools.base import ToolContext, agent_tool, validate_model_output


class ContentIdeasArgs(BaseModel):
    topic: str = Field(description="The channel's niche or the subject to find ideas for.")
    count: int = Field(default=5, ge=1, le=10, description="How many ideas to return.")


class ContentIdea(BaseModel):
    title: str
    angle: str
    format: Literal["long", "short"]


class ContentIdeasOutput(BaseModel):
    topic: str
    ideas: list[ContentIdea]
    inspired_by_video_ids: list[str]


class _ModelIdeas(BaseModel):
    ideas: list[ContentIdea]


@agent_tool(args=ContentIdeasArgs, output=ContentIdeasOutput)
async def content_ideas(args: ContentIdeasArgs, ctx: ToolContext) -> ContentIdeasOutput:
    """Suggest specific video ideas (title, angle, long or short format) for a topic or
    niche, informed by what already exists on that topic. Use when a creator asks what to
    make next, for video ideas, topics or a series."""
    ctx.progress(done=0, total=2, message="Looking at existing videos on the topic")
    corpus = await ctx.context.deps.data.corpus_videos(args.topic)
    ctx.progress(done=1, total=2, message="Asking for ideas")
    request = CONTENT_IDEAS_REQUEST.format(
        topic=args.topic,
        count=args.count,
        quoted_titles=quoted_data(video.title for video in corpus[:15]),
    )
    reply = await ctx.ask_model_json(
        tool_name="content_ideas",
        system=CONTENT_IDEAS_PROMPT.format(count=args.count, quoted_data_rule=QUOTED_DATA_RULE),
        request=request,
    )
    ideas = validate_model_output(_ModelIdeas, reply).ideas[: args.count]
    ctx.progress(done=2, total=2, message=f"{len(ideas)} ideas ready")
    return ContentIdeasOutput(
        topic=args.topic,
        ideas=ideas,
        inspired_by_video_ids=[video.video_id for video in corpus[:15]],
    )
