from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q, QuerySet

from agents.analytics.video import Video as AnalyticsVideo
from backend.channels.models import Channel, Video
from backend.core.errors import NotFoundError


def channel_list(*, client_id: str) -> QuerySet[Channel]:
    return Channel.objects.filter(client_id=client_id).order_by("title")


def channel_get_for_client(*, channel_id: str, client_id: str) -> Channel:
    """By our id or the YouTube/derived id; another client's channel is 404."""
    channels = Channel.objects.filter(client_id=client_id)
    try:
        found = channels.filter(pk=channel_id).first()
    except (DjangoValidationError, ValueError):
        found = None
    found = found or channels.filter(external_id=channel_id).first()
    if found is None:
        raise NotFoundError("No such channel.", details={"channel_id": channel_id})
    return found


def video_list(*, channel: Channel) -> QuerySet[Video]:
    return Video.objects.filter(channel=channel).order_by("-published_at", "video_id")


def as_analytics_video(video: Video, *, channel: Channel) -> AnalyticsVideo:
    return AnalyticsVideo(
        video_id=video.video_id,
        channel_id=channel.external_id,
        channel_title=channel.title,
        title=video.title,
        description=video.description,
        tags=tuple(video.tags),
        published_at=video.published_at,
        duration_seconds=video.duration_seconds,
        views=video.views,
        likes=video.likes,
        comments=video.comments,
    )


def channel_analytics_videos(*, channel: Channel) -> list[AnalyticsVideo]:
    return [as_analytics_video(v, channel=channel) for v in video_list(channel=channel)]


def corpus_videos(*, client_id: str, query: str, limit: int = 5000) -> list[AnalyticsVideo]:
    """The client's stored videos whose title, description or tags mention a query word."""
    words = [word for word in query.lower().split() if len(word) > 2][:8]
    videos = Video.objects.filter(channel__client_id=client_id).select_related("channel")
    if words:
        condition = Q()
        for word in words:
            condition |= Q(title__icontains=word) | Q(description__icontains=word)
        videos = videos.filter(condition)
    return [as_analytics_video(v, channel=v.channel) for v in videos[:limit]]
