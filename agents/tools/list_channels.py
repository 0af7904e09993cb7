"""The creator's workspace as a tool: every channel, when the prompt's block was cut."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from agents.tools.base import ToolContext, agent_tool
from agents.workspace import Role, WorkspaceChannel


class ListChannelsArgs(BaseModel):
    role: Role | None = Field(default=None, description="Only 'own' or only 'competitor'.")
    query: str | None = Field(
        default=None, max_length=200, description="Only channels whose name contains this."
    )
    limit: int = Field(default=50, ge=1, le=200, description="At most this many channels.")


class ListedChannel(BaseModel):
    channel: str = Field(description="The id channel tools take.")
    name: str
    title: str
    handle: str | None
    role: Role
    primary: bool
    videos: int
    snapshot: datetime | None
    source: str


class ListChannelsOutput(BaseModel):
    total: int = Field(description="Channels in the workspace.")
    matching: int
    channels: list[ListedChannel]
    source: str


def _listed(channel: WorkspaceChannel) -> ListedChannel:
    return ListedChannel(
        channel=channel.channel_id,
        name=channel.name,
        title=channel.title,
        handle=channel.handle,
        role=channel.role,
        primary=channel.primary,
        videos=channel.video_count,
        snapshot=channel.observed_at,
        source=channel.source,
    )


@agent_tool(args=ListChannelsArgs, output=ListChannelsOutput)
async def list_channels(args: ListChannelsArgs, ctx: ToolContext) -> ListChannelsOutput:
    """List the creator's channels (their own and the competitors they track) with role,
    video count and snapshot time. Use when a channel the creator names is not in the
    workspace list you were given, or to ask which channel they mean."""
    workspace = await ctx.context.deps.data.workspace()
    wanted = (args.query or "").casefold().strip()
    matching = [
        c
        for c in workspace.channels
        if (args.role is None or c.role == args.role)
        and (not wanted or wanted in f"{c.name} {c.title} {c.handle or ''}".casefold())
    ]
    return ListChannelsOutput(
        total=max(workspace.total, len(workspace.channels)),
        matching=len(matching),
        channels=[_listed(c) for c in matching[: args.limit]],
        source="the creator's workspace (channels they imported or added)",
    )
