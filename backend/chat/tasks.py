"""Celery adapters of the chat app: ids in, one service call, retries and limits here."""

from celery import shared_task

from backend.chat import approvals, retention, services, tool_calls
from backend.runs.tasks import RUN_TASK_OPTIONS
from backend.runs.worker_loop import run_on_process_loop


@shared_task(name="backend.chat.tasks.webhook_deliver", ignore_result=True)
def webhook_deliver(delivery_id: int) -> None:
    services.webhook_attempt(delivery_id=delivery_id)


# Its name is from when it lived in ``backend.runs.tasks``: kept, so messages queued by a
# running deploy still find it (and its route in CELERY_TASK_ROUTES stays the same).
@shared_task(name="backend.runs.tasks.tool_execute", **RUN_TASK_OPTIONS)
def tool_execute(run_id: str, call_id: str, name: str, args: dict, attempt: int) -> None:
    """One long tool call of a chat run, on the ``long`` queue (see ``chat.tool_calls``)."""
    run_on_process_loop(
        tool_calls.tool_call_execute(
            run_id=run_id, call_id=call_id, name=name, args=args, attempt=attempt
        )
    )


@shared_task(name="backend.chat.tasks.sessions_prune", ignore_result=True)
def sessions_prune() -> None:
    retention.sessions_prune()


@shared_task(name="backend.chat.tasks.approvals_expire", ignore_result=True)
def approvals_expire() -> None:
    approvals.approvals_expire()
