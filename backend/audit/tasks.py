from celery import shared_task

from backend.audit import services


@shared_task(name="backend.audit.tasks.audit_events_prune", ignore_result=True)
def audit_events_prune() -> None:
    services.audit_events_prune()
