"""Resolving which channel a channel tool should look at."""

from __future__ import annotations

from agents.tools.base import ToolContext, ToolFailure
from agents.videos import Video


async def load_channel_videos(
    *, channel_id: str | None, ctx: ToolContext
) -> tuple[str, list[Video]]:
    resolved = channel_id or ctx.context.channel_id
    if not resolved:
        raise ToolFailure(
            "No channel to analyse: connect a channel or name its id (UC...).",
            code="VALIDATION_ERROR",
        )
    videos = await ctx.context.deps.data.videos_for_channel(resolved)
    if not videos:
        raise ToolFailure(f"No videos found for channel {resolved}.", code="NOT_FOUND")
    return resolved, videos
