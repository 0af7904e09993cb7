from celery import shared_task

from backend.llm import services


@shared_task(name="backend.llm.tasks.catalogue_refresh", ignore_result=True)
def catalogue_refresh() -> None:
    services.catalogue_refresh()
