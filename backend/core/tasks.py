import socket

from celery import shared_task

from backend.core import services


@shared_task(name="backend.core.tasks.worker_heartbeat", ignore_result=True)
def worker_heartbeat() -> None:
    services.worker_heartbeat_record(hostname=_hostname())


def _hostname() -> str:
    from backend.core.task_runner import uses_celery

    if uses_celery():
        from celery import current_task

        if current_task and current_task.request.hostname:
            return str(current_task.request.hostname)
    return f"embedded@{socket.gethostname()}"
