"""The thumbnails' S3 storage: django-storages' ``S3Storage`` with one connection a process.

The library keeps its boto3 connection per thread; under ASGI each request's sync code runs
in a thread of its own, so every request built a new boto3 session and resource (55–280 ms
per ``GET /api/thumbnails/`` against moto, ~5 ms with it shared). The library already
shares its ``bucket`` object, made from that connection, across threads; this shares the
connection the same way (the calls go through its thread-safe client).
"""

from __future__ import annotations

import threading
from typing import Any

from storages.backends.s3 import S3Storage


class ThumbnailS3Storage(S3Storage):
    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self._shared_connection: Any = None
        self._shared_lock = threading.Lock()

    @property
    def connection(self) -> Any:
        if self._shared_connection is None:
            with self._shared_lock:
                if self._shared_connection is None:
                    self._shared_connection = S3Storage.connection.fget(self)  # type: ignore[attr-defined]
        return self._shared_connection

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = super().__getstate__()
        state.pop("_shared_connection", None)
        state.pop("_shared_lock", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._shared_connection = None
        self._shared_lock = threading.Lock()
