"""pytest plugin: local protocol peers for tests (loaded from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.openai_server import OpenAIServer


@pytest.fixture
def openai_server() -> Iterator[OpenAIServer]:
    """A fresh OpenAI-compatible server per test: ``.base_url``, ``.script(...)``, ``.requests``."""
    server = OpenAIServer().start()
    try:
        yield server
    finally:
        server.stop()


# Appended, not merged into the imports above: other fixtures land in this file concurrently.
from tests.fakes.youtube_server import YouTubeServer  # noqa: E402


@pytest.fixture
def youtube_server() -> Iterator[YouTubeServer]:
    """A fresh YouTube Data API v3 server over ``../shared/data/youtube`` per test.

    ``.base_url``, ``.api_keys``, ``.fail(...)``, ``.quota_limits``, ``.requests``.
    """
    from pathlib import Path

    data_dir = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "youtube"
    if not (data_dir / "channel_uploads").is_dir():
        pytest.skip(f"shared YouTube data not found at {data_dir}")
    server = YouTubeServer(data_dir=data_dir).start()
    try:
        yield server
    finally:
        server.stop()


# Appended, not merged into the imports above: other fixtures land in this file concurrently.
from tests.fakes.stripe_server import StripeServer  # noqa: E402


@pytest.fixture
def stripe_server() -> Iterator[StripeServer]:
    """A fresh local Stripe API per test: ``.url``, ``.api_key``, ``.add_price(...)``,
    ``.complete_session(...)``, ``.requests``."""
    server = StripeServer().start()
    try:
        yield server
    finally:
        server.stop()
