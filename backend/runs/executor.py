"""Executes a run on a worker: claim, stream the agent's steps as events, settle the end.

The same code runs on a Celery worker and on the embedded thread runner. Everything a run
does is bounded by its deadline (``asyncio.timeout``) whatever the worker pool.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
import structlog
from django.conf import settings
from django.db import InterfaceError, OperationalError

from agents.guard import GuardError
from backend.analytics.events import capture
from backend.core.db import released
from backend.core.errors import ApplicationError
from backend.runs import lease
from backend.runs.drivers import RunContext, RunWaiting, driver_for
from backend.runs.emitter import LOG_DOWN, RunEmitter, end_event
from backend.runs.eventlog import get_event_log
from backend.runs.lease_keeper import keeper
from backend.runs.models import Run
from backend.runs.services import session_advance
from backend.runs.worker_loop import is_draining

logger = structlog.get_logger(__name__)

# The database went away under the attempt (a PostgreSQL restart or failover): the attempt
# is given back, as if its worker had died, and the next one resumes from the checkpoint.
DATABASE_DOWN = (psycopg.OperationalError, OperationalError, InterfaceError)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def execute_run(*, run_id: str, on_claimed: Callable[[], None] | None = None) -> None:
    """Claim the run and drive it to its end; ``on_claimed`` is called once the claim is
    decided (whatever its outcome), before the run's work starts."""
    me = worker_id()
    env = settings.ENV
    try:
        outcome, run = await released(lease.run_claim)(
            run_id=run_id, worker_id=me, lease_s=env.RUN_LEASE_S
        )
    finally:
        if on_claimed is not None:
            on_claimed()
    log = logger.bind(run_id=run_id, worker=me)
    if outcome != "claimed" or run is None:
        log.info("run_not_claimed", outcome=outcome)
        if outcome in ("cancelled", "exhausted") and run is not None and run.session_id:
            await released(session_advance)(session_id=str(run.session_id))
        return
    structlog.contextvars.bind_contextvars(run_id=run_id, client_id=run.client_id)
    log.info("run_claimed", attempt=run.attempt, kind=run.kind)
    try:
        await _execute_claimed(run=run, me=me)
    finally:
        # The session's next run starts now, unless recording the end found none left.
        if run.session_id and getattr(run, "session_runs_left", None) != 0:
            await released(session_advance)(session_id=str(run.session_id))


async def _execute_claimed(*, run: Run, me: str) -> None:
    env = settings.ENV
    await _resume_numbering(str(run.id), stored=getattr(run, "last_stored_seq", None))
    ctx = RunContext(
        run=run, emitter=RunEmitter(run_id=str(run.id), attempt=run.attempt, buffered=True)
    )
    main = asyncio.current_task()
    assert main is not None
    stop_reason: dict[str, str] = {}

    def stop(reason: str, message: str) -> None:
        stop_reason[reason] = message
        ctx.stop_requested = ctx.stop_requested or reason
        main.cancel()

    leases = keeper()
    leases.hold(
        ctx.run_id,
        owner=me,
        on_lost=lambda: stop("lost", "lease lost"),
        on_cancel=lambda: stop("cancel", "cancelled by the client"),
    )
    started = time.perf_counter()
    status, code, message, result = Run.Status.COMPLETED, "", "", None
    waiting: RunWaiting | None = None
    try:
        async with asyncio.timeout(env.RUN_DEADLINE_S):
            result = await driver_for(run.kind).run(ctx)
    except RunWaiting as parked:
        waiting = parked
    except asyncio.CancelledError:
        if "lost" in stop_reason:
            logger.warning("run_lease_lost", run_id=ctx.run_id)
            return  # another worker owns it now; it will finish the run
        if "cancel" not in stop_reason:
            if is_draining():  # the worker is shutting down: the next one resumes the run
                logger.warning("run_attempt_given_back", run_id=ctx.run_id, reason="shutdown")
                await _give_back(ctx.run_id, me)
            raise
        status, code, message = Run.Status.CANCELLED, "CANCELLED", stop_reason["cancel"]
    except TimeoutError:
        status, code = Run.Status.FAILED, "RUN_TIMEOUT"
        message = f"The run did not finish within {env.RUN_DEADLINE_S} s."
    except GuardError as exc:
        status, code, message = Run.Status.FAILED, exc.code, exc.message
    except ApplicationError as exc:  # a driver's failure, with its DESIGN.md code
        status, code, message = Run.Status.FAILED, exc.code, exc.message
    except DATABASE_DOWN:
        logger.warning("run_attempt_given_back", run_id=ctx.run_id, reason="database")
        await _give_back(ctx.run_id, me)
        return
    except LOG_DOWN:
        logger.warning("run_event_log_down", run_id=ctx.run_id)
        status, code = Run.Status.FAILED, "INTERNAL_ERROR"
        message = "The run's event log (Redis) could not be reached; send the message again."
    except Exception as exc:
        logger.exception("run_crashed", run_id=ctx.run_id)
        status, code, message = Run.Status.FAILED, "INTERNAL_ERROR", f"{type(exc).__name__}"
    finally:
        leases.release(ctx.run_id)
    if waiting is not None:
        if await released(lease.run_park)(run_id=ctx.run_id, worker_id=me):
            await ctx.emit("run.waiting", waiting.data)
        return
    await _finish(
        ctx,
        me=me,
        status=status,
        code=code,
        message=message,
        result=result,
        duration_s=time.perf_counter() - started,
    )


