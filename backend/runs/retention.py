"""Removing runs past their retention: finished runs outside any session (a session's runs
go with the session, pruned by the app that owns sessions), with their stored events and
event logs. The exact event logs also expire on their own in Redis
(``RUN_EVENT_LOG_RETENTION_S``).

Work goes in batches of ``BATCH`` (one bounded statement each) until nothing past the
retention is left, so a single run of the daily job clears any backlog.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import structlog
from django.conf import settings
from django.utils import timezone

from backend.runs.eventlog import get_event_log
from backend.runs.models import Run

logger = structlog.get_logger(__name__)
BATCH = 500


def retention_cutoff() -> datetime:
    """What finished or was last touched before this is past the retention."""
    return timezone.now() - timedelta(days=settings.ENV.RUN_RETENTION_DAYS)


def runs_prune(*, batch_size: int = BATCH) -> int:
    """Delete finished sessionless runs past the retention; returns how many."""
    cutoff = retention_cutoff()
    deleted = 0
    while True:
        batch = list(
            Run.objects.filter(
                session_id__isnull=True, status__in=Run.TERMINAL, finished_at__lt=cutoff
            ).values_list("id", flat=True)[:batch_size]
        )
        if not batch:
            break
        Run.objects.filter(pk__in=batch).delete()
        run_logs_delete(str(run_id) for run_id in batch)
        deleted += len(batch)
    logger.info("runs_retention_pruned", runs=deleted)
    return deleted


def run_logs_delete(run_ids: Iterable[str]) -> None:
    """Drop deleted runs' event logs (their stored events went with the rows)."""
    log = get_event_log()
    for run_id in run_ids:
        log.delete(run_id=run_id)
