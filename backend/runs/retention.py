"""Removing what is past its retention: old chat sessions (with their messages, runs, event
logs and checkpoint threads) and old runs outside sessions (factoids, channel fetches).
The exact event logs expire on their own in Redis (``RUN_EVENT_LOG_RETENTION_S``)."""

from __future__ import annotations

from datetime import timedelta

import structlog
from django.conf import settings
from django.utils import timezone

from backend.runs.eventlog import get_event_log
from backend.runs.models import Run

logger = structlog.get_logger(__name__)
BATCH = 500


def prune_past_retention() -> dict[str, int]:
    from backend.chat.models import ChatSession
    from backend.chat.services import session_delete

    cutoff = timezone.now() - timedelta(days=settings.ENV.RUN_RETENTION_DAYS)
    sessions = 0
    for session in ChatSession.objects.filter(updated_at__lt=cutoff)[:BATCH]:
        if Run.objects.filter(
            session_id=session.id, status__in=[Run.Status.QUEUED, Run.Status.RUNNING]
        ).exists():
            continue
        session_delete(session=session)
        sessions += 1
    old_runs = list(
        Run.objects.filter(
            session_id__isnull=True,
            status__in=Run.TERMINAL,
            finished_at__lt=cutoff,
        ).values_list("id", flat=True)[:BATCH]
    )
    log = get_event_log()
    for run_id in old_runs:
        log.delete(run_id=str(run_id))
    Run.objects.filter(pk__in=old_runs).delete()
    counts = {"sessions": sessions, "runs": len(old_runs)}
    logger.info("retention_pruned", **counts)
    return counts
