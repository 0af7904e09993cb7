"""Adding a channel from YouTube: a run of kind ``channel_fetch`` on the long-work queue,
streaming its progress (pages fetched, videos) like any other run."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from backend.channels.models import Channel
from backend.channels.services import channel_upsert_videos
from backend.clients.identity import Identity
from backend.clients.models import Client
from backend.core.db import released
from backend.core.errors import (
    NotFoundError,
    RateLimitedError,
    UpstreamError,
    UpstreamUnavailableError,
)
from backend.runs import services as run_services
from backend.runs.drivers import Driver, RunContext
from backend.runs.models import Run

KIND = "channel_fetch"
CALL_ID = "channel_fetch"
FETCH_WINDOW = timedelta(hours=1)
IN_FLIGHT_RETRY_S = 30
MAX_IN_FLIGHT_CHECKED = 100


def channel_fetch_start(*, identity: Identity, channel_id: str | None, handle: str | None) -> Run:
    if not settings.ENV.YOUTUBE_API_KEYS:
        raise UpstreamUnavailableError(
            "No YouTube API key is configured; import a channel CSV instead "
            "(POST /api/channels/import/)."
        )
    with transaction.atomic():
        # One client's fetches are counted one request at a time.
        list(Client.objects.select_for_update().filter(pk=identity.client_id).values("pk"))
        _within_fetch_limits(client_id=identity.client_id, channel_id=channel_id, handle=handle)
        return run_services.run_create(
            kind=KIND,
            client_id=identity.client_id,
            model="youtube-data-api",
            input={"channel_id": channel_id, "handle": handle},
        )


def _fetch_target(channel_id: str | None, handle: str | None) -> str:
    return channel_id or "@" + (handle or "").lstrip("@").lower()


def _within_fetch_limits(*, client_id: str, channel_id: str | None, handle: str | None) -> None:
    """At most one fetch of a channel in flight per client, and at most
    ``YOUTUBE_CHANNEL_FETCHES_PER_HOUR`` started in any hour (each costs API quota)."""
    fetches = Run.objects.filter(client_id=client_id, kind=KIND)
    target = _fetch_target(channel_id, handle)
    in_flight = fetches.exclude(status__in=Run.TERMINAL).only("id", "input")
    for run in in_flight[:MAX_IN_FLIGHT_CHECKED]:
        if _fetch_target(run.input.get("channel_id"), run.input.get("handle")) == target:
            raise RateLimitedError(
                "This channel is being fetched already; its run streams the result.",
                retry_after_s=IN_FLIGHT_RETRY_S,
                details={"run_id": str(run.id)},
            )
    limit = settings.ENV.YOUTUBE_CHANNEL_FETCHES_PER_HOUR
    now = timezone.now()
    started = list(
        fetches.filter(created_at__gt=now - FETCH_WINDOW)
        .order_by("created_at")
        .values_list("created_at", flat=True)[:limit]
    )
    if len(started) >= limit:
        raise RateLimitedError(
            f"At most {limit} channel fetches an hour; the next one can start later.",
            retry_after_s=(started[0] + FETCH_WINDOW - now).total_seconds(),
            details={"limit": limit, "window_s": int(FETCH_WINDOW.total_seconds())},
        )


async def drive_channel_fetch(ctx: RunContext) -> dict[str, Any]:
    from backend.youtube import errors as youtube
    from backend.youtube.factory import youtube_client

    args = {k: v for k, v in ctx.run.input.items() if v}
    await ctx.emit("run.started", {"model": "youtube-data-api", "offline": False})
    await ctx.emit("tool.started", {"call_id": CALL_ID, "name": "channel_fetch", "args": args})
    loop = asyncio.get_running_loop()

    def progress(report: Any) -> None:
        total = report.videos_expected
        done = report.videos_fetched if report.stage == "videos" else report.videos_listed
        message = (
            f"{report.pages_fetched} pages of uploads read, {report.videos_listed} videos found"
            if report.stage == "uploads"
            else f"statistics for {report.videos_fetched} videos"
        )
        future = asyncio.run_coroutine_threadsafe(
            ctx.emit(
                "tool.progress",
                {"call_id": CALL_ID, "done": done, "total": total, "message": message},
            ),
            loop,
        )
        future.result(timeout=30)

    try:
        info, videos = await asyncio.to_thread(
            youtube_client().fetch_channel,
            channel_id=ctx.run.input.get("channel_id"),
            handle=ctx.run.input.get("handle"),
            on_progress=progress,
        )
    except youtube.ChannelNotFound as exc:
        raise NotFoundError(exc.message) from None
    except youtube.UpstreamUnavailable as exc:
        raise UpstreamUnavailableError(exc.message) from None
    except youtube.YouTubeError as exc:
        raise UpstreamError(exc.message) from None
    channel, created = await released(channel_upsert_videos)(
        client_id=ctx.run.client_id,
        external_id=info.channel_id,
        title=info.title,
        source=Channel.Source.YOUTUBE,
        observed_at=timezone.now(),
        videos=[video.to_video() for video in videos],
        handle=info.handle,
    )
    output = {
        "id": str(channel.id),
        "external_id": channel.external_id,
        "title": channel.title,
        "handle": channel.handle or None,
        "role": channel.role,
        "primary": channel.is_primary,
        "status": "created" if created else "updated",
        "video_count": channel.video_count,
        "fetched_at": channel.fetched_at.isoformat(),
        "hidden_statistics": sum(1 for v in videos if v.hidden_stats),
        "source": "YouTube Data API",
    }
    await ctx.emit(
        "tool.completed",
        {"call_id": CALL_ID, "name": "channel_fetch", "output": output, "duration_ms": None},
    )
    return {"channel": output}


# A channel's whole upload history is long work: its own queue, so chat runs are never
# stuck behind it.
DRIVER = Driver(drive=drive_channel_fetch, queue="long")
