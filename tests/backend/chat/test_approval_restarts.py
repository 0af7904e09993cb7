"""A run waiting for an approval outlives the processes around it: a web restart while it
waits (its state is in the database and the checkpoint, not in a process), and a worker
SIGKILLed while the run goes on after its approval (the next attempt neither asks again
nor runs the approved call twice). Real `insightstream web` and Celery worker processes
on PostgreSQL + Redis."""

from __future__ import annotations

import json
import time
import uuid

import httpx
import pytest

from backend.chat.models import Approval
from backend.core import task_runner
from backend.runs.eventlog import reset_for_tests
from backend.runs.models import Run
from backend.runs.tasks import runs_reap
from tests.backend.runs.helpers import logged_events
from tests.backend.web_process import web_server
from tests.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

REQUEST = "hashtags for a home espresso channel"
CELERY = {"TASK_RUNNER": "celery"}


@pytest.fixture(autouse=True)
def celery_mode(settings):
    settings.TASK_RUNNER = "celery"
    reset_for_tests()
    yield
    reset_for_tests()


def _ui_parts(response: httpx.Response) -> list[dict]:
    parts = []
    for line in response.iter_lines():
        if line.startswith("data: ") and line != "data: [DONE]":
            parts.append(json.loads(line.removeprefix("data: ")))
    return parts


def _mint_always_asking(http: httpx.Client) -> dict[str, str]:
    minted = http.post("/api/clients/")
    assert minted.status_code == 201, minted.text
    headers = {"X-Client-Token": minted.json()["token"]}
    asked = http.put("/api/clients/me/approvals/", json={"mode": "always"}, headers=headers)
    assert asked.status_code == 200, asked.text
    http.cookies.clear()  # the token header, as an API caller sends it (no CSRF cookie)
    return headers


def _ask(http: httpx.Client, headers: dict[str, str], chat_id: str) -> list[dict]:
    """POST /api/chat as useChat does; the stream closes when the run waits."""
    body = {
        "id": chat_id,
        "trigger": "submit-message",
        "messages": [{"id": "u1", "role": "user", "parts": [{"type": "text", "text": REQUEST}]}],
    }
    with http.stream("POST", "/api/chat", json=body, headers=headers) as response:
        assert response.status_code == 200, response.read()
        return _ui_parts(response)


def test_a_web_restart_while_the_run_waits_loses_nothing(tmp_path, celery_worker_factory):
    celery_worker_factory(queues="default,long", pool="threads")
    chat_id = f"chat-{uuid.uuid4()}"
    with web_server(tmp_path, **CELERY) as web, web.client() as http:
        headers = _mint_always_asking(http)
        first = _ask(http, headers, chat_id)
    assert first[-1]["type"] == "finish" and first[-1]["messageMetadata"]["waiting"]
    [request] = [p for p in first if p["type"] == "tool-approval-request"]
    run_id = first[0]["messageMetadata"]["run_id"]
    assert Run.objects.get(pk=run_id).status == "waiting"

    # Another web process (the first one is gone): the approval is still there to answer,
    # and the stream resumed through it goes on to the answer.
    with web_server(tmp_path, **CELERY) as web, web.client() as http:
        listed = http.get(f"/api/runs/{run_id}/approvals/", headers=headers).json()["results"]
        assert [(a["approval_id"], a["status"]) for a in listed] == [
            (request["approvalId"], "pending")
        ]
        answered = http.post(
            f"/api/runs/{run_id}/approvals/{request['approvalId']}/",
            json={"approved": True},
            headers=headers,
        )
        assert answered.status_code == 200, answered.text
        with http.stream("GET", f"/api/chat/{chat_id}/stream", headers=headers) as response:
            assert response.status_code == 200
            rest = _ui_parts(response)
    kinds = [p["type"] for p in rest]
    assert "tool-output-available" in kinds and "text-delta" in kinds
    assert kinds[-1] == "finish" and "waiting" not in rest[-1]["messageMetadata"]
    run = Run.objects.get(pk=run_id)
    assert run.status == "completed" and run.attempt == 1


def test_a_worker_killed_while_the_run_goes_on_after_its_approval(tmp_path, celery_worker_factory):
    slow = {"OFFLINE_TOKEN_DELAY_MS": "80", "RUN_LEASE_S": "3", "RUN_HEARTBEAT_S": "0.5"}
    first_worker = celery_worker_factory(queues="default,long", extra_env=slow, pool="threads")
    chat_id = f"chat-{uuid.uuid4()}"
    with web_server(tmp_path, **CELERY) as web, web.client() as http:
        headers = _mint_always_asking(http)
        parts = _ask(http, headers, chat_id)
        [request] = [p for p in parts if p["type"] == "tool-approval-request"]
        run_id = parts[0]["messageMetadata"]["run_id"]
        answered = http.post(
            f"/api/runs/{run_id}/approvals/{request['approvalId']}/",
            json={"approved": True},
            headers=headers,
        )
        assert answered.status_code == 200, answered.text

    def answering() -> bool:
        types = [e.type for e in logged_events(run_id)]
        return (
            "approval.resolved" in types
            and "message.delta" in types[types.index("approval.resolved") :]
        )

    wait_for(answering, timeout=60)
    first_worker.kill()
    killed_at = time.monotonic()
    assert Run.objects.get(pk=run_id).status == "running"

    celery_worker_factory(
        queues="default,long", extra_env={**slow, "OFFLINE_TOKEN_DELAY_MS": "0"}, pool="threads"
    )
    time.sleep(max(0.0, 3.5 - (time.monotonic() - killed_at)))  # the dead lease runs out
    task_runner.enqueue(runs_reap)
    run = wait_for(lambda: Run.objects.filter(pk=run_id, status="completed").first(), timeout=60)
    assert isinstance(run, Run) and run.attempt == 2

    log = logged_events(run_id)
    assert [e.seq for e in log] == list(range(1, len(log) + 1))
    # Asked once, answered once: the retry went on from the checkpoint after the approval.
    assert [e.type for e in log].count("approval.requested") == 1
    assert [e.type for e in log].count("approval.resolved") == 1
    assert Approval.objects.filter(run_id=run_id).count() == 1
    completed = [e.data["call_id"] for e in log if e.type == "tool.completed"]
    assert completed == [request["toolCallId"]]  # the approved call ran once
    resets = [e for e in log if e.type == "message.reset"]
    assert len(resets) == 1 and resets[0].attempt == 2
    text = "".join(
        e.data["text"] for e in log if e.seq > resets[0].seq and e.type == "message.delta"
    )
    assert text == next(e for e in log if e.type == "message.completed").data["text"]
