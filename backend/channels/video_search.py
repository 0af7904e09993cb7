"""Video search, shared by ``GET /api/videos/search/`` and the agent's ``video_search``
tool: YouTube's search with fresh statistics (cached and capped per client per Pacific
day, ``backend/youtube/search_limits.py``), or the client's stored videos."""

from __future__ import annotations

from django.conf import settings

from agents.tools._sources import YOUTUBE_DATA_API
from agents.tools._text import content_words
from agents.tools._video_search import FoundVideo
from backend.channels import selectors
from backend.core.errors import UpstreamUnavailableError, ValidationError
from backend.youtube.records import VideoData

YOUTUBE_SOURCE = YOUTUBE_DATA_API
WORKSPACE_SOURCE = "your imported and fetched channels"
NO_KEY_MESSAGE = (
    "YouTube search needs a YouTube Data API key (YOUTUBE_API_KEYS) and none is "
    "configured. Your workspace's stored videos can still be searched (scope=workspace)."
)


def youtube_search_available() -> bool:
    return any(key.strip() for key in settings.ENV.YOUTUBE_API_KEYS)


def found_from_youtube(video: VideoData) -> FoundVideo:
    return FoundVideo(
        video_id=video.video_id,
        title=video.title,
        channel_id=video.channel_id,
        channel_title=video.channel_title,
        views=video.views,
        likes=video.likes,
        comments=video.comments,
        published_at=video.published_at,
        duration_seconds=video.duration_seconds,
        thumbnail_url=video.thumbnail_url,
    )


def video_search_youtube(*, client_id: str, query: str, max_results: int) -> list[FoundVideo]:
    """YouTube's results for the query; 503 without a key, 429 over the daily cap (the
    YouTube client's errors become ``ApplicationError``s in the error handler)."""
    from backend.youtube.factory import youtube_client

    if not youtube_search_available():
        raise UpstreamUnavailableError(NO_KEY_MESSAGE)
    try:
        videos = youtube_client().search(q=query, client_id=client_id, max_results=max_results)
    except ValueError as exc:  # nothing left of the query once normalised
        raise ValidationError.for_field("q", str(exc)) from None
    return [found_from_youtube(video) for video in videos]


def video_search_workspace(*, client_id: str, query: str, max_results: int) -> list[FoundVideo]:
    """The client's stored videos matching the query's words by title or tags."""
    words = content_words(query) or [w for w in query.lower().split() if w]
    videos = selectors.video_search_stored(client_id=client_id, words=words, limit=max_results)
    return [FoundVideo.from_video(video) for video in videos]


__all__ = [
    "NO_KEY_MESSAGE",
    "WORKSPACE_SOURCE",
    "YOUTUBE_SOURCE",
    "found_from_youtube",
    "video_search_workspace",
    "video_search_youtube",
    "youtube_search_available",
]
