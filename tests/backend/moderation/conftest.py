from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.fakes.openai_server import OpenAIServer

FLAGGED = "forbidden-topic"  # the local endpoint flags any text containing it
MODEL = "test/priced"


@pytest.fixture(autouse=True)
def _fresh_moderation() -> Iterator[None]:
    """Each test builds its checker from its own settings and starts with zero counts."""
    from backend.moderation.services import reset_for_tests

    reset_for_tests()
    yield
    reset_for_tests()


@pytest.fixture
def embedded(settings) -> Iterator[None]:
    from backend.runs.eventlog import reset_for_tests

    settings.TASK_RUNNER = "thread"
    reset_for_tests()
    yield
    reset_for_tests()


@pytest.fixture
def endpoint(env, openai_server: OpenAIServer) -> OpenAIServer:
    """The local OpenAI-compatible server as both the moderation endpoint (flagging
    ``FLAGGED`` as violence) and the priced chat model ``MODEL``."""
    openai_server.flag(FLAGGED, "violence", score=0.93)
    env(
        MODERATION_URL=openai_server.base_url,
        MODERATION_API_KEY="sk-mod",
        OPENROUTER_API_KEY="sk-test",
        OPENROUTER_BASE_URL=openai_server.base_url,
        DECLARED_MODELS=[{"id": MODEL, "input_per_million": "1", "output_per_million": "2"}],
    )
    return openai_server


@pytest.fixture
def dead_url() -> str:
    """An address nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
