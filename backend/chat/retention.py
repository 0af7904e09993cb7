"""Removing chat sessions past their retention: untouched since the cutoff and with no run
going, with their messages, runs, event logs and checkpoint threads.

Work goes in batches of ``BATCH`` (one bounded transaction each) until nothing past the
retention is left, so a single run of the daily job clears any backlog.
"""

from __future__ import annotations

import uuid

import structlog
from django.db import transaction

from backend.chat.models import ChatSession
from backend.chat.services import session_thread_ids
from backend.runs.checkpoints import delete_threads
from backend.runs.models import Run
from backend.runs.retention import BATCH, retention_cutoff, run_logs_delete

logger = structlog.get_logger(__name__)


def sessions_prune(*, batch_size: int = BATCH) -> int:
    """Delete the sessions past the retention, in pk order (a session skipped for a live
    run is passed over, not read again by every batch); returns how many."""
    cutoff = retention_cutoff()
    deleted = 0
    after: uuid.UUID | None = None
    while True:
        candidates = ChatSession.objects.filter(updated_at__lt=cutoff).order_by("pk")
        if after is not None:
            candidates = candidates.filter(pk__gt=after)
        batch = list(candidates.values_list("pk", flat=True)[:batch_size])
        if not batch:
            break
        after = batch[-1]
        with transaction.atomic():
            # Still stale now (a message since would have touched it), and nothing running.
            stale = set(
                ChatSession.objects.select_for_update()
                .filter(pk__in=batch, updated_at__lt=cutoff)
                .values_list("pk", flat=True)
            )
            busy = set(
                Run.objects.filter(session_id__in=stale, status__in=Run.ACTIVE).values_list(
                    "session_id", flat=True
                )
            )
            session_ids = list(stale - busy)
            threads = session_thread_ids(session_ids=[str(pk) for pk in session_ids])
            run_ids = [
                str(run_id)
                for run_id in Run.objects.filter(session_id__in=session_ids).values_list(
                    "id", flat=True
                )
            ]
            Run.objects.filter(session_id__in=session_ids).delete()
            ChatSession.objects.filter(pk__in=session_ids).delete()
        run_logs_delete(run_ids)
        delete_threads(thread_ids=threads)
        deleted += len(session_ids)
    logger.info("sessions_retention_pruned", sessions=deleted)
    return deleted
