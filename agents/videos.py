"""The ``Video`` record tools work on.

``agents/analytics/video.py`` (written in parallel) owns the canonical definition; until
it lands this module carries an identical stand-in so the tools run today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

try:
    from agents.analytics.video import Video
except ImportError:  # TODO: drop once agents/analytics/video.py exists.

    @dataclass(frozen=True, kw_only=True)
    class Video:  # type: ignore[no-redef]
        video_id: str
        channel_id: str
        channel_title: str
        title: str
        description: str
        tags: tuple[str, ...]
        published_at: datetime
        duration_seconds: int | None
        views: int
        likes: int
        comments: int


__all__ = ["Video"]
