"""Searching videos: on YouTube (fresh statistics) or among the workspace's stored videos.

``AgentData`` (in ``agents.context``) only hands out a channel's videos and a corpus. A
data layer that can search implements the optional ``SearchesVideos`` protocol below;
the ``video_search`` tool then offers YouTube when ``youtube_search_available()`` says
so. Without it the tool searches the corpus (``AgentData.corpus_videos``) as the
workspace and reports YouTube as unavailable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from agents.videos import Video


@dataclass(frozen=True, kw_only=True)
class FoundVideo:
    """One search result. A count is ``None`` when the source hides it (likes hidden by
    the creator, comments turned off, an upcoming premiere's views); never a made-up 0."""

    video_id: str
    title: str
    channel_id: str
    channel_title: str
    views: int | None
    likes: int | None
    comments: int | None
    published_at: datetime | None
    duration_seconds: int | None
    thumbnail_url: str | None = None

    @classmethod
    def from_video(cls, video: Video) -> FoundVideo:
        return cls(
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


@runtime_checkable
class SearchesVideos(Protocol):
    """Optional extension of ``AgentData``."""

    # What the workspace search's results are labelled with ("your imported channels").
    workspace_search_source: str

    async def youtube_search_available(self) -> bool:
        """Whether ``search_youtube`` can work at all (e.g. an API key is configured)."""
        ...

    async def search_youtube(self, *, query: str, max_results: int) -> list[FoundVideo]:
        """YouTube's results, best first. Raises ``ToolFailure`` with ``UPSTREAM_UNAVAILABLE``
        (no key, every key out of quota), ``RATE_LIMITED`` (the client's daily search
        cap) or ``UPSTREAM_ERROR``."""
        ...

    async def search_workspace(self, *, query: str, max_results: int) -> list[FoundVideo]:
        """The client's stored videos matching the query by title or tags, best first."""
        ...


__all__ = ["FoundVideo", "SearchesVideos"]
