"""A YouTube Data API v3 client: channels, uploads, video statistics, search, trending.

Plain Python (no Django): keys, caches and the cap are passed in, so tests run it
against a local server that speaks the real API (``tests/fakes/youtube_server.py``).

Every request goes through ``_get``:

- the active key from ``KeyManager``; a quota refusal (403 ``quotaExceeded`` /
  ``dailyLimitExceeded``) or rate limit (403 ``rateLimitExceeded``, 429) parks that key
  and the request is repeated at once with the next one; no keys left ->
  ``UpstreamUnavailable``;
- transient failures (5xx, ``backendError``, connection errors and timeouts) are
  retried after 1 s, 2 s and 4 s (the ``sleep`` is injected); a fourth failure ->
  ``UpstreamUnavailable``;
- any other error (400, 403 ``forbidden``, 404 ...) is raised as ``YouTubeApiError``;
- quota units are counted for every answered request, including refused ones
  (YouTube charges invalid requests too), except quota/rate refusals and 5xx.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

import httpx
import structlog

from backend.youtube.errors import ChannelNotFound, UpstreamUnavailable, YouTubeError
from backend.youtube.keys import KeyManager
from backend.youtube.quota import COST_LIST, COST_SEARCH, key_fingerprint
from backend.youtube.records import (
    ChannelInfo,
    MalformedResponse,
    VideoData,
    parse_channel,
    parse_video,
)
from backend.youtube.search_limits import (
    InMemorySearchCache,
    InMemorySearchCap,
    SearchCache,
    SearchCap,
    normalize_query,
)

logger = structlog.get_logger(__name__)

DEFAULT_BASE_URL = "https://www.googleapis.com/youtube/v3"
PAGE_SIZE = 50  # the API's maximum for maxResults and for ids per videos.list call
BACKOFF_S = (1.0, 2.0, 4.0)
VIDEO_PARTS = "snippet,statistics,contentDetails"
CHANNEL_PARTS = "snippet,contentDetails,statistics"

_QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
_RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
_TRANSIENT_REASONS = frozenset({"backendError", "internalError"})


class YouTubeApiError(YouTubeError):
    """YouTube refused a request for a reason retrying cannot fix."""

    def __init__(self, *, status: int, reason: str | None) -> None:
        super().__init__(
            f"YouTube refused the request (HTTP {status}, {reason or 'no reason given'}).",
            details={"status": status, "reason": reason},
        )
        self.status = status
        self.reason = reason


@dataclass(frozen=True, kw_only=True)
class FetchProgress:
    stage: Literal["uploads", "videos"]
    pages_fetched: int  # playlistItems pages so far
    videos_listed: int  # ids found in the uploads playlist so far
    videos_fetched: int  # videos with statistics so far
    videos_expected: int | None  # the channel's public videoCount


PageCallback = Callable[[int, int], None]
ProgressCallback = Callable[[FetchProgress], None]


class YouTubeClient:
    def __init__(
        self,
        *,
        keys: KeyManager,
        base_url: str = DEFAULT_BASE_URL,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        search_cache: SearchCache | None = None,
        search_cap: SearchCap | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self._keys = keys
        self._base_url = base_url.rstrip("/")
        self._owns_http = http is None
        self._http = http or httpx.Client(timeout=timeout_s)
        self._sleep = sleep
        self._search_cache: SearchCache = search_cache or InMemorySearchCache()
        self._search_cap: SearchCap = search_cap or InMemorySearchCap()

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> YouTubeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- resources --------------------------------------------------------------------

    def channel(self, *, channel_id: str | None = None, handle: str | None = None) -> ChannelInfo:
        """One channel by id or by handle (``"@name"`` or ``"name"``)."""
        if (channel_id is None) == (handle is None):
            raise ValueError("pass exactly one of channel_id or handle")
        params: dict[str, Any] = {"part": CHANNEL_PARTS}
        if channel_id is not None:
            if not channel_id.strip():
                raise ValueError("channel_id is empty")
            params["id"] = channel_id.strip()
        else:
            name = (handle or "").strip().removeprefix("@")
            if not name:
                raise ValueError("handle is empty")
            params["forHandle"] = "@" + name
        items = _items(self._get("channels", params, cost=COST_LIST))
        if not items:  # the API omits ``items`` entirely when nothing matches
            raise ChannelNotFound(channel_id=channel_id, handle=handle)
        return parse_channel(items[0])

    def iter_uploads(
        self, *, playlist_id: str, on_page: PageCallback | None = None
    ) -> Iterator[str]:
        """Video ids in an uploads playlist (newest first), 50 per page.

        ``on_page(pages_fetched, videos_so_far)`` runs after each page. An id repeated
        on a later page (uploads shifting while paging) is yielded once.
        """
        seen: set[str] = set()
        tokens: set[str] = set()
        token: str | None = None
        pages = 0
        while True:
            params: dict[str, Any] = {
                "part": "contentDetails",
                "playlistId": playlist_id,
                "maxResults": PAGE_SIZE,
            }
            if token:
                params["pageToken"] = token
            data = self._get("playlistItems", params, cost=COST_LIST)
            pages += 1
            fresh: list[str] = []
            for item in _items(data):
                video_id = (item.get("contentDetails") or {}).get("videoId")
                if not isinstance(video_id, str):
                    raise MalformedResponse("a playlist item without contentDetails.videoId")
                if video_id not in seen:
                    seen.add(video_id)
                    fresh.append(video_id)
            if on_page is not None:
                on_page(pages, len(seen))
            yield from fresh
            token = data.get("nextPageToken")
            if not token:
                return
            if token in tokens:
                raise MalformedResponse("nextPageToken repeats; paging would never end")
            tokens.add(token)

    def videos(self, *, ids: Iterable[str]) -> list[VideoData]:
        """Videos with statistics, in the order asked; unknown/private ids are left out."""
        return [video for batch in self._video_batches(_unique(ids)) for video in batch]

    def search(self, *, q: str, client_id: str, max_results: int = 25) -> list[VideoData]:
        """Videos matching ``q`` (``search.list`` type=video), with fresh statistics.

        A normalised query is served from the cache when possible; otherwise it counts
        against ``client_id``'s daily search cap (``SearchCapExceeded``) and costs 100
        quota units. One full page (50) is cached, so any ``max_results`` reuses it.
        """
        _check_page_size(max_results)
        query = normalize_query(q)
        if not query:
            raise ValueError("the search query is empty")
        ids = self._search_cache.get(query)
        if ids is None:
            self._search_cap.take(client_id=client_id)
            params = {"part": "snippet", "type": "video", "q": query, "maxResults": PAGE_SIZE}
            data = self._get("search", params, cost=COST_SEARCH)
            ids = [
                item["id"]["videoId"]
                for item in _items(data)
                if (item.get("id") or {}).get("kind") == "youtube#video"
            ]
            self._search_cache.put(query, ids)
        return self.videos(ids=ids[:max_results])

    def most_popular(self, *, region_code: str = "US", max_results: int = 50) -> list[VideoData]:
        """The region's trending chart (``videos.list`` chart=mostPopular)."""
        _check_page_size(max_results)
        params = {
            "part": VIDEO_PARTS,
            "chart": "mostPopular",
            "regionCode": region_code,
            "maxResults": max_results,
        }
        return [parse_video(item) for item in _items(self._get("videos", params, cost=COST_LIST))]

    def fetch_channel(
        self,
        *,
        channel_id: str | None = None,
        handle: str | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> tuple[ChannelInfo, list[VideoData]]:
        """A channel and all its uploads with statistics (newest first)."""
        info = self.channel(channel_id=channel_id, handle=handle)

        def report(stage: Literal["uploads", "videos"], pages: int, listed: int, got: int) -> None:
            if on_progress is not None:
                on_progress(
                    FetchProgress(
                        stage=stage,
                        pages_fetched=pages,
                        videos_listed=listed,
                        videos_fetched=got,
                        videos_expected=info.video_count,
                    )
                )

        pages_seen = 0

        def on_page(pages: int, listed: int) -> None:
            nonlocal pages_seen
            pages_seen = pages
            report("uploads", pages, listed, 0)

        try:
            ids = list(self.iter_uploads(playlist_id=info.uploads_playlist_id, on_page=on_page))
        except YouTubeApiError as exc:
            # YouTube answers 404 for the uploads playlist of a channel without uploads.
            if exc.status == 404 and info.video_count == 0:
                return info, []
            raise
        videos: list[VideoData] = []
        for batch in self._video_batches(ids):
            videos.extend(batch)
            report("videos", pages_seen, len(ids), len(videos))
        return info, videos

    # -- transport --------------------------------------------------------------------

    def _video_batches(self, ids: list[str]) -> Iterator[list[VideoData]]:
        for start in range(0, len(ids), PAGE_SIZE):
            batch = ids[start : start + PAGE_SIZE]
            params = {"part": VIDEO_PARTS, "id": ",".join(batch), "maxResults": PAGE_SIZE}
            by_id = {
                video.video_id: video
                for video in map(parse_video, _items(self._get("videos", params, cost=COST_LIST)))
            }
            yield [by_id[video_id] for video_id in batch if video_id in by_id]

    def _get(self, resource: str, params: dict[str, Any], *, cost: int) -> dict[str, Any]:
        failures = 0
        while True:
            key = self._keys.active_key()
            log = logger.bind(resource=resource, key_id=key_fingerprint(key))
            try:
                response = self._http.get(
                    f"{self._base_url}/{resource}", params={**params, "key": key}
                )
            except httpx.TransportError as exc:
                problem = f"connection error ({type(exc).__name__})"
            else:
                status = response.status_code
                if response.is_success:
                    self._keys.record_usage(key, cost)
                    return _json(response)
                reasons = _error_reasons(response)
                if status == 403 and reasons & _QUOTA_REASONS:
                    until = self._keys.mark_exhausted(key, reason=min(reasons & _QUOTA_REASONS))
                    log.warning("youtube_key_exhausted", parked_until=until.isoformat())
                    continue
                if status == 429 or (status == 403 and reasons & _RATE_REASONS):
                    until = self._keys.mark_rate_limited(
                        key, reason="rateLimitExceeded", retry_after=_retry_after(response)
                    )
                    log.warning("youtube_key_rate_limited", parked_until=until.isoformat())
                    continue
                if status < 500 and not reasons & _TRANSIENT_REASONS:
                    self._keys.record_usage(key, cost)
                    raise YouTubeApiError(status=status, reason=min(reasons, default=None))
                problem = f"HTTP {status} {' '.join(sorted(reasons))}".strip()
            if failures == len(BACKOFF_S):
                log.error("youtube_gave_up", problem=problem, attempts=failures + 1)
                raise UpstreamUnavailable(details={"reason": f"YouTube kept failing: {problem}"})
            delay = BACKOFF_S[failures]
            failures += 1
            log.warning("youtube_retry", problem=problem, attempt=failures, delay_s=delay)
            self._sleep(delay)


def _check_page_size(max_results: int) -> None:
    if not 1 <= max_results <= PAGE_SIZE:
        raise ValueError(f"max_results must be between 1 and {PAGE_SIZE}, got {max_results}")


def _unique(ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(i.strip() for i in ids if i.strip()))


def _items(data: dict[str, Any]) -> list[dict[str, Any]]:
    items = data.get("items", [])
    if not isinstance(items, list):
        raise MalformedResponse("items is not a list")
    return items


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        raise MalformedResponse("the body is not JSON") from None
    if not isinstance(data, dict):
        raise MalformedResponse("the body is not a JSON object")
    return data


def _error_reasons(response: httpx.Response) -> set[str]:
    """``error.errors[].reason`` of a Google API error body (empty if there is none)."""
    try:
        errors = response.json()["error"]["errors"]
        return {str(e["reason"]) for e in errors if isinstance(e, dict) and "reason" in e}
    except (ValueError, KeyError, TypeError):
        return set()


def _retry_after(response: httpx.Response) -> timedelta | None:
    raw = response.headers.get("Retry-After", "")
    try:
        seconds = float(raw)
    except ValueError:
        return None
    return timedelta(seconds=seconds) if seconds > 0 else None


__all__ = [
    "BACKOFF_S",
    "DEFAULT_BASE_URL",
    "FetchProgress",
    "YouTubeApiError",
    "YouTubeClient",
]
