"""Model fallbacks in a chat run (embedded, the real ChatOpenAI against the local server):
the primary fails, the backup answers; the ledger has a row for every attempt of both, the
answer names the model that wrote it, and text the primary already streamed is reset."""

from __future__ import annotations

from typing import Any

import pytest

from backend.guard.instance import reset_for_tests as reset_guard
from backend.guard.models import LlmCall
from backend.runs.eventlog import reset_for_tests
from backend.runs.models import Run
from tests.backend.runs.helpers import logged_events
from tests.conftest import wait_for
from tests.fakes.openai_server import Reply

pytestmark = pytest.mark.django_db(transaction=True)

DECLARED = [
    {"id": "test/primary", "input_per_million": "1", "output_per_million": "2"},
    {"id": "test/backup", "input_per_million": "1", "output_per_million": "2"},
]


@pytest.fixture
def chain(env, openai_server, settings, never_ask):
    settings.TASK_RUNNER = "thread"
    reset_for_tests()
    reset_guard()
    env(OPENROUTER_API_KEY="sk-test", OPENROUTER_BASE_URL=openai_server.base_url,
        DECLARED_MODELS=DECLARED, MODEL_FALLBACKS={"*": ["test/backup"]})  # fmt: skip
    yield openai_server
    reset_for_tests()
    reset_guard()


def _chat(client, content: str = "hey there") -> Run:
    session = client.post("/api/chat/sessions/", {"model": "test/primary"}, format="json")
    response = client.post(
        f"/api/chat/sessions/{session.json()['id']}/messages/", {"content": content},
        format="json",
    )  # fmt: skip
    assert response.status_code == 202, response.content
    run_id = response.json()["run_id"]
    run = wait_for(
        lambda: Run.objects.filter(pk=run_id, status__in=Run.TERMINAL).first(), timeout=30
    )
    assert run is not None and run.status == "completed", run and run.error_message
    return run


def _events(run: Run, kind: str) -> list[dict[str, Any]]:
    return [e.data for e in logged_events(str(run.id)) if e.type == kind]


def test_the_backup_answers_when_the_primary_fails(anon_client, chain) -> None:
    chain.script(lambda body: Reply(status=503) if body["model"] == "test/primary"
                 else Reply(text="The backup says hi.", cost=0.0007))  # fmt: skip

    run = _chat(anon_client)

    [completed] = _events(run, "message.completed")
    assert completed["text"] == "The backup says hi." and completed["model"] == "test/backup"
    calls = list(LlmCall.objects.filter(run_id=str(run.id)).order_by("created_at"))
    primary = [c for c in calls if c.model == "test/primary"]
    backup = [c for c in calls if c.model == "test/backup"]
    assert primary and all(c.is_error for c in primary)  # each failed attempt has its row
    assert len(backup) == 1 and not backup[0].is_error
    assert run.cost_usd == sum(c.cost_usd for c in calls)


def test_text_already_streamed_is_reset(anon_client, chain) -> None:
    chain.script(
        lambda body: (
            Reply(text="The primary began an answer", drop_before_chunk=6)
            if body["model"] == "test/primary"
            else Reply(text="Backup text.")
        )
    )

    run = _chat(anon_client)

    assert _events(run, "message.reset")  # the shown words were taken back
    [completed] = _events(run, "message.completed")
    assert completed["text"] == "Backup text." and completed["model"] == "test/backup"
