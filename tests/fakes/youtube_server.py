"""A local YouTube Data API v3 server over the shared data, so the real client runs.

Serves ``GET /youtube/v3/{channels,playlistItems,videos,search}`` with the API's
response shapes (``kind``, ``etag``, ``items``, ``nextPageToken``, ``pageInfo``; field
names as in ``api/youtube.v3.discovery.json``) from ``<shared>/data/youtube``:

- ``channel_uploads/*.csv``: one channel per ``channelTitle``. The files have no
  channel id, so the id is ``"UC"`` + 22 hex digits of SHA-256 of the title, the handle
  is ``"@"`` + the title with everything but letters, digits, ``_ - .`` removed
  (matched case-insensitively, with or without ``@``), and the uploads playlist is
  ``"UU"`` + the id's tail, as on YouTube. Uploads are listed newest first.
  Subscriber counts are not in the data, so channels report them hidden unless a
  test sets ``subscriber_counts[channel_id]`` (then ``statistics.subscriberCount``).
- ``trending_us_2017_11/USvideos.csv``: ``videos.list chart=mostPopular regionCode=US``,
  deduplicated on ``video_id`` keeping the last (latest) row, ordered by views. That
  file has no durations, so those videos say ``P0D`` (unknown). Likes are omitted
  when ratings are disabled and comment counts when comments are, as the API does.

Videos carry ``snippet.thumbnails`` at YouTube's ``i.ytimg.com`` addresses: every size
(default, medium, high, standard, maxres) for the channel uploads; for the trending
videos the file's ``thumbnail_link`` as ``default`` plus medium and high (no standard or
maxres, as for older uploads). Channels carry ``snippet.customUrl`` (the handle,
lower-cased, with ``@``) and ``snippet.thumbnails``.

Like the API: statistics are strings, empty fields are omitted, ``items`` is absent
when nothing matches in ``channels.list``, ``maxResults`` is 0..50 (default 5), page
tokens are opaque, ``part`` is required and filters the parts returned. Quota: each
request costs 1 unit (search 100) on its key; ``quota_limits[key]`` makes the key
answer ``quotaExceeded`` once spent. Failures can be scripted per key (or for any key)
for the next N requests with ``fail``. Every request is recorded in ``requests``.
"""

from __future__ import annotations

import ast
import base64
import csv
import hashlib
import json
import re
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

Failure = Literal[
    "quotaExceeded", "dailyLimitExceeded", "rateLimitExceeded", "429", "500", "503", "drop"
]
ANY_KEY = "*"
PREFIX = "/youtube/v3/"
_HANDLE_DROP = re.compile(r"[^A-Za-z0-9_.\-]")


@dataclass(frozen=True)
class RecordedRequest:
    resource: str
    params: dict[str, str]

    @property
    def key(self) -> str | None:
        return self.params.get("key")


@dataclass
class FakeChannel:
    channel_id: str
    title: str
    handle: str
    uploads_playlist_id: str
    video_ids: list[str] = field(default_factory=list)  # newest first


@dataclass
class Dataset:
    channels: dict[str, FakeChannel]
    videos: dict[str, dict[str, Any]]  # video resources with every part
    trending: list[str]  # mostPopular order


def fake_channel_id(title: str) -> str:
    return "UC" + hashlib.sha256(title.encode("utf-8")).hexdigest()[:22]


def fake_handle(title: str) -> str:
    return "@" + _HANDLE_DROP.sub("", title)


def _etag(payload: Any) -> str:
    return hashlib.sha1(
        json.dumps(payload, sort_keys=True).encode(), usedforsecurity=False
    ).hexdigest()[:27]


THUMBNAIL_FILES = {
    "default": ("default.jpg", 120, 90),
    "medium": ("mqdefault.jpg", 320, 180),
    "high": ("hqdefault.jpg", 480, 360),
    "standard": ("sddefault.jpg", 640, 480),
    "maxres": ("maxresdefault.jpg", 1280, 720),
}


