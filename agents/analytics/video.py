"""The ``Video`` record every creator tool works on.

One upload with its statistics at the moment they were read. Statistics are plain
non-negative integers (the Data API sends them as strings; parsing happens in
``csv_import`` or in the API client, never here). ``duration_seconds`` is ``None`` when
the duration is unknown (YouTube's ``P0D`` placeholder for live streams and premieres).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class Video:
    video_id: str
    channel_id: str
    channel_title: str
    title: str
    description: str
    tags: tuple[str, ...]
    published_at: datetime  # timezone-aware, UTC
    duration_seconds: int | None
    views: int
    likes: int
    comments: int
    # The best thumbnail the source gave; None when it gave none.
    thumbnail_url: str | None = None


__all__ = ["Video"]
