from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from agents.analytics.csv_import import CsvFormatError, parse_uploads_csv_text
from agents.analytics.video import Video as AnalyticsVideo
from backend.channels.models import Channel, Video
from backend.core.errors import NotFoundError, ValidationError

MAX_REJECTED_LISTED = 200


def _first_channel_is_own(channel: Channel) -> None:
    """The first channel a client adds is its primary own channel (for a CSV with several,
    the file's first); later ones are competitors until the client says otherwise."""
    others = Channel.objects.filter(client_id=channel.client_id).exclude(pk=channel.pk)
    if others.filter(role=Channel.Role.OWN).exists():
        return
    channel.role = Channel.Role.OWN
    channel.is_primary = True
    try:
        with transaction.atomic():
            channel.save(update_fields=["role", "is_primary"])
    except IntegrityError:
        # Another import gave this client its first channel at the same moment, and that
        # one became the primary (``uniq_client_primary_channel``); this one stays own.
        channel.is_primary = False
        channel.save(update_fields=["role", "is_primary"])


def channel_upsert_videos(
    *,
    client_id: str,
    external_id: str,
    title: str,
    source: str,
    observed_at: datetime,
    videos: list[AnalyticsVideo],
    handle: str | None = None,
) -> tuple[Channel, bool]:
    """Create or refresh a channel and its videos (statistics replaced by the newer ones).

    A refresh takes the source's title (and handle, when it gives one); the client's role,
    primary and display name stay as they are."""
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
        if handle:
            channel.handle = handle[:100]
        channel.video_count = Video.objects.filter(channel=channel).count()
        channel.save(update_fields=["title", "source", "fetched_at", "handle", "video_count"])
    return channel, created


def _within_import_caps(*, rows: int, channels: int) -> None:
    """One file's import is bounded (rows and channels), so its database work is too."""
    env = settings.ENV
    if rows > env.CSV_IMPORT_MAX_ROWS:
        raise ValidationError.for_field(
            "file", f"has {rows} rows; at most {env.CSV_IMPORT_MAX_ROWS} per file"
        )
    if channels > env.CSV_IMPORT_MAX_CHANNELS:
        raise ValidationError.for_field(
            "file", f"holds {channels} channels; at most {env.CSV_IMPORT_MAX_CHANNELS} per file"
        )


def channel_import_csv(
    *, client_id: str, text: str, filename: str, snapshot_at: datetime | None
) -> dict[str, Any]:
    """Import a CSV with the Data API's column names; bad rows are counted, never fatal."""
    try:
        parsed = parse_uploads_csv_text(text=text, source=f"imported CSV ({filename})")
    except CsvFormatError as exc:
        raise ValidationError.for_field("file", str(exc)) from None
    _within_import_caps(rows=parsed.rows_read, channels=len(parsed.channels))
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
                "display_name": channel.display_name or None,
                "name": channel.display_name or channel.title,
                "role": channel.role,
                "primary": channel.is_primary,
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


DISPLAY_NAME_MAX_CHARS = 100


def _locked_client_channels(*, client_id: str) -> list[Channel]:
    """The client's channels, row-locked oldest first (one order, so no two writers
    deadlock): every change to roles and the primary happens under these locks."""
    return list(
        Channel.objects.select_for_update().filter(client_id=client_id).order_by("created_at", "id")
    )


def _promote_oldest_own(channels: list[Channel], *, besides: Channel) -> Channel | None:
    """The client's oldest other own channel becomes the primary (None if it has none)."""
    successor = next(
        (c for c in channels if c.pk != besides.pk and c.role == Channel.Role.OWN), None
    )
    if successor is not None:
        Channel.objects.filter(pk=successor.pk).update(is_primary=True)
        successor.is_primary = True
    return successor


