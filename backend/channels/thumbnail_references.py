"""The thumbnails of a channel's outlier videos, measured, to compare an upload with
(``POST /api/channels/{id}/thumbnail-comparison/``).

The outliers are the channel's high outliers by SmartScore (``agents.analytics.outliers``,
as the agent's tool scores them), strongest first. Their thumbnails are fetched from the
URL the channel's source gave (the Data API's or a CSV's ``thumbnail_link``), only from the
hosts in ``THUMBNAIL_REFERENCE_HOSTS`` (YouTube's image hosts: the URLs come from imported
files, so any other host is refused rather than fetched), with a size cap and a deadline,
decoded as safely as an upload; the measured features are cached by URL for a day.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import structlog
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from agents.analytics import score_outliers
from agents.thumbnails import analysis
from backend.channels import selectors as channel_selectors
from backend.core.db import released

logger = structlog.get_logger(__name__)

# At most this many outliers' thumbnails are compared (strongest first).
MAX_REFERENCES = 5
MAX_THUMBNAIL_BYTES = 2 * 1024 * 1024
FEATURES_CACHE_S = 24 * 3600


@dataclass(frozen=True, kw_only=True)
class OutlierVideo:
    video_id: str
    title: str
    views: int
    smart_score: float
    thumbnail_url: str | None


@dataclass(frozen=True, kw_only=True)
class References:
    channel_id: str
    channel_title: str
    measured: list[dict[str, Any]]  # one per compared outlier: video and its features
    skipped: list[dict[str, str]]  # video_id and why it was not compared


def _outliers(*, client_id: str, channel_id: str) -> tuple[str, str, list[OutlierVideo]]:
    channel = channel_selectors.channel_get_for_client(channel_id=channel_id, client_id=client_id)
    videos = channel_selectors.channel_analytics_videos(channel=channel)
    as_of = channel.fetched_at or timezone.now()
    report = score_outliers(videos, as_of=as_of)
    by_id = {video.video_id: video for video in videos}
    found = [
        OutlierVideo(
            video_id=row["video_id"],
            title=by_id[row["video_id"]].title,
            views=row["views"],
            smart_score=round(row["smart_score"], 3),
            thumbnail_url=by_id[row["video_id"]].thumbnail_url,
        )
        for row in report.outliers("high")
    ]
    return channel.external_id, channel.title, found


def allowed(url: str) -> bool:
    parts = urlsplit(url)
    env = settings.ENV
    schemes = ("https", "http") if env.THUMBNAIL_REFERENCE_ALLOW_HTTP else ("https",)
    return parts.scheme in schemes and parts.netloc.lower() in env.THUMBNAIL_REFERENCE_HOSTS


async def _fetch(http: httpx.AsyncClient, url: str) -> bytes:
    async with http.stream("GET", url) as response:
        if response.status_code != 200:
            raise ValueError(f"HTTP {response.status_code}")
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > MAX_THUMBNAIL_BYTES:
                raise ValueError("larger than 2 MB")
        return bytes(body)


async def _features(http: httpx.AsyncClient, url: str) -> dict[str, Any]:
    key = "thumbfeatures:" + hashlib.sha256(url.encode()).hexdigest()
    cached = await cache.aget(key)
    if cached is not None:
        return dict(cached)
    data = await _fetch(http, url)
    decoded = await asyncio.to_thread(analysis.decode, data)
    features = await asyncio.to_thread(analysis.measure, decoded)
    await cache.aset(key, features, FEATURES_CACHE_S)
    return features


def _reason(exc: Exception) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "the image host could not be reached"
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return "it took too long"
    if isinstance(exc, analysis.ImageRejected):
        return f"the image {exc}"
    return str(exc) or type(exc).__name__


async def outlier_references(*, client_id: str, channel_id: str) -> References:
    """The channel's outliers' measured thumbnails (``NotFoundError`` for a channel the
    client does not have); failures are listed in ``skipped``, never raised."""
    external_id, title, outliers = await released(_outliers)(
        client_id=client_id, channel_id=channel_id
    )
    measured: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    timeout = httpx.Timeout(settings.ENV.THUMBNAIL_REFERENCE_TIMEOUT_S)
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as http:
        # The strongest few: a channel whose thumbnails cannot be fetched is not tried
        # outlier after outlier.
        for video in outliers[: MAX_REFERENCES * 2]:
            if len(measured) >= MAX_REFERENCES:
                break
            url = video.thumbnail_url
            if not url:
                skipped.append({"video_id": video.video_id, "reason": "no thumbnail is known"})
                continue
            if not allowed(url):
                skipped.append({"video_id": video.video_id, "reason": "not a YouTube image URL"})
                continue
            try:
                features = await asyncio.wait_for(
                    _features(http, url), settings.ENV.THUMBNAIL_REFERENCE_TIMEOUT_S
                )
            except (httpx.HTTPError, ValueError, TimeoutError, analysis.ImageRejected) as exc:
                reason = _reason(exc)
                logger.info("reference_thumbnail_failed", video_id=video.video_id, reason=reason)
                skipped.append({"video_id": video.video_id, "reason": f"fetch failed: {reason}"})
                continue
            measured.append(
                {
                    "video_id": video.video_id,
                    "title": video.title,
                    "views": video.views,
                    "smart_score": video.smart_score,
                    "thumbnail_url": url,
                    "measured": features,
                }
            )
    return References(
        channel_id=external_id, channel_title=title, measured=measured, skipped=skipped
    )
