"""What the client returns, parsed from the API's JSON.

Parsing rules (the API's own conventions):

- Statistics arrive as JSON strings (``"viewCount": "64090"``) and become ints.
  ``likeCount`` / ``commentCount`` are *absent* when the creator hides likes or turns
  comments off; they become ``None`` here, never a made-up 0. ``Video`` (the analytics
  record) needs ints, so ``VideoData.to_video()`` turns a hidden count into 0 and
  ``hidden_stats`` says which ones were hidden. A missing ``viewCount`` (upcoming
  premieres) is ``None`` the same way.
- ``contentDetails.duration`` is ISO-8601 (``PT15M51S``); ``P0D`` is YouTube's
  placeholder for live streams and premieres and becomes ``None`` (unknown).
- ``publishedAt`` is RFC 3339 and becomes an aware UTC datetime.
- A channel's subscriber count is ``None`` when the channel hides it.
- ``snippet.thumbnails`` holds up to five sizes; the largest one sent is kept (maxres,
  standard, high, medium, default), and only an http(s) URL, else ``None``.
- ``snippet.customUrl`` is the channel's handle; it is kept with its leading ``@``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from agents.analytics.csv_import import web_url
from agents.analytics.durations import parse_duration
from agents.analytics.video import Video
from backend.youtube.errors import YouTubeError


class MalformedResponse(YouTubeError):
    def __init__(self, what: str) -> None:
        super().__init__(f"YouTube sent a response this client cannot read ({what}).")


@dataclass(frozen=True, kw_only=True, slots=True)
class ChannelInfo:
    channel_id: str
    title: str
    description: str
    handle: str | None  # snippet.customUrl, e.g. "@techworldwithnana"
    published_at: datetime | None
    uploads_playlist_id: str
    view_count: int | None
    subscriber_count: int | None  # None when hidden
    video_count: int | None


@dataclass(frozen=True, kw_only=True, slots=True)
class VideoData:
    video_id: str
    channel_id: str
    channel_title: str
    title: str
    description: str
    tags: tuple[str, ...]
    published_at: datetime
    duration_seconds: int | None  # None: unknown (P0D) or not sent
    views: int | None
    likes: int | None  # None: hidden by the creator
    comments: int | None  # None: comments turned off
    category_id: str | None = None
    live_broadcast_content: str | None = None  # "none", "live", "upcoming"
    thumbnail_url: str | None = None  # the largest of snippet.thumbnails

    @property
    def hidden_stats(self) -> tuple[str, ...]:
        names = (("views", self.views), ("likes", self.likes), ("comments", self.comments))
        return tuple(name for name, value in names if value is None)

    def to_video(self) -> Video:
        """The analytics record; hidden counts become 0 (see ``hidden_stats``)."""
        return Video(
            video_id=self.video_id,
            channel_id=self.channel_id,
            channel_title=self.channel_title,
            title=self.title,
            description=self.description,
            tags=self.tags,
            published_at=self.published_at,
            duration_seconds=self.duration_seconds,
            views=self.views or 0,
            likes=self.likes or 0,
            comments=self.comments or 0,
            thumbnail_url=self.thumbnail_url,
        )


def parse_count(value: Any, *, field: str) -> int | None:
    """A uint64 statistic sent as a string; ``None`` when absent."""
    if value is None:
        return None
    text = str(value).strip()
    if not text.isascii() or not text.isdigit():
        raise MalformedResponse(f"{field} is not a non-negative integer: {value!r}")
    return int(text)


def parse_timestamp(value: Any, *, field: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise MalformedResponse(f"{field} is not an RFC 3339 timestamp: {value!r}") from None
    if parsed.tzinfo is None:
        raise MalformedResponse(f"{field} has no timezone: {value!r}")
    return parsed.astimezone(UTC)


THUMBNAIL_SIZES = ("maxres", "standard", "high", "medium", "default")


def best_thumbnail(thumbnails: Any) -> str | None:
    """The largest thumbnail the API sent (see the module docstring)."""
    if not isinstance(thumbnails, dict):
        return None
    for size in THUMBNAIL_SIZES:
        entry = thumbnails.get(size)
        url = entry.get("url") if isinstance(entry, dict) else None
        url = web_url(url) if isinstance(url, str) else None
        if url:
            return url
    return None


def parse_handle(value: Any) -> str | None:
    """``snippet.customUrl`` as an ``@handle`` (the API sends it lower-cased, with ``@``)."""
    if not isinstance(value, str) or not value.strip():
        return None
    return "@" + value.strip().removeprefix("@")


def parse_video(item: dict[str, Any]) -> VideoData:
    try:
        video_id = str(item["id"])
        snippet = item["snippet"]
    except (KeyError, TypeError):
        raise MalformedResponse("a video without id or snippet") from None
    stats = item.get("statistics") or {}
    raw_duration = (item.get("contentDetails") or {}).get("duration")
    try:
        duration = parse_duration(raw_duration) if raw_duration else None
    except ValueError as exc:
        raise MalformedResponse(f"contentDetails.duration of {video_id}: {exc}") from None
    tags = snippet.get("tags") or ()
    if not isinstance(tags, list | tuple) or not all(isinstance(t, str) for t in tags):
        raise MalformedResponse(f"snippet.tags of {video_id} is not a list of strings")
    return VideoData(
        video_id=video_id,
        channel_id=str(snippet.get("channelId", "")),
        channel_title=str(snippet.get("channelTitle", "")),
        title=str(snippet.get("title", "")),
        description=str(snippet.get("description", "")),
        tags=tuple(tags),
        published_at=parse_timestamp(snippet.get("publishedAt"), field="snippet.publishedAt"),
        duration_seconds=duration,
        views=parse_count(stats.get("viewCount"), field="statistics.viewCount"),
        likes=parse_count(stats.get("likeCount"), field="statistics.likeCount"),
        comments=parse_count(stats.get("commentCount"), field="statistics.commentCount"),
        category_id=snippet.get("categoryId"),
        live_broadcast_content=snippet.get("liveBroadcastContent"),
        thumbnail_url=best_thumbnail(snippet.get("thumbnails")),
    )


def parse_channel(item: dict[str, Any]) -> ChannelInfo:
    try:
        channel_id = str(item["id"])
        snippet = item["snippet"]
        uploads = item["contentDetails"]["relatedPlaylists"]["uploads"]
    except (KeyError, TypeError):
        raise MalformedResponse("a channel without id, snippet or uploads playlist") from None
    stats = item.get("statistics") or {}
    published = snippet.get("publishedAt")
    return ChannelInfo(
        channel_id=channel_id,
        title=str(snippet.get("title", "")),
        description=str(snippet.get("description", "")),
        handle=parse_handle(snippet.get("customUrl")),
        published_at=parse_timestamp(published, field="snippet.publishedAt") if published else None,
        uploads_playlist_id=str(uploads),
        view_count=parse_count(stats.get("viewCount"), field="statistics.viewCount"),
        subscriber_count=None
        if stats.get("hiddenSubscriberCount")
        else parse_count(stats.get("subscriberCount"), field="statistics.subscriberCount"),
        video_count=parse_count(stats.get("videoCount"), field="statistics.videoCount"),
    )


__all__ = [
    "ChannelInfo",
    "MalformedResponse",
    "VideoData",
    "best_thumbnail",
    "parse_channel",
    "parse_count",
    "parse_handle",
    "parse_timestamp",
    "parse_video",
]
