"""Resolving which channel a channel tool should look at, and where its data came from."""

from __future__ import annotations

from dataclasses import dataclass

from agents.tools._sources import ChannelSnapshot, channel_snapshot
from agents.tools.base import ToolContext, ToolFailure
from agents.videos import Video


@dataclass(frozen=True, kw_only=True)
class ChannelData:
    channel_id: str
    channel_title: str
    videos: list[Video]
    snapshot: ChannelSnapshot


async def load_channel(*, channel_id: str | None, ctx: ToolContext) -> ChannelData:
    resolved = channel_id or ctx.context.channel_id
    if not resolved:
        raise ToolFailure(
            "No channel to analyse: connect a channel or name its id (UC...).",
            code="VALIDATION_ERROR",
        )
    data = ctx.context.deps.data
    videos = await data.videos_for_channel(resolved)
    if not videos:
        raise ToolFailure(f"No videos found for channel {resolved}.", code="NOT_FOUND")
    return ChannelData(
        channel_id=resolved,
        channel_title=videos[0].channel_title,
        videos=videos,
        snapshot=await channel_snapshot(data, resolved),
    )
