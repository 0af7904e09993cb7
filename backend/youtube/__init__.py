"""YouTube Data API v3 client (plain Python; ``factory.py`` builds the process's client)."""

from backend.youtube.client import FetchProgress, YouTubeApiError, YouTubeClient
from backend.youtube.errors import (
    ChannelNotFound,
    SearchCapExceeded,
    UpstreamUnavailable,
    YouTubeError,
)
from backend.youtube.keys import KeyManager, KeyStatus
from backend.youtube.quota import InMemoryQuotaCounter, QuotaCounter, RedisQuotaCounter
from backend.youtube.records import ChannelInfo, MalformedResponse, VideoData
from backend.youtube.search_limits import (
    InMemorySearchCache,
    InMemorySearchCap,
    RedisSearchCache,
    RedisSearchCap,
    SearchCache,
    SearchCap,
)

__all__ = [
    "ChannelInfo",
    "ChannelNotFound",
    "FetchProgress",
    "InMemoryQuotaCounter",
    "InMemorySearchCache",
    "InMemorySearchCap",
    "KeyManager",
    "KeyStatus",
    "MalformedResponse",
    "QuotaCounter",
    "RedisQuotaCounter",
    "RedisSearchCache",
    "RedisSearchCap",
    "SearchCache",
    "SearchCap",
    "SearchCapExceeded",
    "UpstreamUnavailable",
    "VideoData",
    "YouTubeApiError",
    "YouTubeClient",
    "YouTubeError",
]
