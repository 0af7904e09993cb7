import pytest
from django.utils import timezone

from backend.chat.models import ChatMessage, ChatSession
from backend.chat.retention import sessions_prune
from backend.runs.emitter import RunEmitter
from backend.runs.eventlog import get_event_log, reset_for_tests
from backend.runs.models import Run, RunEvent
from backend.runs.retention import runs_prune

pytestmark = pytest.mark.django_db(transaction=True)


def prune_past_retention(**options) -> dict[str, int]:
    """What the two daily jobs remove: chat's sessions, then the engine's sessionless runs."""
    return {"sessions": sessions_prune(**options), "runs": runs_prune(**options)}


def test_prunes_old_sessions_and_sessionless_runs_only(env):
    reset_for_tests()
    env(RUN_RETENTION_DAYS=30)
    long_ago = timezone.now() - timezone.timedelta(days=40)
    old = ChatSession.objects.create(client_id="c", model="offline")
    ChatSession.objects.filter(pk=old.pk).update(updated_at=long_ago)
    ChatMessage.objects.create(session=old, role="user", content="hi")
    old_run = Run.objects.create(
        kind="chat",
        client_id="c",
        model="offline",
        session_id=old.id,
        status="completed",
        finished_at=long_ago,
    )
    RunEmitter(run_id=str(old_run.id), attempt=1).emit("run.queued", {})
    fresh = ChatSession.objects.create(client_id="c", model="offline")
    old_factoid = Run.objects.create(
        kind="factoid", client_id="c", model="offline", status="completed", finished_at=long_ago
    )
    new_factoid = Run.objects.create(
        kind="factoid",
        client_id="c",
        model="offline",
        status="completed",
        finished_at=timezone.now(),
    )
    assert prune_past_retention() == {"sessions": 1, "runs": 1}
    assert list(ChatSession.objects.values_list("id", flat=True)) == [fresh.id]
    assert not ChatMessage.objects.exists()
    assert set(Run.objects.values_list("id", flat=True)) == {new_factoid.id}
    assert not RunEvent.objects.filter(run_id__in=[old_run.id, old_factoid.id]).exists()
    assert get_event_log().last_seq(run_id=str(old_run.id)) == 0


def old_sessions(count: int, long_ago) -> list:
    sessions = ChatSession.objects.bulk_create(
        [ChatSession(client_id="c", model="offline") for _ in range(count)]
    )
    ChatSession.objects.filter(pk__in=[s.pk for s in sessions]).update(updated_at=long_ago)
    return sessions


def test_one_job_clears_a_backlog_larger_than_a_batch(env):
    """Was: at most 500 sessions and 500 runs a day, whatever the backlog."""
    reset_for_tests()
    env(RUN_RETENTION_DAYS=30)
    long_ago = timezone.now() - timezone.timedelta(days=40)
    sessions = old_sessions(1201, long_ago)
    ChatMessage.objects.bulk_create(
        [ChatMessage(session=s, role="user", content="hi") for s in sessions]
    )
    Run.objects.bulk_create(
        [
            Run(
                kind="factoid",
                client_id="c",
                model="offline",
                status="completed",
                finished_at=long_ago,
            )
            for _ in range(1201)
        ]
    )
    assert prune_past_retention() == {"sessions": 1201, "runs": 1201}
    assert not ChatSession.objects.exists()
    assert not ChatMessage.objects.exists()
    assert not Run.objects.exists()


def test_sessions_with_a_live_run_are_passed_over_not_blocking_later_batches(env):
    reset_for_tests()
    env(RUN_RETENTION_DAYS=30)
    long_ago = timezone.now() - timezone.timedelta(days=40)
    sessions = sorted(old_sessions(9, long_ago), key=lambda s: s.pk)
    busy = sessions[:3]  # the whole first batch has a run going
    for n, session in enumerate(busy):
        Run.objects.create(
            kind="chat",
            client_id="c",
            model="offline",
            session_id=session.id,
            ordinal=n + 1,
            status="running",
        )
    assert prune_past_retention(batch_size=3) == {"sessions": 6, "runs": 0}
    assert set(ChatSession.objects.values_list("pk", flat=True)) == {s.pk for s in busy}
    assert Run.objects.filter(status="running").count() == 3
