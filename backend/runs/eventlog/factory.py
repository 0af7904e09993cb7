from __future__ import annotations

import threading

from django.conf import settings

from backend.runs.eventlog.base import EventLog

_log: EventLog | None = None
_lock = threading.Lock()


def get_event_log() -> EventLog:
    global _log
    with _lock:
        if _log is None:
            retention = settings.RUN_EVENT_LOG_RETENTION_S
            if settings.REDIS_URL:
                from backend.runs.eventlog.redis_log import RedisEventLog

                _log = RedisEventLog(url=settings.REDIS_URL, retention_s=retention)
            else:
                from backend.runs.eventlog.memory import MemoryEventLog

                _log = MemoryEventLog(
                    retention_s=retention,
                    max_events=settings.ENV.RUN_EVENT_LOG_MAX_EVENTS,
                    max_bytes=settings.ENV.RUN_EVENT_LOG_MAX_BYTES,
                )
        return _log


def reset_for_tests() -> None:
    global _log
    with _lock:
        _log = None
