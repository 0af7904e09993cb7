"""Deleting a session while its just-ended run still stores its last event."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection
from django.db.models.sql.subqueries import DeleteQuery
from django.utils import timezone

from backend.chat.models import ChatSession
from backend.runs.models import Run, RunEvent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _dsn() -> str:
    db = connection.settings_dict
    return (
        f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )


def test_a_late_event_of_the_run_does_not_fail_the_delete(anon_client, monkeypatch):
    """Before: the event a worker stored after the delete had collected the run's events
    failed the commit on its foreign key, and the DELETE answered 500."""
    if connection.vendor != "postgresql":
        pytest.skip("the race needs PostgreSQL's deferred foreign keys")
    session = ChatSession.objects.create(client_id=anon_client.client_id, model="offline")
    run = Run.objects.create(
        kind="chat",
        client_id=anon_client.client_id,
        session_id=session.id,
        status=Run.Status.COMPLETED,
        model="offline",
    )
    RunEvent.objects.create(run=run, seq=1, type="run.started", data={}, ts=timezone.now())
    inserted = []
    real_delete_batch = DeleteQuery.delete_batch

    def delete_batch(query, pk_list, using):
        # The worker's last write, committed on its own connection after the delete has
        # removed the run's events and before it removes the run's row.
        if query.model is Run and not inserted:
            with psycopg.connect(_dsn(), autocommit=True) as other:
                other.execute(
                    "INSERT INTO runs_runevent (run_id, seq, type, attempt, data, ts) "
                    "VALUES (%s, 2, 'run.completed', 1, '{}', now())",
                    (pk_list[0],),
                )
            inserted.append(pk_list[0])
        return real_delete_batch(query, pk_list, using)

    monkeypatch.setattr(DeleteQuery, "delete_batch", delete_batch)
    response = anon_client.delete(f"/api/chat/sessions/{session.id}/")
    assert inserted
    assert response.status_code == 204, response.content
    assert not Run.objects.filter(pk=run.pk).exists()
    assert not RunEvent.objects.filter(run_id=run.pk).exists()
    assert not ChatSession.objects.filter(pk=session.id).exists()
