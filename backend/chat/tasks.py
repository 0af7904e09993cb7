from celery import shared_task

from backend.chat import services


@shared_task(name="backend.chat.tasks.webhook_deliver", ignore_result=True)
def webhook_deliver(delivery_id: int) -> None:
    services.webhook_attempt(delivery_id=delivery_id)
