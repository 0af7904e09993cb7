"""Stop for real: the text streamed until the stop stays as the answer, marked stopped, and
the conversation goes on from it.

Before: a stopped run kept nothing of its answer (the transcript showed "cancelled" under
the question) and the next message's model never saw what had been said.
"""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from langchain_core.messages import AIMessage

from backend.chat.models import ChatMessage
from backend.runs.checkpoints import open_graph
from backend.runs.eventlog import reset_for_tests
from backend.runs.models import Run
from tests.backend.runs.helpers import logged_events
from tests.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def embedded(settings):
    settings.TASK_RUNNER = "thread"
    reset_for_tests()
    yield
    reset_for_tests()


def post(client, session_id, content):
    response = client.post(
        f"/api/chat/sessions/{session_id}/messages/", {"content": content}, format="json"
    )
    assert response.status_code == 202, response.content
    return response.json()


def deltas(run_id: str) -> str:
    return "".join(
        event.data.get("text", "")
        for event in logged_events(run_id)
        if event.type == "message.delta"
    )


def thread_messages(session_id: str) -> list:
    async def read() -> list:
        async with open_graph() as graph:
            state = await graph.aget_state({"configurable": {"thread_id": session_id}})
            return list(state.values.get("messages", []))

    return async_to_sync(read)()


def test_stop_mid_answer_keeps_the_streamed_text_and_the_next_message_goes_on(anon_client, env):
    env(OFFLINE_TOKEN_DELAY_MS=60, RUN_HEARTBEAT_S=0.2)
    session = anon_client.post("/api/chat/sessions/", {}, format="json").json()
    body = post(anon_client, session["id"], "hashtags for a home espresso channel")
    run_id = body["run_id"]
    wait_for(lambda: len(deltas(run_id).split()) >= 5, timeout=30)  # mid-answer
    assert anon_client.post(f"/api/runs/{run_id}/cancel/").status_code == 202
    run = wait_for(lambda: Run.objects.filter(pk=run_id, status="cancelled").first(), timeout=20)
    assert run is not None

    streamed = deltas(run_id)
    # (The cut model call's ``usage`` may come after the end: its node's task settles it
    # once cancelled, after the run's own task has ended the run; readers stop at the end.)
    events = [event for event in logged_events(run_id) if event.type != "usage"]
    assert [event.type for event in events][-2:] == ["message.completed", "run.cancelled"]
    completed = events[-2].data
    assert completed["stopped"] is True and completed["text"] == streamed
    answer = ChatMessage.objects.get(run_id=run_id, role="assistant")
    assert answer.stopped and answer.content == streamed and len(streamed.split()) >= 5
    # The transcript says so.
    transcript = anon_client.get(f"/api/chat/sessions/{session['id']}/").json()
    [stored] = [m for m in transcript["messages"] if m["role"] == "assistant"]
    assert stored["stopped"] is True and stored["content"] == streamed

    # The conversation's state has the stopped answer as the last word...
    last = thread_messages(session["id"])[-1]
    assert isinstance(last, AIMessage) and last.content == streamed
    # ...and the next message continues from it.
    env(OFFLINE_TOKEN_DELAY_MS=0)
    again = post(anon_client, session["id"], "and video ideas?")
    done = wait_for(
        lambda: Run.objects.filter(pk=again["run_id"], status__in=Run.TERMINAL).first(),
        timeout=30,
    )
    assert done.status == "completed"
    messages = thread_messages(session["id"])
    contents = [m.content for m in messages]
    assert streamed in contents and contents.index(streamed) < len(contents) - 1
    assert not ChatMessage.objects.get(run_id=again["run_id"], role="assistant").stopped
