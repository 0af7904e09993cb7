"""The process's client is built from Django settings (embedded default: no Redis)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from backend.youtube import UpstreamUnavailable
from backend.youtube.factory import youtube_client
from tests.fakes.youtube_server import YouTubeServer, fake_channel_id


@pytest.fixture(autouse=True)
def _fresh_factory() -> Iterator[None]:
    youtube_client.cache_clear()
    yield
    if youtube_client.cache_info().currsize:
        youtube_client().close()
    youtube_client.cache_clear()


def test_factory_reads_keys_and_base_url(
    settings: Any, env: Any, youtube_server: YouTubeServer
) -> None:
    settings.REDIS_URL = None
    env(YOUTUBE_API_KEYS=" key-b , key-c ", YOUTUBE_API_BASE_URL=youtube_server.base_url)

    info = youtube_client().channel(handle="codebasics")

    assert info.channel_id == fake_channel_id("codebasics")
    assert youtube_server.requests[-1].key == "key-b"
    assert youtube_client() is youtube_client()


def test_factory_without_keys_answers_unavailable(settings: Any, env: Any) -> None:
    settings.REDIS_URL = None
    env(YOUTUBE_API_KEYS=[])

    with pytest.raises(UpstreamUnavailable):
        youtube_client().most_popular()
