import pytest
from django.utils import timezone

from backend.chat.models import ChatMessage, ChatSession
from backend.runs.emitter import RunEmitter
from backend.runs.eventlog import get_event_log, reset_for_tests
from backend.runs.models import Run, RunEvent
from backend.runs.retention import prune_past_retention

pytestmark = pytest.mark.django_db(transaction=True)


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
