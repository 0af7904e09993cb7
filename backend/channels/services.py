from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from agents.analytics.csv_import import CsvFormatError, parse_uploads_csv_text
from agents.analytics.video import Video as AnalyticsVideo
from backend.channels.models import Channel, Video
from backend.core.errors import ValidationError

MAX_REJECTED_LISTED = 200


def _first_channel_is_own(channel: Channel) -> None:
    """The first channel a client adds is its primary own channel (for a CSV with several,
    the file's first); later ones are competitors until the client says otherwise."""
    others = Channel.objects.filter(client_id=channel.client_id).exclude(pk=channel.pk)
    if not others.filter(role=Channel.Role.OWN).exists():
        channel.role = Channel.Role.OWN
        channel.is_primary = not others.filter(is_primary=True).exists()
        channel.save(update_fields=["role", "is_primary"])


def channel_upsert_videos(
    *,
    client_id: str,
    external_id: str,
    title: str,
    source: str,
    observed_at: datetime,
    videos: list[AnalyticsVideo],
) -> tuple[Channel, bool]:
    """Create or refresh a channel and its videos (statistics replaced by the newer ones)."""
    with transaction.atomic():
        channel, created = Channel.objects.select_for_update().get_or_create(
            client_id=client_id,
            external_id=external_id,
            defaults={"title": title, "source": source, "fetched_at": observed_at},
        )
        if created:
            _first_channel_is_own(channel)
        rows = [
            Video(
                channel=channel,
                video_id=v.video_id,
                title=v.title[:500],
                description=v.description,
                tags=list(v.tags),
                published_at=v.published_at,
                duration_seconds=v.duration_seconds,
                views=v.views,
                likes=v.likes,
                comments=v.comments,
                thumbnail_url=(v.thumbnail_url or "")[:500],
            )
            for v in videos
        ]
        Video.objects.bulk_create(
            rows,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["channel", "video_id"],
            update_fields=[
                "title",
                "description",
                "tags",
                "published_at",
                "duration_seconds",
                "views",
                "likes",
                "comments",
                "thumbnail_url",
            ],
        )
        channel.title = title
        channel.source = source
        channel.fetched_at = observed_at
        channel.video_count = Video.objects.filter(channel=channel).count()
        channel.save(update_fields=["title", "source", "fetched_at", "video_count"])
    return channel, created


def channel_import_csv(
    *, client_id: str, text: str, filename: str, snapshot_at: datetime | None
) -> dict[str, Any]:
    """Import a CSV with the Data API's column names; bad rows are counted, never fatal."""
    try:
        parsed = parse_uploads_csv_text(text=text, source=f"imported CSV ({filename})")
    except CsvFormatError as exc:
        raise ValidationError.for_field("file", str(exc)) from None
    observed_at = snapshot_at or timezone.now()
    channels = []
    for imported in parsed.channels:
        channel, created = channel_upsert_videos(
            client_id=client_id,
            external_id=imported.channel_id,
            title=imported.channel_title,
            source=Channel.Source.IMPORT,
            observed_at=observed_at,
            videos=imported.videos,
        )
        channels.append(
            {
                "id": str(channel.id),
                "external_id": channel.external_id,
                "title": channel.title,
                "status": "created" if created else "updated",
                "imported_rows": len(imported.videos),
                "video_count": channel.video_count,
            }
        )
    return {
        "channels": channels,
        "rows_read": parsed.rows_read,
        "imported_rows": sum(c["imported_rows"] for c in channels),
        "rejected_rows": len(parsed.rejected),
        "rejected": [row.model_dump() for row in parsed.rejected[:MAX_REJECTED_LISTED]],
        "defaulted_counts": parsed.defaulted_counts,
        "unknown_duration_count": parsed.unknown_duration_count,
        "snapshot_at": observed_at.isoformat(),
    }
