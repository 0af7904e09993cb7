from celery import shared_task

from backend.guard import services


@shared_task(name="backend.guard.tasks.archive_finished_days", ignore_result=True)
def archive_finished_days() -> None:
    services.spend_archive_finished_days()


@shared_task(name="backend.guard.tasks.reconcile_spend", ignore_result=True)
def reconcile_spend() -> None:
    from backend.guard.reconcile import spend_reconcile

    spend_reconcile()
