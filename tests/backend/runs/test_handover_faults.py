"""A run whose rows are committed is never answered with a 500 because Redis went away
right after the commit (the soak's one 500 at its Redis restart: the ``run.queued`` append
in the commit hook raised, after the run and its message were stored). The run stays
queued and the reaper hands it over once the broker is back."""

from __future__ import annotations

import socket

import pytest
from django.db import transaction

from backend.config.celery_app import app as celery_app
from backend.runs import lease
from backend.runs.eventlog import factory
from backend.runs.eventlog.redis_log import RedisEventLog
from backend.runs.models import Run
from backend.runs.services import run_create

pytestmark = pytest.mark.django_db(transaction=True)


def dead_redis_url() -> str:
    """A Redis URL where nothing listens (a Redis that is restarting)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


@pytest.fixture
def redis_down(monkeypatch, settings):
    url = dead_redis_url()
    # The real clients, pointed at the dead address: redis-py for the event log, kombu
    # (through Celery) for the hand-over.
    monkeypatch.setattr(factory, "_log", RedisEventLog(url=url, retention_s=60))
    settings.TASK_RUNNER = "celery"
    monkeypatch.setitem(celery_app.conf, "broker_url", url)
    monkeypatch.setitem(celery_app.conf, "broker_connection_retry", False)
    monkeypatch.setitem(celery_app.conf, "broker_connection_max_retries", 0)
    monkeypatch.setitem(celery_app.conf, "task_publish_retry", False)
    # Fresh broker connections, to the dead address (the app's are made lazily).
    monkeypatch.setattr(celery_app, "_pool", None)
    monkeypatch.setattr(celery_app.amqp, "_producer_pool", None)
    return url


def test_a_committed_run_survives_redis_going_away_after_the_commit(redis_down):
    with transaction.atomic():
        run = run_create(kind="chat", client_id="c", model="offline", input={"content": "hi"})
    # Committed, no exception out of the commit hook, and left for the reaper.
    stored = Run.objects.get(pk=run.pk)
    assert stored.status == Run.Status.QUEUED
    assert str(run.pk) in lease.runs_waiting_to_start(older_than_s=0)


def test_a_message_posted_as_redis_goes_away_is_accepted(redis_down, anon_client):
    """Through the API, as the soak posts: the chat path enqueues its run from a commit
    hook of its own (the soak's second 500, kombu's "Connection refused")."""
    created = anon_client.post("/api/chat/sessions/", {}, format="json")
    assert created.status_code == 201, created.content
    session_id = created.json()["id"]

    response = anon_client.post(
        f"/api/chat/sessions/{session_id}/messages/", {"content": "hashtags"}, format="json"
    )

    assert response.status_code == 202, response.content
    run_id = response.json()["run_id"]
    assert Run.objects.get(pk=run_id).status == Run.Status.QUEUED
    assert run_id in lease.runs_waiting_to_start(older_than_s=0)
