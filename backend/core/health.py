"""Dependency checks behind /healthz: database, Redis (when configured), task executor.

/healthz is public, so a failed check answers only a status and a short generic reason;
the exception (which names hosts, users, paths) goes to the log, never into the answer.
"""

from __future__ import annotations

import time
from typing import Any

import redis
import structlog
from django.conf import settings
from django.db import OperationalError, connection
from django.utils import timezone

from backend.core import selectors, task_runner

logger = structlog.get_logger(__name__)
Check = dict[str, Any]

UNREACHABLE = "unreachable"
CHECK_FAILED = "check failed"


def _reason(exc: BaseException) -> str:
    """A fixed, generic word for what went wrong, safe to show anyone."""
    unreachable = (
        ConnectionError,
        TimeoutError,
        redis.ConnectionError,
        redis.TimeoutError,
        OperationalError,
    )
    return UNREACHABLE if isinstance(exc, unreachable) else CHECK_FAILED


def _down(name: str, exc: BaseException, **extra: Any) -> Check:
    logger.warning("health_check_failed", check=name, error=f"{type(exc).__name__}: {exc}"[:1000])
    return {"status": "down", "reason": _reason(exc), **extra}


def _timed(name: str, fn: Any) -> Check:
    started = time.perf_counter()
    try:
        extra = fn() or {}
    except Exception as exc:
        return _down(name, exc)
    return {"status": "ok", "latency_ms": round((time.perf_counter() - started) * 1000, 2), **extra}


def check_database() -> Check:
    def probe() -> dict[str, Any]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"vendor": connection.vendor}

    return _timed("database", probe)


def check_redis() -> Check:
    url: str | None = settings.REDIS_URL
    if not url:
        return {"status": "not_configured"}

    def probe() -> None:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            client.ping()
        finally:
            client.close()

    return _timed("redis", probe)


def check_worker() -> Check:
    if not task_runner.uses_celery():
        scheduler = task_runner.embedded_scheduler()
        return {
            "status": "ok",
            "runner": "thread",
            "scheduler": "running" if scheduler and scheduler.alive else "not_started",
        }
    try:
        seen_at = selectors.worker_heartbeat_latest(runner="celery")
    except Exception as exc:
        return _down("worker", exc, runner="celery")
    if seen_at is None:
        return {"status": "down", "runner": "celery", "reason": "no heartbeat yet"}
    age = (timezone.now() - seen_at).total_seconds()
    check: Check = {"status": "ok", "runner": "celery", "last_heartbeat_age_s": round(age, 1)}
    if age > settings.WORKER_HEARTBEAT_MAX_AGE_S:
        check |= {"status": "down", "reason": "heartbeat too old"}
    return check


def run_checks() -> dict[str, Check]:
    return {"database": check_database(), "redis": check_redis(), "worker": check_worker()}
