from __future__ import annotations

import uuid
from typing import Any

import structlog
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from backend.core.errors import ConflictError
from backend.runs.drivers import driver_for
from backend.runs.emitter import RunEmitter
from backend.runs.models import Run

logger = structlog.get_logger(__name__)

# A broker (Redis) that cannot take the run's task right now: kombu's connection errors
# and redis-py's (the embedded runner raises neither).
HANDOVER_ERRORS = (RedisError, KombuOperationalError, ConnectionError, TimeoutError)


def run_create(
    *,
    kind: str,
    client_id: str,
    model: str,
    input: dict[str, Any],
    session_id: str | None = None,
    ordinal: int = 1,
    queued_data: dict[str, Any] | None = None,
    enqueue: bool = True,
    run_id: uuid.UUID | None = None,
) -> Run:
    """Record a queued run (with ``run_id`` when the caller chose it, to refer to it in
    the same transaction); after commit, emit ``run.queued`` and hand it to the runner."""
    run = Run.objects.create(
        id=run_id or uuid.uuid4(),
        kind=kind,
        client_id=client_id,
        model=model,
        input=input,
        session_id=session_id,
        ordinal=ordinal,
    )

    def after_commit() -> None:
        # The run is committed: whatever Redis does now, the caller gets its run (a 500
        # here invited a second post and a second run). A run whose hand-over fails is
        # left queued, and the reaper hands it over (``runs_waiting_to_start``).
        try:
            RunEmitter(run_id=str(run.id), attempt=1).emit(
                "run.queued",
                {"kind": kind, "session_id": session_id, **(queued_data or {})},
            )
        except RedisError:
            logger.warning("run_queued_event_not_logged", run_id=str(run.id), exc_info=True)
        if enqueue:
            run_hand_over(run_id=str(run.id), kind=kind)

    transaction.on_commit(after_commit)
    return run


def run_enqueue(*, run_id: str, kind: str) -> None:
    """Hand the run to the runner, on its driver's queue (long work has its own, so short
    runs are never stuck behind it)."""
    from backend.core.task_runner import enqueue
    from backend.runs.tasks import run_execute

    enqueue(run_execute, run_id, queue=driver_for(kind).queue)


def run_hand_over(*, run_id: str, kind: str) -> None:
    """``run_enqueue`` once the run is committed (a commit hook): a broker that cannot take
    the task now leaves the run queued, and the reaper hands it over later
    (``runs_waiting_to_start``); the caller's request has still succeeded."""
    try:
        run_enqueue(run_id=run_id, kind=kind)
    except HANDOVER_ERRORS:
        logger.warning("run_enqueue_deferred_to_reaper", run_id=run_id, exc_info=True)


def run_cancel(*, run: Run, reason: str = "cancelled by the client") -> Run:
    """Ask a run to stop. A queued run ends at once (its ``run.cancelled`` goes out once the
    caller's transaction commits, so a rollback leaves no event); a running one stops at
    its next step and its worker reports the end."""
    if run.is_finished:
        raise ConflictError(
            f"The run already ended ({run.status}).", details={"status": run.status}
        )
    with transaction.atomic():
        # Queued or parked: no worker holds it, so it ends here.
        updated = Run.objects.filter(
            pk=run.pk, status__in=(Run.Status.QUEUED, Run.Status.WAITING)
        ).update(
            status=Run.Status.CANCELLED,
            cancel_requested=True,
            finished_at=timezone.now(),
            error_code="CANCELLED",
        )
        if not updated:
            Run.objects.filter(pk=run.pk).update(cancel_requested=True)
    if updated:
        emitter = RunEmitter(run_id=str(run.pk), attempt=max(1, run.attempt))
        transaction.on_commit(lambda: emitter.emit("run.cancelled", {"reason": reason}))
    run.refresh_from_db()
    return run


def run_resume(*, run_id: str) -> bool:
    """Queue a run its driver parked (``RunWaiting``) again; False if it is not waiting."""
    with transaction.atomic():
        run = (
            Run.objects.select_for_update()
            .filter(pk=run_id, status=Run.Status.WAITING)
            .only("id", "kind")
            .first()
        )
        if run is None:
            return False
        Run.objects.filter(pk=run_id).update(status=Run.Status.QUEUED)
        kind = run.kind
        transaction.on_commit(lambda: run_hand_over(run_id=run_id, kind=kind))
    return True


def run_add_usage(*, run_id: str, input_tokens: int, output_tokens: int, cost_usd: Any) -> None:
    Run.objects.filter(pk=run_id).update(
        input_tokens=F("input_tokens") + input_tokens,
        output_tokens=F("output_tokens") + output_tokens,
        cost_usd=F("cost_usd") + cost_usd,
    )


def session_advance(*, session_id: str) -> str | None:
    """Start the session's next queued run unless one is running: runs go strictly in order.

    Called after a message is queued and after every run ends. Two callers racing may
    both enqueue the same run; the executor's atomic claim lets only one execute it.
    """
    # One read (one snapshot): the session's unfinished runs, in order.
    unfinished = list(
        Run.objects.filter(session_id=session_id, status__in=Run.ACTIVE)
        .order_by("ordinal")
        .values_list("id", "status", "kind")
    )
    # A running run goes on; a parked one holds its session until it is resumed.
    if not unfinished or any(status != Run.Status.QUEUED for _, status, _ in unfinished):
        return None
    next_id, _, kind = unfinished[0]
    run_hand_over(run_id=str(next_id), kind=kind)
    return str(next_id)