async def _finish(
    ctx: RunContext,
    *,
    me: str,
    status: str,
    code: str,
    message: str,
    result: dict[str, Any] | None,
    duration_s: float,
) -> None:
    run = await released(_record_end)(
        run_id=ctx.run_id, worker_id=me, status=status, code=code, message=message, result=result
    )
    if run is None:
        return  # cancelled while queued, or taken over: someone else reports the end
    ctx.run.session_runs_left = run.session_runs_left  # type: ignore[attr-defined]
    await _announce_end(ctx, run)
    usage = end_event(run)[1].get("usage")
    if status == Run.Status.COMPLETED:
        capture(
            "run_completed",
            distinct_id=run.client_id,
            properties={
                "run_id": ctx.run_id,
                "kind": run.kind,
                "model": run.model,
                "duration_s": round(duration_s, 3),
                **(usage or {}),
            },
        )
    elif status == Run.Status.FAILED:
        capture(
            "run_failed",
            distinct_id=run.client_id,
            properties={
                "run_id": ctx.run_id,
                "kind": run.kind,
                "code": code,
            },
        )


async def _announce_end(ctx: RunContext, run: Run) -> None:
    """The run's terminal event, once its end is recorded.

    Not left half-done by a cancellation (a worker's shutdown cancels what is still in
    flight after ``RUN_DRAIN_S``): a run recorded as ended whose event never went out
    looked unfinished to every reader. If the shutdown outlasts it anyway, the reaper
    announces the end from the stored outcome (``runs_announce_ends``).
    """
    type, data = end_event(run)
    announcing = asyncio.ensure_future(ctx.emit(type, data))
    try:
        await asyncio.shield(announcing)
    except asyncio.CancelledError:
        await announcing
        raise


async def _give_back(run_id: str, me: str) -> None:
    try:
        await released(lease.run_give_back)(run_id=run_id, worker_id=me)
    except DATABASE_DOWN:
        pass  # still down: the lease runs out on its own (RUN_LEASE_S)


async def _resume_numbering(run_id: str, *, stored: int | None = None) -> None:
    """Continue the run's seqs after what the store holds (``stored``, as the claim read
    it), whatever the log remembers (an embedded restart empties it; a Redis that lost its
    data too)."""
    if stored is None:
        stored = await released(lease.last_stored_seq)(run_id)
    if not stored:
        return
    try:
        await get_event_log().aresume(run_id=run_id, after_seq=stored)
    except LOG_DOWN:
        logger.warning("run_resume_numbering_skipped", run_id=run_id)


def _record_end(*, run_id: str, worker_id: str, **outcome: Any) -> Run | None:
    """The outcome, if we still hold the run (then the run as stored, after its driver's
    ``finished`` hook)."""
    run = lease.run_end(run_id=run_id, worker_id=worker_id, **outcome)
    if run is None:
        return None
    try:
        driver_for(run.kind).finished(run)
    except Exception:
        # The end is recorded; its event must still go out.
        logger.exception("run_finished_hook_failed", run_id=run_id, kind=run.kind)
    return run
