"""The corpus the keyword and hashtag tools measure on: the client's own and competitor
channels, matched by title, description or tags."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from backend.channels import selectors
from backend.channels.models import Channel, Video

pytestmark = pytest.mark.django_db


def _channel(client_id: str, external_id: str, role: str) -> Channel:
    return Channel.objects.create(
        client_id=client_id,
        external_id=external_id,
        title=external_id,
        role=role,
        source="import",
        fetched_at=datetime(2024, 1, 1, tzinfo=UTC),
    )


def _video(channel: Channel, video_id: str, *, title: str, tags: list[str]) -> None:
    Video.objects.create(
        channel=channel,
        video_id=video_id,
        title=title,
        tags=tags,
        published_at=datetime(2023, 6, 1, tzinfo=UTC),
        views=10,
        likes=1,
        comments=0,
    )


def test_a_video_matching_only_by_tag_is_in_the_corpus_of_own_and_competitor_channels() -> None:
    own = _channel("c1", "UCown", "own")
    rival = _channel("c1", "UCrival", "competitor")
    elsewhere = _channel("c2", "UCother", "own")
    _video(own, "v1", title="Morning routine", tags=["espresso", "coffee"])
    _video(rival, "v2", title="Espresso at home", tags=[])
    _video(rival, "v3", title="Bread", tags=["sourdough"])
    _video(elsewhere, "v4", title="Espresso too", tags=["espresso"])

    found = selectors.corpus_videos(client_id="c1", query="espresso")

    assert sorted(v.video_id for v in found) == ["v1", "v2"]
