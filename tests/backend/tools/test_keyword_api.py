"""POST /api/tools/keywords/: corpus figures on the client's own channels only, and
YouTube figures from the real client against the local fake API (cached, capped)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from backend.channels.models import Channel, Video
from backend.channels.search_sample import search_sampler
from tests.fakes.youtube_server import YouTubeServer, fake_channel_id

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_sampler() -> Iterator[None]:
    search_sampler.cache_clear()
    yield
    search_sampler.cache_clear()


def add_channel(client_id: str, *, title: str, videos: int, role: str = "own") -> Channel:
    channel = Channel.objects.create(
        client_id=client_id,
        external_id=f"UC{title.replace(' ', '')}",
        title=title,
        role=role,
        is_primary=role == "own",
        source=Channel.Source.IMPORT,
        video_count=videos,
        fetched_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    Video.objects.bulk_create(
        Video(
            channel=channel,
            video_id=f"{channel.external_id}-{i}",
            title=f"Power BI dashboard tutorial part {i}",
            description="",
            tags=["power bi"],
            published_at=datetime(2025, 6, 1, tzinfo=UTC) - timedelta(days=7 * i),
            duration_seconds=600,
            views=1000 * (i + 1),
            likes=10,
            comments=1,
        )
        for i in range(videos)
    )
    return channel


def keywords(client: APIClient, **body: Any) -> Any:
    return client.post("/api/tools/keywords/", {"topic": "power bi", **body}, format="json")


def test_anonymous_is_401() -> None:
    assert keywords(APIClient()).status_code == 401


def test_another_clients_channels_never_feed_the_corpus(anon_client: Any) -> None:
    add_channel("someone-else", title="Their Channel", videos=30)

    out = keywords(anon_client).json()

    assert out["videos_analyzed"] == 0
    assert "no channels yet" in out["corpus_note"]


def test_invalid_input_is_400_naming_the_field(anon_client: Any) -> None:
    response = keywords(anon_client, limit=0)
    assert response.status_code == 400
    assert "limit" in response.json()["error"]["details"]["fields"]


def test_one_own_channel_gives_null_competition_and_youtube_figures(
    anon_client: Any, env: Any, settings: Any, youtube_server: YouTubeServer
) -> None:
    settings.REDIS_URL = None
    env(YOUTUBE_API_KEYS=["key-a"], YOUTUBE_API_BASE_URL=youtube_server.base_url)
    for title, count in (("Thu Vu data analytics", 210_000), ("codebasics", 1_100_000)):
        youtube_server.subscriber_counts[fake_channel_id(title)] = count
    add_channel(anon_client.client_id, title="My Channel", videos=30)

    response = keywords(anon_client)

    assert response.status_code == 200
    out = response.json()
    (topic,) = [k for k in out["primary"] if k["keyword"] == "power bi"]
    # Corpus: the client's one channel. Demand measured; competition null, saying why.
    assert topic["demand_proxy"]["value"] is not None
    assert topic["demand_proxy"]["sample"] == {
        "videos": 30,
        "channels": 1,
        "own_channels": 1,
        "competitor_channels": 0,
    }
    assert topic["competition"]["value"] is None
    assert topic["competition"]["reason"] == (
        "the corpus has videos from 1 channel(s); it takes at least 3 (add competitor channels)"
    )
    assert "1 own, 0 competitor" in out["corpus_note"]
    # YouTube: the topic is sampled from the fake's search.
    youtube = topic["youtube"]
    assert youtube["status"] == "sampled" and youtube["from_cache"] is False
    assert youtube["result_count_estimate"]["value"] == 218
    assert youtube["search_competition"]["value"] is not None
    assert youtube["search_demand"]["value"] is not None
    assert out["youtube"]["sampled"][0] == "power bi"
    assert out["youtube"]["units_spent"] == 102 * len(out["youtube"]["sampled"])
    searches = len(youtube_server.requests_to("search"))
    assert searches == len(out["youtube"]["sampled"]) <= 3

    again = keywords(anon_client).json()

    assert len(youtube_server.requests_to("search")) == searches  # served from the cache
    (cached,) = [k for k in again["primary"] if k["keyword"] == "power bi"]
    assert cached["youtube"]["from_cache"] is True
    assert cached["youtube"]["search_competition"] == youtube["search_competition"] | {
        "source": cached["youtube"]["search_competition"]["source"]
    }
    assert again["youtube"]["units_spent"] == 0


def test_without_keys_the_output_says_youtube_is_not_configured(
    anon_client: Any, env: Any, settings: Any
) -> None:
    settings.REDIS_URL = None
    env(YOUTUBE_API_KEYS=[])
    add_channel(anon_client.client_id, title="My Channel", videos=5)

    out = keywords(anon_client).json()

    assert out["youtube"]["available"] is False
    assert "YOUTUBE_API_KEYS" in out["youtube"]["note"]
    assert {k["youtube"]["status"] for k in out["primary"]} == {"not sampled"}
