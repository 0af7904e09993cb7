import pytest
from django.test import Client
from django.utils import timezone

from backend.core.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


def test_livez(client: Client):
    response = client.get("/livez")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_ok_on_embedded_default(client: Client, settings):
    settings.REDIS_URL = None
    settings.TASK_RUNNER = "thread"
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["redis"] == {"status": "not_configured"}
    assert body["checks"]["worker"]["runner"] == "thread"


def test_healthz_503_when_redis_is_down(client: Client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    settings.TASK_RUNNER = "thread"
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["redis"]["status"] == "down"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["error"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert body["error"]["details"]["down"] == ["redis"]


def test_healthz_503_when_no_celery_worker_heartbeat(client: Client, settings):
    settings.REDIS_URL = None
    settings.TASK_RUNNER = "celery"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"]["status"] == "down"


def test_healthz_worker_stale_vs_fresh_heartbeat(client: Client, settings):
    settings.REDIS_URL = None
    settings.TASK_RUNNER = "celery"
    settings.WORKER_HEARTBEAT_MAX_AGE_S = 60
    beat = WorkerHeartbeat.objects.create(
        hostname="w1", runner="celery", seen_at=timezone.now() - timezone.timedelta(minutes=5)
    )
    assert client.get("/healthz").status_code == 503
    beat.seen_at = timezone.now()
    beat.save()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["worker"]["status"] == "ok"
