"""The process's PostHog client; None when no key is configured (analytics disabled)."""

from __future__ import annotations

import os
import threading

from django.conf import settings
from posthog import Posthog

_lock = threading.Lock()
_client: Posthog | None = None
_client_pid: int | None = None


def get_client() -> Posthog | None:
    global _client, _client_pid
    env = settings.ENV
    if not env.POSTHOG_API_KEY:
        return None
    with _lock:
        # A client created before a fork owns a consumer thread the child does not have.
        if _client is None or _client_pid != os.getpid():
            _client = Posthog(
                env.POSTHOG_API_KEY,
                host=env.POSTHOG_HOST,
                privacy_mode=env.POSTHOG_PRIVACY_MODE,
                flush_interval=0.5,
                max_retries=3,
                timeout=5,
                enable_local_evaluation=False,
            )
            _client_pid = os.getpid()
        return _client


def flush() -> None:
    client = _client
    if client is not None and _client_pid == os.getpid():
        client.flush()


def shutdown() -> None:
    global _client
    with _lock:
        client, _client = _client, None
    if client is not None and _client_pid == os.getpid():
        client.shutdown()


def reset_after_fork() -> None:
    global _client
    with _lock:
        _client = None
