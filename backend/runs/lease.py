"""Who executes a run: an atomic claim with a lease kept alive by a heartbeat.

A duplicate delivery of a live run finds the lease held and exits at once; a run whose
worker died has its lease expire, and the reaper (or the broker's redelivery) hands it to
another worker, which resumes it with ``attempt`` + 1 — up to ``MAX_ATTEMPTS``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from backend.runs.emitter import RunEmitter
from backend.runs.eventlog.base import TERMINAL_TYPES
from backend.runs.models import Run, RunEvent

MAX_ATTEMPTS = 3
ClaimOutcome = Literal["claimed", "busy", "finished", "waiting", "exhausted", "cancelled"]


def run_claim(*, run_id: str, worker_id: str, lease_s: float) -> tuple[ClaimOutcome, Run | None]:
    with transaction.atomic():
        run = Run.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.is_finished:
            return "finished", run
        now = timezone.now()
        if run.status == Run.Status.RUNNING and run.lease_expires_at and run.lease_expires_at > now:
            return "busy", run
        if run.status == Run.Status.WAITING:
            return "waiting", run  # parked by its driver until it is resumed
        if (
            run.session_id
            and Run.objects.filter(session_id=run.session_id)
            .filter(
                Q(status=Run.Status.RUNNING, lease_expires_at__gt=now)
                | Q(status__in=(Run.Status.QUEUED, Run.Status.WAITING), ordinal__lt=run.ordinal)
            )
            .exclude(pk=run.pk)
            .exists()
        ):
            return "waiting", run  # strict order: it is started when the earlier run ends
        if run.cancel_requested:
            _end(run, status=Run.Status.CANCELLED, code="CANCELLED", message="cancelled")
            transaction.on_commit(
                lambda: RunEmitter(run_id=run_id, attempt=max(1, run.attempt)).emit(
                    "run.cancelled", {"reason": "cancelled before it started"}
                )
            )
            return "cancelled", run
        if run.attempt >= MAX_ATTEMPTS:
            _end(
                run,
                status=Run.Status.FAILED,
                code="INTERNAL_ERROR",
                message=f"The run was interrupted {run.attempt} times and will not be retried.",
            )
            attempt = run.attempt
            transaction.on_commit(
                lambda: RunEmitter(run_id=run_id, attempt=attempt).emit(
                    "run.failed",
                    {"error": {"code": "INTERNAL_ERROR", "message": run.error_message}},
                )
            )
            return "exhausted", run
        run.status = Run.Status.RUNNING
        run.attempt += 1
        run.lease_owner = worker_id
        run.lease_expires_at = now + timedelta(seconds=lease_s)
        run.started_at = run.started_at or now
        run.save(
            update_fields=["status", "attempt", "lease_owner", "lease_expires_at", "started_at"]
        )
        return "claimed", run


def _end(run: Run, *, status: str, code: str = "", message: str = "") -> None:
    run.status = status
    run.error_code = code
    run.error_message = message
    run.finished_at = timezone.now()
    run.lease_expires_at = None
    run.save(
        update_fields=["status", "error_code", "error_message", "finished_at", "lease_expires_at"]
    )


def run_heartbeat(*, run_id: str, worker_id: str, lease_s: float) -> tuple[bool, bool]:
    """Extend our lease; returns (still ours, cancel requested)."""
    updated = Run.objects.filter(
        pk=run_id, status=Run.Status.RUNNING, lease_owner=worker_id
    ).update(lease_expires_at=timezone.now() + timedelta(seconds=lease_s))
    cancel = Run.objects.filter(pk=run_id, cancel_requested=True).exists()
    return bool(updated), cancel


def run_give_back(*, run_id: str, worker_id: str) -> bool:
    """End our lease now without an outcome: the reaper gives the run to the next attempt."""
    return bool(
        Run.objects.filter(pk=run_id, status=Run.Status.RUNNING, lease_owner=worker_id).update(
            lease_expires_at=timezone.now()
        )
    )


def run_end(
    *,
    run_id: str,
    worker_id: str,
    status: str,
    code: str = "",
    message: str = "",
    result: dict | None = None,
) -> bool:
    """Record the outcome if we still hold the run; returns whether we did."""
    updated = Run.objects.filter(
        pk=run_id, status=Run.Status.RUNNING, lease_owner=worker_id
    ).update(
        status=status,
        error_code=code,
        error_message=message,
        result=result,
        finished_at=timezone.now(),
        lease_expires_at=None,
    )
    return bool(updated)


def run_park(*, run_id: str, worker_id: str) -> bool:
    """Park the run we hold as waiting: lease released, and the attempt handed back so
    the claim that resumes it continues the same attempt (waiting is not a retry)."""
    updated = Run.objects.filter(
        pk=run_id, status=Run.Status.RUNNING, lease_owner=worker_id
    ).update(
        status=Run.Status.WAITING,
        lease_owner="",
        lease_expires_at=None,
        attempt=F("attempt") - 1,
    )
    return bool(updated)


def runs_with_expired_lease() -> list[str]:
    return [
        str(run_id)
        for run_id in Run.objects.filter(
            status=Run.Status.RUNNING, lease_expires_at__lt=timezone.now()
        ).values_list("id", flat=True)
    ]


def runs_ended_unannounced(
    *, grace_s: float, within_s: float = 86_400, limit: int = 200
) -> list[Run]:
    """Runs recorded as ended more than ``grace_s`` ago whose terminal event was never
    stored (their worker was stopped between the two, or the log and the store were both
    away): every reader would wait for their end for ever. Only runs created within
    ``within_s`` are looked at (``created_at`` is indexed)."""
    now = timezone.now()
    terminal = RunEvent.objects.filter(run_id=OuterRef("pk"), type__in=sorted(TERMINAL_TYPES))
    return list(
        Run.objects.filter(
            status__in=Run.TERMINAL,
            created_at__gte=now - timedelta(seconds=within_s),
            finished_at__lt=now - timedelta(seconds=grace_s),
        )
        .exclude(Exists(terminal))
        .order_by("created_at")[:limit]
    )


def runs_waiting_to_start(*, older_than_s: float = 0) -> list[str]:
    """The first queued run of each session (and sessionless ones) queued before the horizon.

    A message lost by the broker (or by a restart of the embedded runner) leaves its run
    queued for ever; re-enqueueing the heads is safe because a claim is atomic.
    """
    horizon = timezone.now() - timedelta(seconds=older_than_s)
    queued = Run.objects.filter(status=Run.Status.QUEUED, created_at__lte=horizon).order_by(
        "session_id", "ordinal"
    )
    seen: set[object] = set()
    heads = []
    for run in queued.only("id", "session_id"):
        if run.session_id is None or run.session_id not in seen:
            heads.append(str(run.id))
            if run.session_id is not None:
                seen.add(run.session_id)
    return heads


def runs_release_all_leases() -> int:
    """Embedded start-up: this process is the only executor, so any run still marked
    running was left by the previous process; expire its lease so the reaper resumes it."""
    return Run.objects.filter(status=Run.Status.RUNNING).update(lease_expires_at=timezone.now())


def runs_heartbeat(*, owners: dict[str, str], lease_s: float) -> tuple[set[str], set[str]]:
    """Extend the leases of many runs in two statements, whatever their number.

    ``owners`` maps run id -> the owner id its attempt claimed with. Owner ids are unique
    per attempt, so ``id IN (…) AND lease_owner IN (…)`` matches exactly the pairs given.
    Returns (the runs still ours, those of them whose cancel was requested).
    """
    if not owners:
        return set(), set()
    ours = Run.objects.filter(
        pk__in=list(owners), lease_owner__in=list(owners.values()), status=Run.Status.RUNNING
    )
    ours.update(lease_expires_at=timezone.now() + timedelta(seconds=lease_s))
    held, cancel = set(), set()
    for run_id, cancel_requested in ours.values_list("id", "cancel_requested"):
        held.add(str(run_id))
        if cancel_requested:
            cancel.add(str(run_id))
    return held, cancel
