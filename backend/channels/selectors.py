from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce, Lower, NullIf

from agents.analytics.video import Video as AnalyticsVideo
from agents.tools._sources import IMPORTED_CSV, YOUTUBE_DATA_API
from agents.workspace import Workspace, WorkspaceChannel, ordered
from backend.channels.models import Channel, Video
from backend.core.errors import NotFoundError


def _workspace_order(channels: QuerySet[Channel]) -> QuerySet[Channel]:
    """Own channels first (the primary first), then competitors; by name (the display
    name, else the title, case-insensitively) within each."""
    return channels.annotate(
        name=Coalesce(NullIf(F("display_name"), Value("")), F("title")),
        own_first=Case(
            When(role=Channel.Role.OWN, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
    ).order_by("-is_primary", "own_first", Lower("name"), "id")


def channel_list(*, client_id: str) -> QuerySet[Channel]:
    """The client's channels in workspace order (``name`` annotated)."""
    return _workspace_order(Channel.objects.filter(client_id=client_id))


WORKSPACE_MAX_CHANNELS = 500


def workspace_for_client(*, client_id: str, limit: int = WORKSPACE_MAX_CHANNELS) -> Workspace:
    """The client's channels as the agent sees them: own first (primary first), bounded."""
    # Ordered in the database as ``ordered`` sorts, so a cut at ``limit`` drops
    # competitors before own channels.
    channels = _workspace_order(Channel.objects.filter(client_id=client_id))
    rows = list(channels[:limit])
    # Counted only when the list is cut (one statement instead of two for most clients).
    total = channels.count() if len(rows) == limit else len(rows)
    found = [
        WorkspaceChannel(
            channel_id=c.external_id,
            ref=str(c.id),
            title=c.title,
            display_name=c.display_name or None,
            handle=c.handle or None,
            role="own" if c.role == Channel.Role.OWN else "competitor",
            primary=c.is_primary,
            video_count=c.video_count,
            observed_at=c.fetched_at,
            source=YOUTUBE_DATA_API if c.source == Channel.Source.YOUTUBE else IMPORTED_CSV,
        )
        for c in rows
    ]
    return Workspace(channels=ordered(found), total=total)


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
        thumbnail_url=video.thumbnail_url or None,
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
            condition |= (
                Q(title__icontains=word) | Q(description__icontains=word) | Q(tags__icontains=word)
            )
        videos = videos.filter(condition)
    return [as_analytics_video(v, channel=v.channel) for v in videos[:limit]]


def video_search_stored(
    *, client_id: str, words: list[str], limit: int, candidates: int = 2000
) -> list[AnalyticsVideo]:
    """The client's stored videos whose title or tags contain a query word: the most words
    matched first, then the most viewed (``candidates`` bounds the rows read)."""
    words = [word.lower() for word in words if word][:8]
    if not words:
        return []
    condition = Q()
    for word in words:
        condition |= Q(title__icontains=word) | Q(tags__icontains=word)
    rows = (
        Video.objects.filter(channel__client_id=client_id)
        .filter(condition)
        .select_related("channel")
        .order_by("-views", "video_id")[:candidates]
    )

    def matched(video: Video) -> int:
        text = f"{video.title} {' '.join(str(tag) for tag in video.tags)}".lower()
        return sum(word in text for word in words)

    ranked = sorted(rows, key=lambda v: (-matched(v), -v.views, v.video_id))
    return [as_analytics_video(v, channel=v.channel) for v in ranked[:limit]]
