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
