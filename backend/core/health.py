"""Dependency checks behind /healthz: database, Redis (when configured), task executor."""

from __future__ import annotations

import time
from typing import Any

import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from backend.core import selectors, task_runner

Check = dict[str, Any]


def _timed(fn: Any) -> Check:
    started = time.perf_counter()
    try:
        extra = fn() or {}
    except Exception as exc:
        return {"status": "down", "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"status": "ok", "latency_ms": round((time.perf_counter() - started) * 1000, 2), **extra}


def check_database() -> Check:
    def probe() -> dict[str, Any]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"vendor": connection.vendor}

    return _timed(probe)


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

    return _timed(probe)


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
        return {"status": "down", "runner": "celery", "error": f"{type(exc).__name__}: {exc}"}
    if seen_at is None:
        return {"status": "down", "runner": "celery", "error": "no worker heartbeat recorded yet"}
    age = (timezone.now() - seen_at).total_seconds()
    status = "ok" if age <= settings.WORKER_HEARTBEAT_MAX_AGE_S else "down"
    return {"status": status, "runner": "celery", "last_heartbeat_age_s": round(age, 1)}


def run_checks() -> dict[str, Check]:
    return {"database": check_database(), "redis": check_redis(), "worker": check_worker()}
