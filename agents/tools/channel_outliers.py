from __future__ import annotations

from statistics import median
from typing import Literal

from pydantic import BaseModel, Field

from agents.tools._channel import load_channel_videos
from agents.tools.base import ToolContext, agent_tool
from agents.videos import Video

SHORTS_MAX_SECONDS = 60
# A video at 2x (or under 0.5x) its format's median views stands out.
OUTLIER_RATIO = 2.0


class ChannelOutliersArgs(BaseModel):
    channel_id: str | None = Field(
        default=None, description="YouTube channel id (UC...); omit for the creator's own."
    )


class OutlierVideo(BaseModel):
    video_id: str
    title: str
    views: int
    format: Literal["long", "short"]
    ratio_to_median: float = Field(description="Views divided by the median of its format.")
    direction: Literal["over", "under"]


class ChannelOutliersOutput(BaseModel):
    channel_id: str
    channel_title: str
    videos_analyzed: int
    median_views_long: int | None
    median_views_short: int | None
    outliers: list[OutlierVideo]


def _format_of(video: Video) -> Literal["long", "short"]:
    is_short = video.duration_seconds is not None and video.duration_seconds <= SHORTS_MAX_SECONDS
    return "short" if is_short else "long"


def _score(videos: list[Video]) -> tuple[dict[str, int | None], list[OutlierVideo]]:
    # TODO: call agents.analytics.outliers.score_outliers(videos, as_of=..., shorts_max_seconds=60)
    # once it exists; this stand-in compares each video with its format's median views.
    medians: dict[str, int | None] = {}
    outliers: list[OutlierVideo] = []
    for fmt in ("long", "short"):
        group = [v for v in videos if _format_of(v) == fmt]
        medians[fmt] = int(median(v.views for v in group)) if group else None
        if len(group) < 3:
            continue  # too few to say what is normal
        typical = max(1, medians[fmt] or 1)
        for video in group:
            ratio = video.views / typical
            if ratio >= OUTLIER_RATIO or ratio <= 1 / OUTLIER_RATIO:
                outliers.append(
                    OutlierVideo(
                        video_id=video.video_id,
                        title=video.title,
                        views=video.views,
                        format=fmt,
                        ratio_to_median=round(ratio, 2),
                        direction="over" if ratio >= 1 else "under",
                    )
                )
    outliers.sort(key=lambda o: (-abs(o.ratio_to_median - 1), o.video_id))
    return medians, outliers


@agent_tool(args=ChannelOutliersArgs, output=ChannelOutliersOutput)
async def channel_outliers(args: ChannelOutliersArgs, ctx: ToolContext) -> ChannelOutliersOutput:
    """Analyse a channel's uploads and find outliers: videos that got far more (or far
    fewer) views than is typical for that channel, long videos and Shorts compared
    separately. Use for channel analysis, best/worst performers, what blew up or flopped."""
    ctx.progress(done=0, total=2, message="Loading the channel's videos")
    channel_id, videos = await load_channel_videos(channel_id=args.channel_id, ctx=ctx)
    ctx.progress(done=1, total=2, message=f"Scoring {len(videos)} videos")
    medians, outliers = _score(videos)
    ctx.progress(done=2, total=2, message=f"{len(outliers)} outliers found")
    return ChannelOutliersOutput(
        channel_id=channel_id,
        channel_title=videos[0].channel_title,
        videos_analyzed=len(videos),
        median_views_long=medians["long"],
        median_views_short=medians["short"],
        outliers=outliers[:10],
    )