def fake_thumbnails(
    video_id: str, *, sizes: tuple[str, ...] = tuple(THUMBNAIL_FILES), default_url: str = ""
) -> dict[str, dict[str, Any]]:
    """``snippet.thumbnails`` as the API sends it, for the given sizes."""
    thumbnails = {}
    for size in sizes:
        name, width, height = THUMBNAIL_FILES[size]
        url = f"https://i.ytimg.com/vi/{video_id}/{name}"
        if size == "default" and default_url:
            url = default_url
        thumbnails[size] = {"url": url, "width": width, "height": height}
    return thumbnails


def _stats(views: str, likes: str, comments: str) -> dict[str, str]:
    stats = {"viewCount": views, "likeCount": likes, "favoriteCount": "0", "commentCount": comments}
    return {k: v for k, v in stats.items() if v != ""}


def _video(
    *,
    video_id: str,
    channel_id: str,
    channel_title: str,
    title: str,
    description: str,
    tags: list[str],
    published_at: str,
    duration: str,
    stats: dict[str, str],
    thumbnails: dict[str, dict[str, Any]],
    category_id: str = "28",
) -> dict[str, Any]:
    snippet: dict[str, Any] = {
        "publishedAt": published_at,
        "channelId": channel_id,
        "title": title,
        "description": description,
        "thumbnails": thumbnails,
        "channelTitle": channel_title,
        "categoryId": category_id,
        "liveBroadcastContent": "none",
    }
    if tags:  # the API omits tags rather than sending []
        snippet["tags"] = tags
    return {
        "kind": "youtube#video",
        "id": video_id,
        "snippet": snippet,
        "contentDetails": {"duration": duration, "dimension": "2d", "definition": "hd"},
        "statistics": stats,
    }


@cache
def load_dataset(data_dir: Path) -> Dataset:
    channels: dict[str, FakeChannel] = {}
    videos: dict[str, dict[str, Any]] = {}
    for path in sorted((data_dir / "channel_uploads").glob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                title = row["channelTitle"]
                channel_id = fake_channel_id(title)
                channel = channels.get(channel_id)
                if channel is None:
                    channel = channels[channel_id] = FakeChannel(
                        channel_id=channel_id,
                        title=title,
                        handle=fake_handle(title),
                        uploads_playlist_id="UU" + channel_id[2:],
                    )
                channel.video_ids.append(row["video_id"])
                videos[row["video_id"]] = _video(
                    video_id=row["video_id"],
                    channel_id=channel_id,
                    channel_title=title,
                    title=row["title"],
                    description=row["description"],
                    tags=list(ast.literal_eval(row["tags"])) if row["tags"].strip() else [],
                    published_at=row["publishedAt"],
                    duration=row["duration"],
                    stats=_stats(row["viewCount"], row["likeCount"], row["commentCount"]),
                    thumbnails=fake_thumbnails(row["video_id"]),
                )
    for channel in channels.values():
        channel.video_ids.sort(key=lambda v: videos[v]["snippet"]["publishedAt"], reverse=True)

    latest: dict[str, dict[str, str]] = {}
    trending_path = data_dir / "trending_us_2017_11" / "USvideos.csv"
    with trending_path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            latest[row["video_id"]] = row  # later rows are later trending days
    trending: list[str] = []
    for video_id, row in latest.items():
        tags = [] if row["tags"] == "[none]" else [t.strip('"') for t in row["tags"].split("|")]
        trending.append(video_id)
        videos.setdefault(
            video_id,
            _video(
                video_id=video_id,
                channel_id=fake_channel_id(row["channel_title"]),
                channel_title=row["channel_title"],
                title=row["title"],
                description=row["description"].replace("\\n", "\n"),
                tags=tags,
                published_at=row["publish_time"],
                duration="P0D",
                stats=_stats(
                    row["views"],
                    "" if row["ratings_disabled"] == "True" else row["likes"],
                    "" if row["comments_disabled"] == "True" else row["comment_count"],
                ),
                thumbnails=fake_thumbnails(
                    video_id,
                    sizes=("default", "medium", "high"),
                    default_url=row.get("thumbnail_link", ""),
                ),
                category_id=row["category_id"],
            ),
        )
    trending.sort(key=lambda v: -int(videos[v]["statistics"]["viewCount"]))
    return Dataset(channels=channels, videos=videos, trending=trending)


class ApiError(Exception):
    def __init__(self, status: int, reason: str, message: str, domain: str = "youtube.parameter"):
        super().__init__(message)
        self.status, self.reason, self.message, self.domain = status, reason, message, domain

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.status,
                "message": self.message,
                "errors": [{"message": self.message, "domain": self.domain, "reason": self.reason}],
            }
        }


