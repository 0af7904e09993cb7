from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.posthog_server import PostHogCaptureServer


@pytest.fixture(autouse=True)
def _fresh_guard_state() -> Iterator[None]:
    """Budgets and rate limits start empty in every test (memory store and test Redis)."""
    from django.conf import settings

    from backend.guard import instance as guard_instance

    def flush() -> None:
        guard_instance.reset_for_tests()
        if settings.REDIS_URL:
            import redis

            try:
                client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1)
                for key in client.scan_iter("guard:*"):
                    client.delete(key)
            except redis.RedisError:
                pass

    flush()
    yield
    flush()


@pytest.fixture
def env(settings) -> Any:
    """Override typed settings (``settings.ENV``) for one test: ``env(NAME=value, ...)``."""
    original = settings.ENV

    def apply(**changes: Any) -> None:
        # Validated like the environment would be (so "0" and 0 both become Decimal).
        settings.ENV = type(settings.ENV).model_validate({**settings.ENV.model_dump(), **changes})
        from backend.guard import instance as guard_instance

        guard_instance.reset_for_tests()

    yield apply
    settings.ENV = original


@pytest.fixture
def posthog_server(env) -> Iterator[PostHogCaptureServer]:
    """The real PostHog client pointed at a local capture server."""
    from backend.analytics import client as analytics

    server = PostHogCaptureServer().start()
    env(POSTHOG_API_KEY="phc_test", POSTHOG_HOST=server.url)
    analytics.shutdown()
    yield server
    analytics.shutdown()
    server.stop()


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def anon_client(db, api_client):
    """An APIClient carrying a fresh anonymous client token."""
    from backend.clients.services import client_create

    client, token = client_create(ip_hash="test")
    api_client.credentials(HTTP_X_CLIENT_TOKEN=token)
    api_client.client_id = str(client.id)
    return api_client


@pytest.fixture
def never_ask(anon_client):
    """``anon_client`` never waits for approvals: for tests of the guard and the run path
    with priced models, where a step over the approval threshold (or about to cross a soft
    limit) would otherwise wait for the creator."""
    from backend.clients.models import Client

    Client.objects.filter(pk=anon_client.client_id).update(approvals=Client.Approvals.NEVER)
    return anon_client


@pytest.fixture
def thumbnail_files(settings, tmp_path):
    """The thumbnails storage in a directory of the test's own."""
    settings.STORAGES = {
        **settings.STORAGES,
        "thumbnails": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "thumbnails")},
        },
    }
    return tmp_path / "thumbnails"
