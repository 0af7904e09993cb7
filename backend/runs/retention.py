"""Removing what is past its retention: old chat sessions (with their messages, runs, event
logs and checkpoint threads) and old runs outside sessions (factoids, channel fetches).
The exact event logs expire on their own in Redis (``RUN_EVENT_LOG_RETENTION_S``).

Work goes in batches of ``BATCH`` (one bounded transaction each) until nothing past the
retention is left, so a single run of the daily job clears any backlog.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from backend.runs.eventlog import get_event_log
from backend.runs.models import Run

logger = structlog.get_logger(__name__)
BATCH = 500
ACTIVE = (Run.Status.QUEUED, Run.Status.RUNNING)


def prune_past_retention(*, batch_size: int = BATCH) -> dict[str, int]:
    cutoff = timezone.now() - timedelta(days=settings.ENV.RUN_RETENTION_DAYS)
    counts = {
        "sessions": _prune_sessions(cutoff=cutoff, batch_size=batch_size),
        "runs": _prune_sessionless_runs(cutoff=cutoff, batch_size=batch_size),
    }
    logger.info("retention_pruned", **counts)
    return counts


def _prune_sessions(*, cutoff: datetime, batch_size: int) -> int:
    """Sessions untouched since ``cutoff`` and with no run going, in pk order (a session
    skipped for a live run is passed over, not read again by every batch)."""
    from backend.chat.models import ChatSession
    from backend.runs.checkpoints import delete_threads

    deleted = 0
    after: uuid.UUID | None = None
    while True:
        candidates = ChatSession.objects.filter(updated_at__lt=cutoff).order_by("pk")
        if after is not None:
            candidates = candidates.filter(pk__gt=after)
        batch = list(candidates.values_list("pk", flat=True)[:batch_size])
        if not batch:
            return deleted
        after = batch[-1]
        with transaction.atomic():
            # Still stale now (a message since would have touched it), and nothing running.
            stale = set(
                ChatSession.objects.select_for_update()
                .filter(pk__in=batch, updated_at__lt=cutoff)
                .values_list("pk", flat=True)
            )
            busy = set(
                Run.objects.filter(session_id__in=stale, status__in=ACTIVE).values_list(
                    "session_id", flat=True
                )
            )
            session_ids = list(stale - busy)
            run_ids = [
                str(run_id)
                for run_id in Run.objects.filter(session_id__in=session_ids).values_list(
                    "id", flat=True
                )
            ]
            Run.objects.filter(session_id__in=session_ids).delete()
            ChatSession.objects.filter(pk__in=session_ids).delete()
        _delete_logs(run_ids)
        delete_threads(thread_ids=[str(session_id) for session_id in session_ids])
        deleted += len(session_ids)


def _prune_sessionless_runs(*, cutoff: datetime, batch_size: int) -> int:
    deleted = 0
    while True:
        batch = list(
            Run.objects.filter(
                session_id__isnull=True, status__in=Run.TERMINAL, finished_at__lt=cutoff
            ).values_list("id", flat=True)[:batch_size]
        )
        if not batch:
            return deleted
        Run.objects.filter(pk__in=batch).delete()
        _delete_logs([str(run_id) for run_id in batch])
        deleted += len(batch)


def _delete_logs(run_ids: list[str]) -> None:
    log = get_event_log()
    for run_id in run_ids:
        log.delete(run_id=run_id)
