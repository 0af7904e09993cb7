"""Chat runs end to end on the embedded runner: POST a message, stream every step."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from backend.chat.models import ChatMessage
from backend.runs.eventlog import reset_for_tests
from backend.runs.models import Run
from tests.backend.runs.helpers import collect
from tests.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

REQUEST = "give me video ideas for a home-espresso channel and the hashtags to use"


@pytest.fixture(autouse=True)
def embedded(settings):
    settings.TASK_RUNNER = "thread"
    reset_for_tests()
    yield
    reset_for_tests()


@pytest.fixture
def chat(anon_client):
    session = anon_client.post("/api/chat/sessions/", {}, format="json").json()
    token = anon_client._credentials["HTTP_X_CLIENT_TOKEN"]
    return anon_client, session, token


def post(client, session_id, content=REQUEST, **extra):
    return client.post(
        f"/api/chat/sessions/{session_id}/messages/", {"content": content, **extra}, format="json"
    )


def finished(run_id: str) -> Run | None:
    run = Run.objects.get(pk=run_id)
    return run if run.is_finished else None


async def test_full_flow_streams_every_step(chat):
    client, session, _token = chat
    response = await sync_to_async(post)(client, session["id"])
    assert response.status_code == 202
    body = response.json()
    frames = await collect(body["stream_url"])
    types = [f["event"] for f in frames]
    seqs = [f["payload"]["seq"] for f in frames]
    assert seqs == list(range(1, len(frames) + 1))
    assert types[:2] == ["run.queued", "run.started"]
    assert types[-1] == "run.completed"
    for expected in (
        "plan",
        "tool.started",
        "tool.progress",
        "tool.completed",
        "message.delta",
        "message.completed",
        "usage",
        "step.started",
        "step.completed",
    ):
        assert expected in types, expected
    started = frames[1]["payload"]["data"]
    assert started == {"model": "offline", "offline": True}
    plan = next(f for f in frames if f["event"] == "plan")["payload"]["data"]
    called = {call["name"] for call in plan["tool_calls"]}
    assert {"content_ideas", "hashtags"} <= called
    deltas = "".join(f["payload"]["data"]["text"] for f in frames if f["event"] == "message.delta")
    completed = next(f for f in frames if f["event"] == "message.completed")["payload"]["data"]
    assert deltas == completed["text"]
    assert "[tool:content_ideas]" in completed["text"]

    transcript = (await sync_to_async(client.get)(f"/api/chat/sessions/{session['id']}/")).json()
    assert [m["role"] for m in transcript["messages"]] == ["user", "assistant"]
    assert transcript["messages"][1]["content"] == completed["text"]
    assert transcript["runs"][0]["status"] == "completed"
    assert transcript["totals"]["input_tokens"] > 0
    # Each stored tool result carries the arguments its call was planned with.
    planned = {call["call_id"]: call["args"] for call in plan["tool_calls"]}
    stored = transcript["messages"][1]["tool_results"]
    assert {result["call_id"]: result["args"] for result in stored} == planned


async def test_reconnect_at_every_position_loses_and_duplicates_nothing(chat):
    client, session, token = chat
    body = (await sync_to_async(post)(client, session["id"])).json()
    full = await collect(body["stream_url"])
    url = f"/api/runs/{body['run_id']}/stream/"
    for cursor in range(len(full) + 1):
        frames = (
            await collect(url, X_Client_Token=token, Last_Event_ID=str(cursor))
            if cursor < len(full)
            else []
        )
        assert [f["payload"]["seq"] for f in frames] == list(range(cursor + 1, len(full) + 1))


async def test_session_stream_spans_runs_with_session_cursors(chat):
    client, session, _token = chat
    first = (await sync_to_async(post)(client, session["id"], "ideas for espresso")).json()
    await collect(first["stream_url"])
    second = (await sync_to_async(post)(client, session["id"], "hashtags for latte art")).json()
    frames = await collect(session["stream_url"], until=2)
    ids = [f["id"] for f in frames]
    assert ids[0] == "1-1"
    runs_seen = [f["payload"]["run_id"] for f in frames if f["event"] == "run.completed"]
    assert runs_seen == [first["run_id"], second["run_id"]]
    assert any(i.startswith("2-") for i in ids)
    # Resume the session stream in the middle of the second run.
    mid = next(i for i in ids if i.startswith("2-"))
    rest = await collect(session["stream_url"] + f"&last_event_id={mid}")
    assert rest[0]["id"] == f"2-{int(mid.split('-')[1]) + 1}"


def test_bad_input(chat, anon_client):
    client, session, _ = chat
    sid = session["id"]
    for payload, field in [
        ({"content": "   "}, "content"),
        ({"content": "x" * 8001}, "content"),
        ({"content": "hi", "multitask": "sometimes"}, "multitask"),
        ({}, "content"),
    ]:
        response = client.post(f"/api/chat/sessions/{sid}/messages/", payload, format="json")
        assert response.status_code == 400, payload
        assert field in response.json()["error"]["details"]["fields"], payload
    assert not Run.objects.exists()


def test_someone_elses_session_is_404(chat, api_client):
    _, session, _ = chat
    other = api_client.post("/api/clients/").json()["token"]
    api_client.credentials(HTTP_X_CLIENT_TOKEN=other)
    assert api_client.get(f"/api/chat/sessions/{session['id']}/").status_code == 404
    assert post(api_client, session["id"]).status_code == 404
    assert api_client.delete(f"/api/chat/sessions/{session['id']}/").status_code == 404


def test_anonymous_is_401(api_client):
    assert api_client.get("/api/chat/sessions/").status_code == 401
    assert api_client.post("/api/chat/sessions/", {}, format="json").status_code == 401


def test_list_rename_delete(chat):
    client, session, _ = chat
    listing = client.get("/api/chat/sessions/").json()
    assert listing["count"] == 1 and listing["results"][0]["id"] == session["id"]
    assert {"next", "previous"} <= set(listing)
    renamed = client.patch(
        f"/api/chat/sessions/{session['id']}/", {"title": "Espresso"}, format="json"
    )
    assert renamed.json()["title"] == "Espresso"
    body = post(client, session["id"]).json()
    wait_for(lambda: finished(body["run_id"]), timeout=30)
    assert client.delete(f"/api/chat/sessions/{session['id']}/").status_code == 204
    assert client.get(f"/api/chat/sessions/{session['id']}/").status_code == 404
    assert not Run.objects.filter(pk=body["run_id"]).exists()
    assert not ChatMessage.objects.exists()


def test_active_run_conflict_enqueue_and_interrupt(chat, env):
    env(OFFLINE_TOKEN_DELAY_MS=30, RUN_HEARTBEAT_S=0.2)
    client, session, _ = chat
    first = post(client, session["id"], "ideas for espresso").json()
    conflict = post(client, session["id"], "and hashtags?")
    assert conflict.status_code == 409
    assert conflict.json()["error"]["details"]["active_run_id"] == first["run_id"]
    queued = post(client, session["id"], "and hashtags?", multitask="enqueue")
    assert queued.status_code == 202
    second_id = queued.json()["run_id"]
    wait_for(lambda: finished(second_id), timeout=60)
    a, b = Run.objects.get(pk=first["run_id"]), Run.objects.get(pk=second_id)
    assert (a.status, b.status) == ("completed", "completed")
    assert b.started_at >= a.finished_at  # strictly in order
    third = post(client, session["id"], "a long answer please").json()
    wait_for(lambda: Run.objects.get(pk=third["run_id"]).status == "running", timeout=20)
    fourth = post(client, session["id"], "never mind, hashtags", multitask="interrupt")
    assert fourth.status_code == 202
    wait_for(lambda: finished(fourth.json()["run_id"]), timeout=60)
    assert Run.objects.get(pk=third["run_id"]).status == "cancelled"
    assert Run.objects.get(pk=fourth.json()["run_id"]).status == "completed"


def test_cancel_mid_run_then_the_session_still_works(chat, env):
    env(OFFLINE_TOKEN_DELAY_MS=40, RUN_HEARTBEAT_S=0.2)
    client, session, _ = chat
    body = post(client, session["id"]).json()
    wait_for(lambda: Run.objects.get(pk=body["run_id"]).status == "running", timeout=20)
    response = client.post(f"/api/runs/{body['run_id']}/cancel/")
    assert response.status_code == 202
    run = wait_for(lambda: finished(body["run_id"]), timeout=20)
    assert run.status == "cancelled"
    assert client.post(f"/api/runs/{body['run_id']}/cancel/").status_code == 409
    env(OFFLINE_TOKEN_DELAY_MS=0)
    again = post(client, session["id"], "hashtags for espresso").json()
    assert wait_for(lambda: finished(again["run_id"]), timeout=30).status == "completed"


def test_a_resumed_runs_answer_replaces_the_interrupted_one():
    from backend.chat.driver import _save_answer, assistant_message_id
    from backend.chat.models import ChatSession

    session = ChatSession.objects.create(client_id="c", model="offline")
    run = Run.objects.create(kind="chat", client_id="c", model="offline", session_id=session.id)
    message_id = assistant_message_id(str(run.id))
    common = {"run": run, "message_id": message_id}
    _save_answer(**common, text="interrupted", tool_results=[])
    _save_answer(**common, text="complete", tool_results=[{"name": "hashtags"}])
    [message] = ChatMessage.objects.filter(session=session)
    assert (str(message.id), message.role, message.content) == (message_id, "assistant", "complete")
    assert message.tool_results == [{"name": "hashtags"}] and message.run_id == run.id
