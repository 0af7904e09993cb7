"""History is what it says: every REST tool call and every successful tool call of a chat
run, once per call (a resumed run does not add it again), paginated as asked, filtered,
newest first, and private to its client."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from rest_framework.test import APIClient

from backend.clients.services import client_create
from backend.runs.eventlog import reset_for_tests
from backend.tools.models import HistoryEntry
from backend.tools.services import history_record_chat
from tests.backend.runs.helpers import collect

pytestmark = pytest.mark.django_db


def other_client() -> APIClient:
    _, token = client_create(ip_hash="other")
    client = APIClient()
    client.credentials(HTTP_X_CLIENT_TOKEN=token)
    return client


def entry(client_id: str, *, tool: str = "hashtags", source: str = "api", n: int = 0):
    return HistoryEntry.objects.create(
        client_id=client_id,
        tool=tool,
        input={"topic": f"topic {n}"},
        result={"n": n},
        source=source,
    )


def result(call_id: str, *, name: str = "hashtags", ok: bool = True, n: int = 0) -> dict:
    """An ``agents.state.ToolResult`` as the graph's state holds it."""
    return {
        "call_id": call_id,
        "name": name,
        "args": {"topic": f"topic {n}"},
        "step": 1,
        "ok": ok,
        "output": {"n": n} if ok else None,
        "error": None if ok else {"code": "TOOL_ERROR", "message": "boom"},
        "duration_ms": 3,
    }


# --- the endpoints: anonymous → someone else's → invalid input → happy path ------------


def test_anonymous_is_401():
    assert APIClient().get("/api/history/").status_code == 401
    assert APIClient().get("/api/history/1/").status_code == 401


def test_another_clients_entries_are_never_shown(anon_client):
    theirs = entry("someone-else", n=1)
    mine = entry(anon_client.client_id, n=2)
    body = anon_client.get("/api/history/").json()
    assert [item["id"] for item in body["results"]] == [mine.id]
    response = anon_client.get(f"/api/history/{theirs.id}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"
    assert other_client().get(f"/api/history/{mine.id}/").status_code == 404
    assert anon_client.get("/api/history/999999/").status_code == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("tool=nope", "tool"),
        ("source=email", "source"),
        ("page_size=0", "page_size"),
        ("page_size=101", "page_size"),
        ("page_size=two", "page_size"),
        ("page=0", "page"),
    ],
)
def test_bad_filters_are_400_naming_the_field(anon_client, query, field):
    response = anon_client.get(f"/api/history/?{query}")
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]["fields"]


def test_page_size_is_honoured(anon_client):
    """P29: page_size=2 returns 2 items (it returned 6)."""
    for n in range(6):
        entry(anon_client.client_id, n=n)
    first = anon_client.get("/api/history/?page_size=2").json()
    assert first["count"] == 6
    assert [item["input"]["topic"] for item in first["results"]] == ["topic 5", "topic 4"]
    assert first["next"] is not None
    third = anon_client.get("/api/history/?page_size=2&page=3").json()
    assert [item["input"]["topic"] for item in third["results"]] == ["topic 1", "topic 0"]
    assert third["next"] is None
    assert len(anon_client.get("/api/history/?page_size=100").json()["results"]) == 6
    assert anon_client.get("/api/history/?page_size=2&page=4").status_code == 404


def test_filters_by_tool_and_source_newest_first(anon_client):
    entry(anon_client.client_id, tool="hashtags", source="api", n=1)
    entry(anon_client.client_id, tool="factoid", source="chat", n=2)
    entry(anon_client.client_id, tool="hashtags", source="chat", n=3)

    def ns(query: str) -> list[int]:
        return [
            i["result"]["n"] for i in anon_client.get(f"/api/history/?{query}").json()["results"]
        ]

    assert ns("") == [3, 2, 1]
    assert ns("tool=hashtags") == [3, 1]
    assert ns("source=chat") == [3, 2]
    assert ns("source=api&tool=hashtags") == [1]
    detail = anon_client.get(f"/api/history/{HistoryEntry.objects.get(tool='factoid').id}/")
    assert detail.status_code == 200
    body = detail.json()
    assert set(body) == {
        "id", "tool", "source", "input", "result", "run_id", "session_id", "call_id",
        "created_at",
    }  # fmt: skip
    assert (body["tool"], body["source"], body["result"]) == ("factoid", "chat", {"n": 2})


def test_a_rest_tool_call_is_recorded_with_source_api(anon_client):
    response = anon_client.post("/api/tools/hashtags/", {"topic": "latte art"}, format="json")
    assert response.status_code == 200, response.content
    [item] = anon_client.get("/api/history/").json()["results"]
    assert (item["tool"], item["source"], item["run_id"], item["call_id"]) == (
        "hashtags",
        "api",
        None,
        "",
    )
    assert item["result"] == response.json()


