"""The middleware chain runs on the event loop: no sync-only middleware splits it."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import AsyncClient
from django.utils.module_loading import import_string


def test_every_middleware_is_async_capable():
    sync_only = [
        path
        for path in settings.MIDDLEWARE
        if not getattr(import_string(path), "async_capable", False)
    ]
    assert sync_only == []


@pytest.mark.asyncio
async def test_static_files_are_served_on_the_async_path(settings, tmp_path):
    (tmp_path / "hello.txt").write_text("static hello")
    settings.WHITENOISE_ROOT = tmp_path
    client = AsyncClient()  # a new handler reads the setting
    response = await client.get("/hello.txt")
    assert response.status_code == 200
    assert response.getvalue() == b"static hello"  # a file response: iterated in a thread
    missing = await client.get("/api/no-such-endpoint/")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"
