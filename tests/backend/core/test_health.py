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


# --- what a failed check tells the public --------------------------------------------------


def test_a_down_redis_answers_a_generic_reason_and_logs_the_detail(client, settings, capsys):
    settings.REDIS_URL = "redis://h7-operator:hunter2@127.0.0.1:1/0"  # nothing on port 1
    settings.TASK_RUNNER = "thread"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"] == {"status": "down", "reason": "unreachable"}
    text = response.content.decode()
    for secret in ("127.0.0.1", "h7-operator", "hunter2", "refused", "Error"):
        assert secret not in text
    logged = capsys.readouterr().out
    assert "health_check_failed" in logged and "127.0.0.1:1" in logged


class _DatabaseDown:
    vendor = "postgresql"

    def cursor(self):
        from django.db import OperationalError

        raise OperationalError(
            'connection to server at "db.internal.example" (10.1.2.3), port 5432 failed: '
            'FATAL:  password authentication failed for user "insight_admin"'
        )


def test_a_down_database_answers_no_host_or_user(client, settings, monkeypatch, capsys):
    from backend.core import health

    settings.REDIS_URL = None
    settings.TASK_RUNNER = "thread"
    monkeypatch.setattr(health, "connection", _DatabaseDown())
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == {"status": "down", "reason": "unreachable"}
    assert body["error"]["details"]["down"] == ["database"]
    text = response.content.decode()
    for secret in ("db.internal.example", "10.1.2.3", "5432", "insight_admin", "FATAL"):
        assert secret not in text
    assert "insight_admin" in capsys.readouterr().out  # the operator still learns why


def test_a_failed_heartbeat_lookup_answers_a_generic_reason(client, settings, monkeypatch):
    from backend.core import health

    def broken(**_kwargs):
        raise RuntimeError("relation core_workerheartbeat at /srv/app/secret.sqlite3")

    settings.REDIS_URL = None
    settings.TASK_RUNNER = "celery"
    monkeypatch.setattr(health.selectors, "worker_heartbeat_latest", broken)
    response = client.get("/healthz")
    worker = response.json()["checks"]["worker"]
    assert worker == {"status": "down", "runner": "celery", "reason": "check failed"}
    assert "/srv/app" not in response.content.decode()
