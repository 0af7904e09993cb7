"""Content gaps against competitors: a thin adapter over ``agents.analytics.gaps``.

The base channel (``channel``) is normally the creator's own, but any workspace channel
may be the base ("what do the others do that X does not?"); the competitors are the
channels named in ``competitors`` or, by default, every competitor-role channel of the
workspace other than the base. Each channel is analysed as of when its statistics were
observed (else now), so a snapshot's age does not change which videos are mature.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from agents.analytics.gaps import (
    MIN_AGE_DAYS,
    MIN_MULTIPLE,
    ChannelVideos,
    GapReport,
    competitor_gaps,
)
from agents.tools._channel import channel_field, resolve
from agents.tools._sources import channel_snapshot, resolve_as_of
from agents.tools.base import ToolContext, ToolFailure, agent_tool
from agents.workspace import (
    ChannelNotResolved,
    Role,
    Workspace,
    WorkspaceChannel,
    resolve_channel,
)

MAX_COMPETITORS = 50
CompetitorsBasis = Literal["argument", "workspace competitors"]


class CompetitorGapArgs(BaseModel):
    channel: str | None = channel_field()
    competitors: list[Annotated[str, Field(min_length=1, max_length=300)]] | None = Field(
        default=None,
        max_length=MAX_COMPETITORS,
        description=(
            "Channels to compare with (id, handle, title or name from the workspace). Omit "
            "for every competitor channel in the workspace."
        ),
    )
    min_multiple: float = Field(
        default=MIN_MULTIPLE,
        ge=1.5,
        le=50,
        description="A competitor video is an outlier at this many times its channel's median.",
    )
    min_age_days: int = Field(
        default=MIN_AGE_DAYS,
        ge=0,
        le=365,
        description="Only videos at least this old count (younger ones still gain views).",
    )
    limit: int = Field(default=10, ge=1, le=50, description="How many gaps to list.")


class CompetitorGapOutput(GapReport):
    channel_id: str
    channel_title: str
    channel_role: Role
    competitors_basis: CompetitorsBasis


def _competitors(
    args: CompetitorGapArgs, *, base: WorkspaceChannel, workspace: Workspace
) -> tuple[list[WorkspaceChannel], CompetitorsBasis]:
    """The channels named in ``competitors`` (each once), or the workspace's competitors."""
    if args.competitors is None:
        found = [c for c in workspace.competitors if c.channel_id != base.channel_id]
        if not found:
            raise ToolFailure(
                "There are no competitor channels in the workspace to compare with: import "
                "or add a competitor's channel (it gets the role 'competitor' on the Channels "
                "page), or name the channels to compare with in 'competitors'.",
                code="VALIDATION_ERROR",
            )
        return found, "workspace competitors"
    chosen: dict[str, WorkspaceChannel] = {}
    for name in args.competitors:
        try:
            found_one = resolve_channel(workspace, name)
        except ChannelNotResolved as exc:
            raise ToolFailure(
                f"competitors: {exc.message} Name channels from the workspace "
                "(list_channels shows them all).",
                code=exc.code,
            ) from None
        if found_one.channel_id == base.channel_id:
            raise ToolFailure(
                f"competitors: {name!r} is {base.name!r}, the channel being compared; name "
                "other channels, or pass a different 'channel'.",
                code="VALIDATION_ERROR",
            )
        chosen.setdefault(found_one.channel_id, found_one)
    return list(chosen.values()), "argument"


@agent_tool(args=CompetitorGapArgs, output=CompetitorGapOutput)
async def competitor_gap(args: CompetitorGapArgs, ctx: ToolContext) -> CompetitorGapOutput:
    """Find content gaps: topics (title and tag words and two-word phrases) where
    competitors' videos beat their own channel's median views by min_multiple (default 3x)
    and the creator's channel has no video at all. Each gap has a 0-100 score (its formula
    is in the output) and proof videos (id, title, channel, views, multiple of that
    channel's median). Use for "what are my competitors doing better than me?", "content
    gaps", "what topics am I missing?", "compare me with X" (X in competitors). Turn gaps
    into ideas with content_ideas, passing seeds=[{topic, proof_video_ids}] from the gaps."""
    ctx.progress(done=0, total=3, message="Resolving the channels")
    base = await resolve(channel=args.channel, ctx=ctx)
    workspace = await ctx.context.deps.data.workspace()
    chosen, basis = _competitors(args, base=base, workspace=workspace)

    data = ctx.context.deps.data
    now = ctx.context.deps.now()

    async def load(channel: WorkspaceChannel) -> ChannelVideos:
        snapshot = await channel_snapshot(data, channel.channel_id)
        as_of, _ = resolve_as_of(requested=None, snapshot=snapshot, now=now)
        return ChannelVideos(
            channel_id=channel.channel_id,
            channel_title=channel.name,
            videos=await data.videos_for_channel(channel.channel_id),
            as_of=as_of,
            source=snapshot.source,
        )

    ctx.progress(done=1, total=3, message=f"Loading {len(chosen) + 1} channels' videos")
    own = await load(base)
    competitors = [await load(channel) for channel in chosen]
    videos = sum(len(c.videos) for c in competitors)
    ctx.progress(done=2, total=3, message=f"Comparing {videos} competitor videos")
    report = competitor_gaps(
        own=own,
        competitors=competitors,
        min_multiple=args.min_multiple,
        min_age_days=args.min_age_days,
        limit=args.limit,
    )
    ctx.progress(done=3, total=3, message=f"{report.gaps_found} gaps found")
    return CompetitorGapOutput(
        **dict(report),
        channel_id=base.channel_id,
        channel_title=base.name,
        channel_role=base.role,
        competitors_basis=basis,
    )