_FAILURES: dict[str, ApiError] = {
    "quotaExceeded": ApiError(
        403,
        "quotaExceeded",
        "The request cannot be completed because you have exceeded your quota.",
        "youtube.quota",
    ),
    "dailyLimitExceeded": ApiError(
        403, "dailyLimitExceeded", "Daily Limit Exceeded.", "usageLimits"
    ),
    "rateLimitExceeded": ApiError(403, "rateLimitExceeded", "Rate Limit Exceeded.", "usageLimits"),
    "429": ApiError(429, "rateLimitExceeded", "Too many requests.", "usageLimits"),
    "500": ApiError(500, "backendError", "Backend Error", "global"),
    "503": ApiError(503, "backendError", "The service is currently unavailable.", "global"),
}


class YouTubeServer:
    def __init__(
        self,
        *,
        data_dir: Path,
        api_keys: tuple[str, ...] = ("key-a", "key-b", "key-c"),
        host: str = "127.0.0.1",
    ) -> None:
        self.data = load_dataset(data_dir)
        self.api_keys = set(api_keys)
        self.requests: list[RecordedRequest] = []
        self.quota_limits: dict[str, int] = {}
        self.units_used: dict[str, int] = defaultdict(int)
        self.subscriber_counts: dict[str, int] = {}  # channel id -> shown count
        self._failures: dict[str, deque[Failure]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # -- lifecycle --------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/youtube/v3"

    def start(self) -> YouTubeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    # -- scripting and inspection -----------------------------------------------------

    def fail(self, failure: Failure, *, key: str = ANY_KEY, times: int = 1) -> None:
        """Answer the next ``times`` requests made with ``key`` (or any key) with a failure."""
        with self._lock:
            self._failures[key].extend([failure] * times)

    def channel_by_title(self, title: str) -> FakeChannel:
        return next(c for c in self.data.channels.values() if c.title == title)

    def requests_to(self, resource: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.resource == resource]

    # -- request handling -------------------------------------------------------------

    def _answer(self, resource: str, params: dict[str, str]) -> tuple[int, dict[str, Any]] | None:
        """(status, body), or None to drop the connection."""
        with self._lock:
            self.requests.append(RecordedRequest(resource, dict(params)))
            key = params.get("key")
            if not key:
                raise ApiError(
                    403, "forbidden", "The request is missing a valid API key.", "global"
                )
            if key not in self.api_keys:
                raise ApiError(
                    400, "keyInvalid", "API key not valid. Please pass a valid API key.", "global"
                )
            failure = None
            for queue_key in (key, ANY_KEY):
                if self._failures[queue_key]:
                    failure = self._failures[queue_key].popleft()
                    break
            if failure == "drop":
                return None
            if failure is not None:
                raise _FAILURES[failure]
            cost = 100 if resource == "search" else 1
            limit = self.quota_limits.get(key)
            if limit is not None and self.units_used[key] + cost > limit:
                raise _FAILURES["quotaExceeded"]
            self.units_used[key] += cost
        handler = {
            "channels": self._channels,
            "playlistItems": self._playlist_items,
            "videos": self._videos,
            "search": self._search,
        }.get(resource)
        if handler is None:
            raise ApiError(404, "notFound", f"Unknown resource {resource!r}.", "global")
        return 200, handler(params)

    def _channels(self, params: dict[str, str]) -> dict[str, Any]:
        parts = _parts(params, {"snippet", "contentDetails", "statistics", "id"})
        if "id" in params:
            wanted = params["id"].split(",")
            found = [self.data.channels[c] for c in wanted if c in self.data.channels]
        elif "forHandle" in params:
            handle = "@" + params["forHandle"].removeprefix("@").casefold()
            found = [c for c in self.data.channels.values() if c.handle.casefold() == handle]
        else:
            raise ApiError(400, "missingRequiredParameter", "No filter selected.")
        items = [self._channel_resource(c, parts) for c in found]
        body = _list_response("youtube#channelListResponse", items, per_page=5)
        if not items:
            del body["items"]  # the real API leaves ``items`` out when nothing matches
        return body

    def _channel_resource(self, channel: FakeChannel, parts: set[str]) -> dict[str, Any]:
        videos = [self.data.videos[v] for v in channel.video_ids]
        full = {
            "snippet": {
                "title": channel.title,
                "description": f"{channel.title} (served by the local fake).",
                "customUrl": channel.handle.casefold(),
                "publishedAt": min(v["snippet"]["publishedAt"] for v in videos),
                "thumbnails": {
                    size: {"url": f"https://yt3.ggpht.example/{channel.channel_id}/{px}", **dims}
                    for size, px, dims in (
                        ("default", "s88", {"width": 88, "height": 88}),
                        ("medium", "s240", {"width": 240, "height": 240}),
                        ("high", "s800", {"width": 800, "height": 800}),
                    )
                },
            },
            "contentDetails": {
                "relatedPlaylists": {"likes": "", "uploads": channel.uploads_playlist_id}
            },
            "statistics": {
                "viewCount": str(sum(int(v["statistics"].get("viewCount", 0)) for v in videos)),
                **(
                    {"subscriberCount": str(self.subscriber_counts[channel.channel_id])}
                    if channel.channel_id in self.subscriber_counts
                    else {}
                ),
                "hiddenSubscriberCount": channel.channel_id not in self.subscriber_counts,
                "videoCount": str(len(videos)),
            },
        }
        return _resource("youtube#channel", channel.channel_id, full, parts)

    def _playlist_items(self, params: dict[str, str]) -> dict[str, Any]:
        parts = _parts(params, {"snippet", "contentDetails", "id", "status"})
        playlist_id = params.get("playlistId", "")
        channel = next(
            (c for c in self.data.channels.values() if c.uploads_playlist_id == playlist_id), None
        )
        if channel is None:
            raise ApiError(
                404,
                "playlistNotFound",
                "The playlist identified with the request's playlistId parameter cannot be found.",
            )
        page, next_token, total, per_page = _page(channel.video_ids, params)
        items = []
        for offset, video_id in enumerate(page, start=_offset(params)):
            video = self.data.videos[video_id]
            full = {
                "snippet": {
                    "publishedAt": video["snippet"]["publishedAt"],
                    "channelId": channel.channel_id,
                    "title": video["snippet"]["title"],
                    "channelTitle": channel.title,
                    "playlistId": playlist_id,
                    "position": offset,
                    "resourceId": {"kind": "youtube#video", "videoId": video_id},
                },
                "contentDetails": {
                    "videoId": video_id,
                    "videoPublishedAt": video["snippet"]["publishedAt"],
                },
                "status": {"privacyStatus": "public"},
            }
            items.append(
                _resource("youtube#playlistItem", f"PLI{playlist_id}{offset}", full, parts)
            )
        return _list_response(
            "youtube#playlistItemListResponse",
            items,
            per_page=per_page,
            total=total,
            next_token=next_token,
        )

    def _videos(self, params: dict[str, str]) -> dict[str, Any]:
        parts = _parts(params, {"snippet", "contentDetails", "statistics", "id"})
        if "id" in params:
            wanted = [v for v in params["id"].split(",") if v]
            if len(wanted) > 50:
                raise ApiError(400, "invalidValue", "At most 50 ids may be requested at once.")
            ids = [v for v in wanted if v in self.data.videos]
            page, next_token, total, per_page = ids, None, len(ids), len(ids)
        elif params.get("chart") == "mostPopular":
            if params.get("regionCode", "US") != "US":
                raise ApiError(400, "invalidValue", "This fake only holds US trending data.")
            page, next_token, total, per_page = _page(self.data.trending, params)
        else:
            raise ApiError(400, "missingRequiredParameter", "No filter selected.")
        items = [_resource("youtube#video", v, self.data.videos[v], parts) for v in page]
        return _list_response(
            "youtube#videoListResponse",
            items,
            per_page=per_page,
            total=total,
            next_token=next_token,
        )

    def _search(self, params: dict[str, str]) -> dict[str, Any]:
        _parts(params, {"snippet", "id"})
        if params.get("type") != "video":
            raise ApiError(400, "invalidValue", "This fake only searches type=video.")
        terms = params.get("q", "").casefold().split()
        hits = [
            v
            for v in self.data.videos.values()
            if terms
            and all(
                t in v["snippet"]["title"].casefold()
                or any(t in tag.casefold() for tag in v["snippet"].get("tags", []))
                for t in terms
            )
        ]
        hits.sort(key=lambda v: -int(v["statistics"].get("viewCount", 0)))
        page, next_token, total, per_page = _page([v["id"] for v in hits], params)
        items = []
        for video_id in page:
            snippet = self.data.videos[video_id]["snippet"]
            items.append(
                {
                    "kind": "youtube#searchResult",
                    "etag": _etag(video_id),
                    "id": {"kind": "youtube#video", "videoId": video_id},
                    "snippet": {
                        k: snippet[k]
                        for k in (
                            "publishedAt",
                            "channelId",
                            "title",
                            "description",
                            "thumbnails",
                            "channelTitle",
                        )
                    },
                }
            )
        body = _list_response(
            "youtube#searchListResponse",
            items,
            per_page=per_page,
            total=total,
            next_token=next_token,
        )
        body["regionCode"] = "US"
        return body

    # -- HTTP -------------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are separate writes

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                resource = url.path.removeprefix(PREFIX) if url.path.startswith(PREFIX) else ""
                params = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
                try:
                    answer = server._answer(resource, params)
                except ApiError as exc:
                    answer = (exc.status, exc.body())
                if answer is None:
                    self.close_connection = True
                    self.connection.close()
                    return
                status, payload = answer
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


def _parts(params: dict[str, str], allowed: set[str]) -> set[str]:
    parts = {p.strip() for p in params.get("part", "").split(",") if p.strip()}
    if not parts:
        raise ApiError(400, "required", "No value specified for required parameter: part")
    unknown = parts - allowed
    if unknown:
        raise ApiError(400, "unknownPart", f"Unknown part(s): {', '.join(sorted(unknown))}")
    return parts


def _offset(params: dict[str, str]) -> int:
    token = params.get("pageToken")
    if not token:
        return 0
    try:
        decoded = base64.urlsafe_b64decode(token.encode()).decode()
        if not decoded.startswith("offset:"):
            raise ValueError(decoded)
        return int(decoded.removeprefix("offset:"))
    except ValueError:
        raise ApiError(
            400, "invalidPageToken", "The request specifies an invalid page token."
        ) from None


def _page(ids: list[str], params: dict[str, str]) -> tuple[list[str], str | None, int, int]:
    """(this page's ids, nextPageToken, totalResults, resultsPerPage)."""
    try:
        per_page = int(params.get("maxResults", "5"))
    except ValueError:
        raise ApiError(400, "invalidValue", "maxResults must be an integer.") from None
    if not 0 <= per_page <= 50:
        raise ApiError(400, "invalidValue", "maxResults must be between 0 and 50.")
    start = _offset(params)
    page = ids[start : start + per_page]
    more = start + per_page < len(ids) and per_page > 0
    token = (
        base64.urlsafe_b64encode(f"offset:{start + per_page}".encode()).decode() if more else None
    )
    return page, token, len(ids), per_page


def _resource(kind: str, resource_id: str, full: dict[str, Any], parts: set[str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": kind,
        "etag": _etag([resource_id, sorted(parts)]),
        "id": resource_id,
    }
    body.update({part: full[part] for part in sorted(parts) if part in full})
    return body


def _list_response(
    kind: str,
    items: list[dict[str, Any]],
    *,
    per_page: int,
    total: int | None = None,
    next_token: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": kind, "etag": _etag([kind, [i.get("id") for i in items]])}
    if next_token:
        body["nextPageToken"] = next_token
    body["pageInfo"] = {
        "totalResults": len(items) if total is None else total,
        "resultsPerPage": per_page,
    }
    body["items"] = items
    return body


__all__ = [
    "ANY_KEY",
    "FakeChannel",
    "RecordedRequest",
    "YouTubeServer",
    "fake_channel_id",
    "fake_handle",
    "fake_thumbnails",
]
