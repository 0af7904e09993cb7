from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from agents.tools._channel import load_channel_videos
from agents.tools.base import ToolContext, agent_tool


class UploadStreakArgs(BaseModel):
    channel_id: str | None = Field(
        default=None, description="YouTube channel id (UC...); omit for the creator's own."
    )


class UploadStreakOutput(BaseModel):
    channel_id: str
    current_streak_weeks: int = Field(description="Consecutive weeks with an upload, up to now.")
    longest_streak_weeks: int
    uploads_last_30_days: int
    average_days_between_uploads: float | None
    last_upload_at: datetime


def _week_index(moment: datetime) -> int:
    return (moment.date() - datetime(1970, 1, 5).date()).days // 7  # weeks start on Monday


@agent_tool(args=UploadStreakArgs, output=UploadStreakOutput)
async def upload_streak(args: UploadStreakArgs, ctx: ToolContext) -> UploadStreakOutput:
    """Measure how consistently a channel uploads: the current and longest streak of
    weeks with at least one upload, uploads in the last 30 days and the average gap
    between uploads. Use for consistency, upload schedule, posting frequency or streaks."""
    # TODO: call agents.analytics.streak.upload_streak(videos, as_of=...) once it exists.
    ctx.progress(done=0, total=2, message="Loading the channel's uploads")
    channel_id, videos = await load_channel_videos(channel_id=args.channel_id, ctx=ctx)
    as_of = ctx.context.deps.now()
    dates = sorted(v.published_at for v in videos if v.published_at <= as_of)
    ctx.progress(done=1, total=2, message=f"Checking {len(dates)} upload dates")
    weeks = sorted({_week_index(d) for d in dates})
    longest = run = 0
    previous: int | None = None
    for week in weeks:
        run = run + 1 if previous is not None and week == previous + 1 else 1
        longest = max(longest, run)
        previous = week
    this_week = _week_index(as_of)
    current = 0
    # A streak is still alive during a week with no upload yet.
    expected = this_week if this_week in weeks else this_week - 1
    week_set = set(weeks)
    while expected in week_set:
        current += 1
        expected -= 1
    gaps = [(b - a).total_seconds() / 86_400 for a, b in itertools.pairwise(dates)]
    ctx.progress(done=2, total=2, message=f"Current streak: {current} weeks")
    return UploadStreakOutput(
        channel_id=channel_id,
        current_streak_weeks=current,
        longest_streak_weeks=longest,
        uploads_last_30_days=sum(1 for d in dates if d >= as_of - timedelta(days=30)),
        average_days_between_uploads=round(sum(gaps) / len(gaps), 1) if gaps else None,
        last_upload_at=dates[-1] if dates else max(v.published_at for v in videos),
    )
