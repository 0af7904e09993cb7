"""What ``/metrics`` reads besides the database: Celery's queues in the broker, the open
SSE streams, how far running runs' event logs have fallen silent, and the shared counters
(``backend.core.counters``). In Redis when configured, so every process is counted; the
embedded default reads the same things from this process (where everything runs).
"""

from __future__ import annotations

from datetime import datetime

import redis
from django.conf import settings

from backend.core import task_runner
from backend.core.counters import Labels, counters_read
from backend.runs.eventlog import get_event_log
from backend.runs.eventlog.memory import MemoryEventLog
from backend.runs.stream_slots import get_slot_store

# The Celery queues (``CELERY_TASK_ROUTES``): runs, long tool calls and fetches, webhooks
# and emails.
QUEUES = ("default", "long", "outbound")
# kombu's Redis transport keeps a queue's messages of each priority step in a list of its
# own: the queue's name, then name + "\x06\x16" + step (3, 6, 9).
PRIORITY_STEP_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")

_clients: dict[str, redis.Redis] = {}


def _redis(url: str) -> redis.Redis:
    client = _clients.get(url)
    if client is None:
        client = _clients[url] = redis.Redis.from_url(
            url, socket_connect_timeout=1, socket_timeout=2
        )
    return client


def queue_lengths() -> dict[str, int]:
    """Messages waiting in each Celery queue (LLEN), or tasks waiting for a thread in each
    pool of the embedded runner."""
    if not task_runner.uses_celery():
        return task_runner.embedded_backlog()
    url = str(settings.CELERY_BROKER_URL)
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return {}
    pipe = _redis(url).pipeline(transaction=False)
    for queue in QUEUES:
        for suffix in PRIORITY_STEP_SUFFIXES:
            pipe.llen(queue + suffix)
    lengths = iter(pipe.execute())
    return {
        queue: sum(int(next(lengths)) for _suffix in PRIORITY_STEP_SUFFIXES) for queue in QUEUES
    }


def open_streams() -> int:
    """SSE streams open now across every web process (their slots' leases)."""
    return get_slot_store().open_streams()


def event_log_lag(*, running: list[tuple[str, str]], now: datetime) -> dict[str, float]:
    """Per kind, the longest time since the newest logged event of a running run (a run
    that has fallen silent: stuck on a call, or its worker gone before its lease lapses)."""
    newest = get_event_log().last_events(run_ids=[run_id for run_id, _kind in running])
    lag: dict[str, float] = {}
    for run_id, kind in running:
        event = newest.get(run_id)
        if event is None:
            continue
        age = max(0.0, (now - datetime.fromisoformat(event.ts)).total_seconds())
        lag[kind] = max(lag.get(kind, 0.0), age)
    return lag


def embedded_event_log_size() -> dict[str, int] | None:
    """What the in-memory event log holds (runs, events, bytes); None with Redis."""
    log = get_event_log()
    return log.stats() if isinstance(log, MemoryEventLog) else None


def counters() -> dict[tuple[str, Labels], int]:
    return counters_read()
