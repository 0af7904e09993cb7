"""Stored channels for the history, search and factoid tests (rows made directly, so these
tests do not depend on the CSV importer's details)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backend.channels.models import Channel, Video

OBSERVED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TITLES = (
    ("Dialing in espresso on a budget grinder", ["espresso", "grinder"]),
    ("Latte art for beginners: the heart", ["latte art", "milk"]),
    ("Why your espresso tastes sour", ["espresso", "extraction"]),
    ("Cold brew vs espresso: caffeine tested", ["coffee", "cold brew"]),
    ("Van life kitchen build", ["van life", "diy"]),
)


def stored_channel(
    client_id: str,
    *,
    external_id: str = "UCespressolab0001",
    title: str = "Espresso Lab",
    thumbnails: bool = True,
) -> Channel:
    """An own, primary channel with five videos (four about espresso/coffee)."""
    channel = Channel.objects.create(
        client_id=client_id,
        external_id=external_id,
        title=title,
        source=Channel.Source.IMPORT,
        role=Channel.Role.OWN,
        is_primary=not Channel.objects.filter(client_id=client_id, is_primary=True).exists(),
        video_count=len(TITLES),
        fetched_at=OBSERVED,
    )
    for index, (video_title, tags) in enumerate(TITLES):
        Video.objects.create(
            channel=channel,
            video_id=f"{external_id[-4:]}v{index:02d}",
            title=video_title,
            description=f"{video_title}.",
            tags=tags,
            published_at=OBSERVED - timedelta(days=7 * index + 1),
            duration_seconds=600 + index,
            views=10_000 * (index + 1),
            likes=300 + index,
            comments=20 + index,
            thumbnail_url=f"https://i.ytimg.com/vi/{index:02d}/hqdefault.jpg" if thumbnails else "",
        )
    return channel
