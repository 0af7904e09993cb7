from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from backend.payments.models import StripeEvent
from backend.payments.services import webhook
from backend.payments.services.fulfilment.entry_points import stripe_event_process

# Events still unprocessed this long after arrival (a lost task, a crashed worker, a
# failure) are handed to a worker again by the periodic job, up to MAX_ATTEMPTS times.
STALE_AFTER = timedelta(minutes=2)
MAX_ATTEMPTS = 10


@shared_task(name="backend.payments.tasks.process_event", ignore_result=True, acks_late=True)
def process_event(event_pk: int) -> None:
    stripe_event_process(event_pk=event_pk)


@shared_task(name="backend.payments.tasks.process_pending_events", ignore_result=True)
def process_pending_events() -> None:
    pending = StripeEvent.objects.filter(
        status__in=[StripeEvent.Status.RECEIVED, StripeEvent.Status.FAILED],
        received_at__lt=timezone.now() - STALE_AFTER,
        attempts__lt=MAX_ATTEMPTS,
    ).values_list("pk", flat=True)[:500]
    for pk in pending:
        stripe_event_process(event_pk=pk)


@shared_task(name="backend.payments.tasks.prune_invalid_events", ignore_result=True)
def prune_invalid_events() -> None:
    webhook.stripe_invalid_events_prune()