# --- recording a chat run's calls ----------------------------------------------------------


def test_recording_the_same_calls_twice_keeps_them_once():
    """A resumed attempt reports the calls its killed predecessor already finished."""
    run_id, session_id = str(uuid.uuid4()), str(uuid.uuid4())
    calls = [result("call-1", n=1), result("call-2", name="factoid", n=2)]
    history_record_chat(client_id="c1", run_id=run_id, session_id=session_id, results=calls)
    history_record_chat(
        client_id="c1",
        run_id=run_id,
        session_id=session_id,
        results=[*calls, result("call-3", n=3), result("call-4", ok=False)],
    )
    stored = HistoryEntry.objects.order_by("id")
    assert [(e.call_id, e.tool, e.result) for e in stored] == [
        ("call-1", "hashtags", {"n": 1}),
        ("call-2", "factoid", {"n": 2}),
        ("call-3", "hashtags", {"n": 3}),
    ]
    assert {(str(e.run_id), str(e.session_id), e.source) for e in stored} == {
        (run_id, session_id, "chat")
    }
    # Another run may use the same call ids: those are other calls.
    history_record_chat(client_id="c1", run_id=str(uuid.uuid4()), session_id=None, results=calls)
    assert HistoryEntry.objects.count() == 5


def test_tool_completed_events_count_too_and_failures_do_not():
    run_id = str(uuid.uuid4())
    events = [
        {"call_id": "a", "name": "hashtags", "output": {"n": 1}, "duration_ms": 2, "args": {}},
        {"call_id": "b", "name": "hashtags", "error": {"code": "X", "message": "y"}, "args": {}},
    ]
    assert history_record_chat(client_id="c", run_id=run_id, session_id=None, results=events) == 1
    assert list(HistoryEntry.objects.values_list("call_id", flat=True)) == ["a"]


@pytest.mark.django_db(transaction=True)
def test_a_chat_run_records_each_tool_result_once(anon_client, settings):
    settings.TASK_RUNNER = "thread"
    reset_for_tests()
    session = anon_client.post("/api/chat/sessions/", {}, format="json").json()
    response = anon_client.post(
        f"/api/chat/sessions/{session['id']}/messages/",
        {"content": "give me video ideas for a home-espresso channel and the hashtags to use"},
        format="json",
    )
    assert response.status_code == 202, response.content
    accepted = response.json()
    frames = asyncio.run(collect(accepted["stream_url"], timeout=60))
    assert frames[-1]["event"] == "run.completed", frames[-1]
    completed = {
        f["payload"]["data"]["call_id"]: f["payload"]["data"]
        for f in frames
        if f["event"] == "tool.completed"
    }
    started = {
        f["payload"]["data"]["call_id"]: f["payload"]["data"]["args"]
        for f in frames
        if f["event"] == "tool.started"
    }
    assert {"content_ideas", "hashtags"} <= {c["name"] for c in completed.values()}
    body = anon_client.get("/api/history/?source=chat&page_size=100").json()
    assert body["count"] == len(completed)
    for item in body["results"]:
        call = completed[item["call_id"]]
        assert (item["tool"], item["result"], item["input"]) == (
            call["name"],
            call["output"],
            started[item["call_id"]],
        )
        assert (item["run_id"], item["session_id"]) == (accepted["run_id"], session["id"])
    assert other_client().get("/api/history/").json()["count"] == 0
    reset_for_tests()


@pytest.mark.django_db(transaction=True)
def test_a_run_cancelled_after_its_tools_keeps_their_results(anon_client, settings, env):
    from backend.runs.models import Run
    from tests.backend.runs.helpers import logged_events
    from tests.conftest import wait_for

    settings.TASK_RUNNER = "thread"
    env(OFFLINE_TOKEN_DELAY_MS=40, RUN_HEARTBEAT_S=0.2)
    reset_for_tests()
    session = anon_client.post("/api/chat/sessions/", {}, format="json").json()
    run_id = anon_client.post(
        f"/api/chat/sessions/{session['id']}/messages/",
        {"content": "hashtags for latte art"},
        format="json",
    ).json()["run_id"]

    def answering() -> bool:  # the tools are done and the answer is streaming
        return any(event.type == "message.delta" for event in logged_events(run_id))

    wait_for(answering, timeout=30, interval=0.02)
    assert anon_client.post(f"/api/runs/{run_id}/cancel/").status_code == 202
    run = wait_for(lambda: Run.objects.filter(pk=run_id, status="cancelled").first(), timeout=30)
    assert run is not None
    completed = [e.data for e in logged_events(run_id) if e.type == "tool.completed"]
    assert completed
    history = anon_client.get("/api/history/?source=chat").json()["results"]
    assert sorted(h["call_id"] for h in history) == sorted(c["call_id"] for c in completed)
    assert {h["tool"] for h in history} == {"hashtags"}
    reset_for_tests()
