"""Errors the YouTube client raises, with messages fit to show an API user.

The backend maps ``UpstreamUnavailable`` to 503 ``UPSTREAM_UNAVAILABLE``,
``ChannelNotFound`` to 404 and ``SearchCapExceeded`` to 429; anything else that is a
``YouTubeError`` is an upstream failure (502).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


class YouTubeError(Exception):
    """Base class; ``message`` is safe to show (it never contains an API key)."""

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class ChannelNotFound(YouTubeError):
    def __init__(self, *, channel_id: str | None = None, handle: str | None = None) -> None:
        what = f"handle {handle!r}" if handle is not None else f"id {channel_id!r}"
        super().__init__(
            f"No YouTube channel with {what}.",
            details={"channel_id": channel_id, "handle": handle},
        )


class UpstreamUnavailable(YouTubeError):
    DEFAULT_MESSAGE = "YouTube data is temporarily unavailable; try again later."

    def __init__(self, message: str = DEFAULT_MESSAGE, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


class SearchCapExceeded(YouTubeError):
    def __init__(self, *, limit: int, resets_at: datetime) -> None:
        super().__init__(
            f"Daily YouTube search limit reached ({limit} searches per client per day). "
            "Searches you already ran are served from the cache; new ones are possible "
            f"again after {resets_at.isoformat()}.",
            details={"limit": limit, "resets_at": resets_at.isoformat()},
        )
        self.limit = limit
        self.resets_at = resets_at


__all__ = ["ChannelNotFound", "SearchCapExceeded", "UpstreamUnavailable", "YouTubeError"]
