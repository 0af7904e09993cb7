"""Process lifecycle hooks for Celery workers (after fork, before shutdown)."""

from django.db import connections

# Whether this process is a child forked by Celery's prefork pool (set after the fork).
FORKED_CHILD = False


def after_worker_fork() -> None:
    from backend.analytics import client as analytics

    global FORKED_CHILD
    FORKED_CHILD = True

    # A forked child must not reuse the parent's sockets or its PostHog consumer thread.
    for conn in connections.all(initialized_only=True):
        conn.close()
    analytics.reset_after_fork()


def on_worker_shutdown() -> None:
    from backend.analytics import client as analytics

    analytics.shutdown()
    for conn in connections.all(initialized_only=True):
        conn.close()
