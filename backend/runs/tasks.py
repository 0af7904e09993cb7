"""Celery adapters: load ids, call the service, own time limits and failure handling."""

from __future__ import annotations

import asyncio

import structlog
from celery import shared_task
from django.conf import settings

from backend.runs import lease

logger = structlog.get_logger(__name__)

# How long after a run's recorded end its worker may still be sending the terminal event
# (the event log's retries ride out ~16 s of Redis away) before the reaper sends it.
ANNOUNCE_GRACE_S = 60.0

# A run (and each long tool call of a chat run, in ``backend.chat.tasks``): redelivered if
# the worker dies before it ends, no Celery result (outcomes live in PostgreSQL and in the
# tool-call store), and time limits as a backstop. A run's task ends once the run is
# claimed (the run goes on as a task on the worker's loop, under its own deadline,
# ``asyncio.timeout``); a tool call's task lasts the call.
RUN_TASK_OPTIONS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "ignore_result": True,
    "soft_time_limit": settings.ENV.RUN_DEADLINE_S + 30,
    "time_limit": settings.ENV.RUN_DEADLINE_S + 60,
}


@shared_task(name="backend.runs.tasks.run_execute", **RUN_TASK_OPTIONS)
def run_execute(run_id: str) -> None:
    from backend.core.task_runner import uses_celery
    from backend.runs.executor import execute_run

    if uses_celery():
        # A Celery worker process: the run becomes a task on the process's long-lived loop
        # and this task ends (and is acked) once the run is claimed; the lease and the
        # reaper cover the run from there. Per-loop clients, the checkpointer's pool and
        # the compiled graph are reused across runs.
        from backend.core import lifecycle
        from backend.runs.worker_loop import run_on_process_loop, start_detached

        if lifecycle.FORKED_CHILD:
            # A prefork child keeps each run to its end in the task (its runs detached on
            # the loop lost their database pool at random: not yet understood).
            run_on_process_loop(execute_run(run_id=run_id))
            return
        start_detached(lambda claimed: execute_run(run_id=run_id, on_claimed=claimed))
    else:
        asyncio.run(execute_run(run_id=run_id))


@shared_task(name="backend.runs.tasks.runs_reap", ignore_result=True)
def runs_reap() -> None:
    """Re-enqueue runs whose worker died (lease expired) and queued runs nobody started."""
    from backend.runs.models import Run
    from backend.runs.services import run_enqueue

    stale_queue_s = 4 * settings.ENV.RUN_LEASE_S
    run_ids = [
        *lease.runs_with_expired_lease(),
        *lease.runs_waiting_to_start(older_than_s=stale_queue_s),
    ]
    kinds = {
        str(run_id): kind
        for run_id, kind in Run.objects.filter(pk__in=run_ids).values_list("id", "kind")
    }
    for run_id in run_ids:
        if run_id in kinds:  # else deleted since
            run_enqueue(run_id=run_id, kind=kinds[run_id])
    runs_announce_ends()


def runs_announce_ends() -> None:
    """Send the terminal event of runs that ended without one getting out (from their
    stored outcome); the rest of their events are where they were."""
    from redis.exceptions import RedisError

    from backend.runs.emitter import RunEmitter, end_event

    for run in lease.runs_ended_unannounced(grace_s=ANNOUNCE_GRACE_S):
        type, data = end_event(run)
        try:
            RunEmitter(run_id=str(run.pk), attempt=max(1, run.attempt)).emit(type, data)
        except RedisError:
            logger.warning("run_end_announce_failed", run_id=str(run.pk))
            return  # the log is away: the next round tries again
        logger.warning("run_end_announced_late", run_id=str(run.pk), type=type)


@shared_task(name="backend.runs.tasks.runs_prune", ignore_result=True)
def runs_prune() -> None:
    from backend.runs import retention

    retention.runs_prune()
