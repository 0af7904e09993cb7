from celery import shared_task

from backend.guard import services


@shared_task(name="backend.guard.tasks.archive_finished_days", ignore_result=True)
def archive_finished_days() -> None:
    services.spend_archive_finished_days()
