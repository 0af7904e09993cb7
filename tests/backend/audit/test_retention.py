"""Retention: events older than AUDIT_RETENTION_DAYS go, in batches, by the daily job."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from backend.audit.actions import AuditAction
from backend.audit.models import AuditEvent
from backend.audit.services import audit_events_prune

pytestmark = pytest.mark.django_db


def made(days_ago: float) -> AuditEvent:
    event = AuditEvent(
        action=AuditAction.ACCOUNT_LOGIN,
        actor=AuditEvent.Actor.ACCOUNT,
        created_at=timezone.now() - timedelta(days=days_ago),
    )
    event.save()
    return event


def test_prune_deletes_only_events_past_the_retention_in_batches(env):
    env(AUDIT_RETENTION_DAYS=30)
    old = [made(31 + i) for i in range(5)]
    kept = [made(29), made(0)]
    assert audit_events_prune(batch_size=2) == len(old)
    assert set(AuditEvent.objects.values_list("pk", flat=True)) == {e.pk for e in kept}
    assert audit_events_prune(batch_size=2) == 0


def test_the_default_retention_is_a_year():
    assert settings.ENV.AUDIT_RETENTION_DAYS == 365
    made(364)
    gone = made(366)
    assert audit_events_prune() == 1
    assert not AuditEvent.objects.filter(pk=gone.pk).exists()


def test_the_prune_job_is_scheduled_daily_and_registered():
    from backend.config.celery_app import app

    [entry] = [
        e
        for e in settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "backend.audit.tasks.audit_events_prune"
    ]
    assert entry["schedule"] == 86_400.0
    app.loader.import_default_modules()
    made(400)
    app.tasks["backend.audit.tasks.audit_events_prune"].run()
    assert not AuditEvent.objects.exists()
