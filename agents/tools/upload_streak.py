"""Upload consistency of a channel: a thin adapter over ``agents.analytics.streak``."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from agents.analytics.streak import StreakReport
from agents.analytics.streak import upload_streak as streak_report
from agents.tools._channel import channel_field, load_channel
from agents.tools._sources import AsOfBasis, resolve_as_of
from agents.tools.base import ToolContext, agent_tool
from agents.workspace import Role


class UploadStreakArgs(BaseModel):
    channel: str | None = channel_field()
    as_of: datetime | None = Field(
        default=None,
        description="The moment to measure at; omit to use the channel's snapshot time.",
    )
    shorts_max_seconds: int = Field(
        default=60, ge=1, le=600, description="Videos at most this long count as Shorts."
    )
    weeks: int = Field(
        default=26, ge=1, le=1000, description="How many recent weeks of upload counts to list."
    )


class UploadStreakOutput(StreakReport):
    """The analytics ``StreakReport`` (``uploads_per_week`` cut to the last ``weeks``),
    with the channel and where its dates and views come from."""

    channel_id: str
    channel_title: str
    channel_role: Role
    as_of_basis: AsOfBasis
    source: str = Field(description="Where the upload dates, durations and views come from.")
    shorts_max_seconds: int
    uploads_per_week_total_weeks: int
    last_upload_at: datetime | None


@agent_tool(args=UploadStreakArgs, output=UploadStreakOutput)
async def upload_streak(args: UploadStreakArgs, ctx: ToolContext) -> UploadStreakOutput:
    """Measure how consistently a channel uploads: a 0-100 consistency score (with its
    method), current and longest weekly streaks, average days between uploads, uploads per
    week, Shorts vs long-form counts and median views per weekday and hour. Use for
    consistency, upload schedule, posting frequency or streaks."""
    ctx.progress(done=0, total=2, message="Loading the channel's uploads")
    channel = await load_channel(channel=args.channel, ctx=ctx)
    as_of, basis = resolve_as_of(
        requested=args.as_of, snapshot=channel.snapshot, now=ctx.context.deps.now()
    )
    ctx.progress(done=1, total=2, message=f"Checking {len(channel.videos)} upload dates")
    report = streak_report(channel.videos, as_of=as_of, shorts_max_seconds=args.shorts_max_seconds)
    counted = [v.published_at for v in channel.videos if v.published_at <= report.as_of]
    ctx.progress(done=2, total=2, message=f"Current streak: {report.current_weekly_streak} weeks")
    return UploadStreakOutput(
        **report.model_dump(exclude={"uploads_per_week"}),
        uploads_per_week=report.uploads_per_week[-args.weeks :],
        uploads_per_week_total_weeks=len(report.uploads_per_week),
        channel_id=channel.channel_id,
        channel_title=channel.channel_title,
        channel_role=channel.channel.role,
        as_of_basis=basis,
        source=channel.snapshot.source,
        shorts_max_seconds=args.shorts_max_seconds,
        last_upload_at=max(counted) if counted else None,
    )
