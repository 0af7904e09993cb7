"""Resolving which channel a channel tool should look at, and where its data came from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import AliasChoices, Field

from agents.tools._sources import ChannelSnapshot, channel_snapshot
from agents.tools.base import ToolContext, ToolFailure
from agents.videos import Video
from agents.workspace import ChannelNotResolved, WorkspaceChannel, resolve_channel

CHANNEL_DESCRIPTION = (
    "The channel: its id, handle, title or name from the workspace (case-insensitive; a "
    "unique prefix is enough), or 'mine'. Omit for the creator's primary own channel."
)


def channel_field() -> Any:
    """The ``channel`` argument of every channel tool (``channel_id`` is an alias)."""
    return Field(
        default=None,
        max_length=300,
        validation_alias=AliasChoices("channel", "channel_id"),
        description=CHANNEL_DESCRIPTION,
    )


@dataclass(frozen=True, kw_only=True)
class ChannelData:
    channel_id: str
    channel_title: str
    channel: WorkspaceChannel
    videos: list[Video]
    snapshot: ChannelSnapshot


async def resolve(*, channel: str | None, ctx: ToolContext) -> WorkspaceChannel:
    """The workspace channel ``channel`` names; a tool error listing candidates if none."""
    workspace = await ctx.context.deps.data.workspace()
    try:
        return resolve_channel(workspace, channel)
    except ChannelNotResolved as exc:
        raise ToolFailure(exc.message, code=exc.code) from None


async def load_channel(*, channel: str | None, ctx: ToolContext) -> ChannelData:
    found = await resolve(channel=channel, ctx=ctx)
    data = ctx.context.deps.data
    videos = await data.videos_for_channel(found.channel_id)
    if not videos:
        raise ToolFailure(f"No videos found for channel {found.name!r}.", code="NOT_FOUND")
    return ChannelData(
        channel_id=found.channel_id,
        channel_title=found.name,
        channel=found,
        videos=videos,
        snapshot=await channel_snapshot(data, found.channel_id),
    )
