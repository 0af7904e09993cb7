"""Process lifecycle hooks for Celery workers (after fork, before shutdown)."""

from django.db import connections


def after_worker_fork() -> None:
    # A forked child must not reuse the parent's sockets.
    for conn in connections.all(initialized_only=True):
        conn.close()


def on_worker_shutdown() -> None:
    for conn in connections.all(initialized_only=True):
        conn.close()
