"""Invalid webhook deliveries (anyone can post them) are stored to look at, but boundedly:
at most STRIPE_INVALID_WEBHOOKS_STORED_PER_HOUR an hour, and pruned after
STRIPE_INVALID_WEBHOOK_RETENTION_DAYS."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.payments.models import StripeEvent
from backend.payments.services.webhook import stripe_invalid_events_prune
from backend.payments.tasks import prune_invalid_events
from tests.backend.payments.conftest import deliver, stripe_event

pytestmark = pytest.mark.django_db


def test_invalid_deliveries_past_the_hours_share_are_answered_but_not_stored(billing, env):
    env(STRIPE_INVALID_WEBHOOKS_STORED_PER_HOUR=3)
    for n in range(5):
        response = deliver(stripe_event("checkout.session.completed", {"n": n}), secret="whsec_x")
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert StripeEvent.objects.filter(status="invalid").count() == 3
    # An hour later there is room again.
    StripeEvent.objects.update(received_at=timezone.now() - timedelta(minutes=61))
    assert deliver(b"not json").status_code == 400
    assert StripeEvent.objects.filter(status="invalid").count() == 4


def test_valid_deliveries_are_never_throttled(billing, env):
    env(STRIPE_INVALID_WEBHOOKS_STORED_PER_HOUR=0)
    assert deliver(b"not json").status_code == 400
    assert not StripeEvent.objects.exists()
    assert deliver(stripe_event("customer.created", {"id": "cus_1"})).status_code == 200
    assert StripeEvent.objects.filter(status__in=["received", "ignored", "processed"]).exists()


def test_stored_invalid_deliveries_are_pruned_after_their_retention(billing, env):
    env(STRIPE_INVALID_WEBHOOK_RETENTION_DAYS=7)
    for _ in range(5):
        deliver(b"not json")
    old = list(StripeEvent.objects.values_list("pk", flat=True)[:3])
    StripeEvent.objects.filter(pk__in=old).update(received_at=timezone.now() - timedelta(days=8))
    valid = deliver(stripe_event("customer.created", {"id": "cus_2"}))
    StripeEvent.objects.filter(event_id=valid.json()["event_id"]).update(
        received_at=timezone.now() - timedelta(days=30)
    )
    assert stripe_invalid_events_prune(batch_size=2) == 3
    assert StripeEvent.objects.filter(status="invalid").count() == 2
    assert StripeEvent.objects.filter(event_id=valid.json()["event_id"]).exists()


def test_the_prune_runs_daily(settings):
    jobs = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert jobs[prune_invalid_events.name]["schedule"] == 86_400.0