def channel_update(
    *,
    channel: Channel,
    role: str | None = None,
    primary: bool | None = None,
    display_name: str | None = None,
) -> Channel:
    """Change a channel's role, primary and display name; ``None`` leaves a value as it is
    and ``display_name=""`` clears it.

    - ``primary=True`` makes the channel own and primary; the previous primary stays own.
      ``primary=False`` is refused: making another channel primary is how one stops being.
    - ``role="competitor"`` on the primary clears it and promotes the client's oldest other
      own channel; ``role="own"`` when the client has no primary makes it the primary.
    - All under row locks on the client's channels, so racing updates end with one primary.
    """
    if primary is False:
        raise ValidationError.for_field(
            "primary", "cannot be set to false; make another channel primary instead"
        )
    if primary and role == Channel.Role.COMPETITOR:
        raise ValidationError.for_field("role", "a primary channel is own, not a competitor")
    if role is not None and role not in Channel.Role.values:
        raise ValidationError.for_field("role", f"must be one of {', '.join(Channel.Role.values)}")
    name = None if display_name is None else display_name.strip()
    if name is not None and len(name) > DISPLAY_NAME_MAX_CHARS:
        raise ValidationError.for_field(
            "display_name", f"must be at most {DISPLAY_NAME_MAX_CHARS} characters"
        )
    with transaction.atomic():
        channels = _locked_client_channels(client_id=channel.client_id)
        current = next((c for c in channels if c.pk == channel.pk), None)
        if current is None:  # deleted meanwhile
            raise NotFoundError("No such channel.", details={"channel_id": str(channel.pk)})
        if name is not None:
            current.display_name = name
        has_primary = any(c.is_primary for c in channels)
        if primary or (role == Channel.Role.OWN and not has_primary):
            # The old primary lets go first: the partial unique index checks each statement.
            Channel.objects.filter(pk__in=[c.pk for c in channels if c.is_primary]).exclude(
                pk=current.pk
            ).update(is_primary=False)
            current.role, current.is_primary = Channel.Role.OWN, True
            current.save(update_fields=["display_name", "role", "is_primary"])
        elif role == Channel.Role.COMPETITOR and current.is_primary:
            current.role, current.is_primary = Channel.Role.COMPETITOR, False
            current.save(update_fields=["display_name", "role", "is_primary"])
            _promote_oldest_own(channels, besides=current)
        else:
            if role is not None:
                current.role = role
            current.save(update_fields=["display_name", "role"])
    return current


def channel_delete(*, channel: Channel) -> None:
    """Delete a channel with its videos; deleting the primary promotes the client's oldest
    other own channel."""
    with transaction.atomic():
        channels = _locked_client_channels(client_id=channel.client_id)
        current = next((c for c in channels if c.pk == channel.pk), None)
        if current is None:
            raise NotFoundError("No such channel.", details={"channel_id": str(channel.pk)})
        Channel.objects.filter(pk=current.pk).delete()
        if current.is_primary:
            _promote_oldest_own(channels, besides=current)


def _merge_same_channel(*, into: Channel, other: Channel) -> None:
    """``other`` (the anonymous client's copy) folds into ``into`` (the account's), which
    keeps its role, primary and display name. Per video the newer snapshot's statistics
    win and videos only one side has are kept (what a re-import does); title, source and
    fetched_at are the newer snapshot's. ``other`` is deleted with what is left of it."""
    theirs = Video.objects.filter(channel=other)
    if other.fetched_at > into.fetched_at:
        Video.objects.filter(channel=into, video_id__in=theirs.values("video_id")).delete()
        theirs.update(channel=into)
        into.title, into.source, into.fetched_at = other.title, other.source, other.fetched_at
    else:
        mine = Video.objects.filter(channel=into).values("video_id")
        theirs.exclude(video_id__in=mine).update(channel=into)
    into.handle = into.handle or other.handle
    into.display_name = into.display_name or other.display_name
    into.video_count = Video.objects.filter(channel=into).count()
    into.save(
        update_fields=["title", "source", "fetched_at", "handle", "display_name", "video_count"]
    )
    Channel.objects.filter(pk=other.pk).delete()


def channels_attach(*, from_client_id: str, to_client_id: str) -> int:
    """An anonymous client's channels join an account's client; the account's roles win.

    - A channel both have (same external id) stays the account's row with its role, primary
      and display name; the two snapshots merge (``_merge_same_channel``).
    - A channel only the anonymous client had moves over with its role and display name,
      but is not primary when the account already has a primary.
    - An account left with own channels and no primary gets its oldest own one as primary.

    Returns how many of the anonymous client's channels are now the account's.
    """
    with transaction.atomic():
        kept = {c.external_id: c for c in _locked_client_channels(client_id=to_client_id)}
        incoming = _locked_client_channels(client_id=from_client_id)
        for channel in incoming:
            if channel.external_id in kept:
                _merge_same_channel(into=kept[channel.external_id], other=channel)
        moving = [c for c in incoming if c.external_id not in kept]
        if any(c.is_primary for c in kept.values()):
            Channel.objects.filter(pk__in=[c.pk for c in moving], is_primary=True).update(
                is_primary=False
            )
        Channel.objects.filter(pk__in=[c.pk for c in moving]).update(client_id=to_client_id)
        channels = _locked_client_channels(client_id=to_client_id)
        if not any(c.is_primary for c in channels):
            oldest_own = next((c for c in channels if c.role == Channel.Role.OWN), None)
            if oldest_own is not None:
                Channel.objects.filter(pk=oldest_own.pk).update(is_primary=True)
    return len(incoming)
