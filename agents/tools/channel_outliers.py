"""Outlier videos of a channel: a thin adapter over ``agents.analytics.outliers``."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from agents.analytics.outliers import (
    Flag,
    Group,
    OutlierGroup,
    OutlierGroupStats,
    ScoredVideo,
    score_outliers,
)
from agents.tools._channel import channel_field, load_channel
from agents.tools._sources import AsOfBasis, resolve_as_of
from agents.tools.base import ToolContext, agent_tool
from agents.workspace import Role

SCORES_SOURCE = "computed by agents/analytics/outliers.py from the statistics above"


class ChannelOutliersArgs(BaseModel):
    channel: str | None = channel_field()
    as_of: datetime | None = Field(
        default=None,
        description="When the statistics were read; omit to use the channel's snapshot time.",
    )
    shorts_max_seconds: int = Field(
        default=60, ge=1, le=600, description="Videos at most this long count as Shorts."
    )
    top_n: int = Field(
        default=10, ge=0, le=500, description="Unflagged top-scoring videos to list too."
    )


class OutlierGroupSummary(OutlierGroupStats):
    """One group's statistics as the tool reports them, with where the data came from."""

    source: str


class OutlierVideo(BaseModel):
    """A scored video: its statistics (``source``), derived metrics and scores, its flag."""

    video_id: str
    title: str
    group: Group
    published_at: datetime
    duration_seconds: int | None
    views: int
    likes: int
    comments: int
    age_days: float
    views_per_day: float
    engagement_rate: float
    n_views: float
    n_velocity: float
    n_engagement: float
    smart_score: float
    views_to_median: float | None
    in_baseline: bool
    flag: Flag


class ChannelOutliersOutput(BaseModel):
    channel_id: str
    channel_title: str
    channel_role: Role
    as_of: datetime
    as_of_basis: AsOfBasis
    source: str = Field(description="Where the views, likes and comments come from.")
    scores_source: str
    method: str
    shorts_max_seconds: int
    min_age_days: int
    videos_scored: int
    videos_listed: int
    listing: str
    median_views_all: float | None
    groups: dict[Group, OutlierGroupSummary]
    videos: list[OutlierVideo]


def _summary(group: OutlierGroup, *, source: str) -> OutlierGroupSummary:
    fields = group.model_dump(exclude={"videos"})
    return OutlierGroupSummary(**fields, source=source)


def _listed(rows: list[ScoredVideo], *, top_n: int) -> list[ScoredVideo]:
    """Every flagged row plus the ``top_n`` best-scoring others, by SmartScore."""
    flagged = [r for r in rows if r["flag"] != "none"]
    others = sorted(
        (r for r in rows if r["flag"] == "none"), key=lambda r: (-r["smart_score"], r["video_id"])
    )
    return sorted(flagged + others[:top_n], key=lambda r: (-r["smart_score"], r["video_id"]))


@agent_tool(args=ChannelOutliersArgs, output=ChannelOutliersOutput)
async def channel_outliers(args: ChannelOutliersArgs, ctx: ToolContext) -> ChannelOutliersOutput:
    """Find a channel's outlier videos: SmartScore (views, views per day and engagement,
    normalised within Shorts and long-form separately) outside the channel's own
    interquartile fences, with each group's quartiles, thresholds and median views. Use
    for channel analysis, best/worst performers, what blew up or flopped."""
    ctx.progress(done=0, total=2, message="Loading the channel's videos")
    channel = await load_channel(channel=args.channel, ctx=ctx)
    as_of, basis = resolve_as_of(
        requested=args.as_of, snapshot=channel.snapshot, now=ctx.context.deps.now()
    )
    ctx.progress(done=1, total=2, message=f"Scoring {len(channel.videos)} videos")
    report = score_outliers(
        channel.videos,
        as_of=as_of,
        shorts_max_seconds=args.shorts_max_seconds,
        source=channel.snapshot.source,
    )
    by_id = {video.video_id: video for video in channel.videos}
    listed = _listed(report.rows(), top_n=args.top_n)
    videos = []
    for row in listed:
        video = by_id[row["video_id"]]
        videos.append(
            OutlierVideo(
                **row,
                title=video.title,
                published_at=video.published_at,
                duration_seconds=video.duration_seconds,
                likes=video.likes,
                comments=video.comments,
            )
        )
    flagged = sum(group.high_count + group.low_count for group in report.groups.values())
    ctx.progress(done=2, total=2, message=f"{flagged} outliers among {report.video_count}")
    return ChannelOutliersOutput(
        channel_id=channel.channel_id,
        channel_title=channel.channel_title,
        channel_role=channel.channel.role,
        as_of=report.as_of,
        as_of_basis=basis,
        source=report.source,
        scores_source=SCORES_SOURCE,
        method=report.method,
        shorts_max_seconds=report.shorts_max_seconds,
        min_age_days=report.min_age_days,
        videos_scored=report.video_count,
        videos_listed=len(videos),
        listing=(
            f"{len(videos)} of {report.video_count} scored videos listed: all {flagged} "
            f"flagged plus the top {args.top_n} others by SmartScore"
        ),
        median_views_all=report.median_views_all,
        groups={
            name: _summary(group, source=report.source) for name, group in report.groups.items()
        },
        videos=videos,
    )
