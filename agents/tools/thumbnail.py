"""Thumbnail concepts for a video idea, made through the provider chain and kept."""

from __future__ import annotations

import json

from pydantic import BaseModel, Field

from agents.context import SavedThumbnail
from agents.guard.interface import GuardError
from agents.prompts import THUMBNAIL_IMAGE_PROMPT
from agents.tools.base import ToolContext, ToolCost, agent_tool

MAX_CONCEPTS = 4
# Concepts are made one after another (a budget refusal stops before more are paid for),
# each by up to two network providers with their own deadlines before the offline card:
# the run's usual tool timeout is too short for that.
THUMBNAIL_TIMEOUT_S = 180.0


class ThumbnailArgs(BaseModel):
    title: str = Field(
        min_length=1,
        max_length=200,
        description="The video's title or idea, as the creator would publish it.",
    )
    prompt: str = Field(
        default="",
        max_length=500,
        description=(
            "What the picture should show (subject, scene, mood). Leave empty to draw it "
            "from the title."
        ),
    )
    count: int = Field(default=3, ge=1, le=MAX_CONCEPTS, description="How many concepts.")


class ThumbnailConcept(BaseModel):
    thumbnail_id: str
    provider: str
    model: str
    offline: bool
    width: int
    height: int
    cost_usd: float


class ThumbnailOutput(BaseModel):
    title: str
    prompt: str
    thumbnails: list[ThumbnailConcept]
    # Fewer than asked: why (a budget refusal after the first concepts).
    stopped: str | None = None
    note: str


@agent_tool(
    args=ThumbnailArgs,
    output=ThumbnailOutput,
    cost=ToolCost(images_arg="count"),
    timeout_s=THUMBNAIL_TIMEOUT_S,
)
async def thumbnail(args: ThumbnailArgs, ctx: ToolContext) -> ThumbnailOutput:
    """Make thumbnail concepts (1280×720 images) for a video title or idea, kept in the
    creator's thumbnail gallery. Use when the creator asks for a thumbnail, cover image or
    thumbnail ideas for a video, or picks one of the content ideas to illustrate."""
    title = " ".join(args.title.split())
    prompt = " ".join(args.prompt.split()) or THUMBNAIL_IMAGE_PROMPT.format(
        title=json.dumps(title, ensure_ascii=False)
    )
    meta = ctx.context.call_meta(feature="tool:thumbnail")
    made: list[SavedThumbnail] = []
    stopped: str | None = None
    for index in range(args.count):
        ctx.progress(
            done=index, total=args.count, message=f"Making concept {index + 1} of {args.count}"
        )
        try:
            saved = await ctx.context.deps.data.make_thumbnail(
                meta=meta, prompt=prompt, title=title, seed=index + 1
            )
        except GuardError as exc:
            if not made:
                raise
            stopped = f"Stopped after {len(made)} of {args.count}: {exc.message}"
            break
        made.append(saved)
    ctx.progress(done=len(made), total=args.count, message="Concepts ready")
    return ThumbnailOutput(
        title=title,
        prompt=prompt,
        thumbnails=[
            ThumbnailConcept(
                thumbnail_id=t.thumbnail_id,
                provider=t.provider,
                model=t.model,
                offline=t.offline,
                width=t.width,
                height=t.height,
                cost_usd=t.cost_usd,
            )
            for t in made
        ],
        stopped=stopped,
        note=_note(made),
    )


def _note(made: list[SavedThumbnail]) -> str:
    providers = sorted({t.provider for t in made})
    saved = "Kept in the Thumbnails gallery."
    if made and all(t.offline for t in made):
        return (
            "Made by the offline renderer: title cards drawn from the title, not AI images "
            f"(no image provider is configured or every provider failed). {saved}"
        )
    return f"Made by {', '.join(providers)}. {saved}"
