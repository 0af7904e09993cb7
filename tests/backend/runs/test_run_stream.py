"""The run stream's promises: exact resume from any cursor, replay, auth, bad cursors."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient
from redis.exceptions import ConnectionError as RedisConnectionError

from backend.clients.services import client_create
from backend.runs.emitter import RunEmitter
from backend.runs.eventlog import get_event_log, reset_for_tests
from backend.runs.models import Run, RunEvent
from backend.runs.sse import Tail
from backend.runs.stream_auth import stream_token

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh_log():
    reset_for_tests()
    yield
    reset_for_tests()


def parse_sse(raw: bytes) -> list[dict]:
    frames = []
    for block in raw.decode().split("\n\n"):
        if not block.strip() or block.startswith(":"):
            continue
        fields = {}
        for line in block.splitlines():
            name, _, value = line.partition(": ")
            fields[name] = value
        fields["payload"] = json.loads(fields["data"])
        frames.append(fields)
    return frames


async def read_stream(client: AsyncClient, url: str, **headers: str) -> tuple[int, bytes]:
    response = await client.get(url, headers=headers)
    if not response.streaming:
        return response.status_code, response.content
    assert response["Content-Type"] == "text/event-stream"
    assert response["Cache-Control"] == "no-cache"
    assert response["X-Accel-Buffering"] == "no"
    chunks = [chunk async for chunk in response.streaming_content]
    return response.status_code, b"".join(chunks)


def make_run(client_id: str) -> Run:
    return Run.objects.create(kind="chat", client_id=client_id, model="offline")


def emit_full_run(run: Run) -> list[str]:
    emitter = RunEmitter(run_id=str(run.id), attempt=1)
    types = ["run.queued", "run.started", "plan", "message.delta", "message.delta"]
    emitter.emit("run.queued", {"kind": "chat"})
    emitter.emit("run.started", {"model": "offline", "offline": True})
    emitter.emit("plan", {"tool_calls": []})
    emitter.emit("message.delta", {"message_id": "m1", "text": "Hello "})
    emitter.emit("message.delta", {"message_id": "m1", "text": "world"})
    emitter.emit("message.completed", {"message_id": "m1", "text": "Hello world"})
    emitter.emit("run.completed", {"message_id": "m1", "usage": {}})
    Run.objects.filter(pk=run.pk).update(status="completed")
    return [*types, "message.completed", "run.completed"]


@pytest.fixture
def owner():
    client, token = client_create(ip_hash="t")
    return str(client.id), token


async def test_finished_run_replays_and_closes(owner):
    client_id, token = owner
    run = await sync_to_async(make_run)(client_id)
    types = await sync_to_async(emit_full_run)(run)
    status, raw = await read_stream(
        AsyncClient(), f"/api/runs/{run.id}/stream/", X_Client_Token=token
    )
    assert status == 200
    frames = parse_sse(raw)
    assert [f["event"] for f in frames] == types
    assert [f["id"] for f in frames] == [str(i) for i in range(1, 8)]
    payload = frames[1]["payload"]
    assert set(payload) == {"type", "run_id", "seq", "attempt", "ts", "data"}
    assert payload["run_id"] == str(run.id) and payload["seq"] == 2 and payload["attempt"] == 1


async def test_resume_from_every_position_is_exact(owner):
    client_id, token = owner
    run = await sync_to_async(make_run)(client_id)
    await sync_to_async(emit_full_run)(run)
    for cursor in range(0, 8):
        _, raw = await read_stream(
            AsyncClient(),
            f"/api/runs/{run.id}/stream/",
            X_Client_Token=token,
            Last_Event_ID=str(cursor),
        )
        seqs = [f["payload"]["seq"] for f in parse_sse(raw)]
        assert seqs == list(range(cursor + 1, 8)), cursor


async def test_query_parameter_cursor_and_stream_token(owner):
    client_id, _ = owner
    run = await sync_to_async(make_run)(client_id)
    await sync_to_async(emit_full_run)(run)
    st = stream_token(client_id=client_id, scope=f"run:{run.id}")
    _, raw = await read_stream(AsyncClient(), f"/api/runs/{run.id}/stream/?st={st}&last_event_id=5")
    assert [f["payload"]["seq"] for f in parse_sse(raw)] == [6, 7]


async def test_live_events_reach_two_concurrent_readers(owner):
    client_id, token = owner
    run = await sync_to_async(make_run)(client_id)

    async def reader() -> list[int]:
        _, raw = await read_stream(
            AsyncClient(), f"/api/runs/{run.id}/stream/", X_Client_Token=token
        )
        return [f["payload"]["seq"] for f in parse_sse(raw)]

    readers = [asyncio.ensure_future(reader()) for _ in range(2)]
    await asyncio.sleep(0.3)
    await sync_to_async(emit_full_run)(run)
    results = await asyncio.wait_for(asyncio.gather(*readers), timeout=20)
    assert results == [list(range(1, 8))] * 2


async def test_expired_log_replays_from_database(owner):
    client_id, token = owner
    run = await sync_to_async(make_run)(client_id)
    await sync_to_async(emit_full_run)(run)
    get_event_log().delete(run_id=str(run.id))
    url = f"/api/runs/{run.id}/stream/"
    # From the start: stored events only (deltas gone, message.completed instead), no reset.
    _, raw = await read_stream(AsyncClient(), url, X_Client_Token=token)
    frames = parse_sse(raw)
    assert [f["event"] for f in frames] == [
        "run.queued",
        "run.started",
        "plan",
        "message.completed",
        "run.completed",
    ]
    # A cursor the store has: honoured.
    _, raw = await read_stream(AsyncClient(), url, X_Client_Token=token, Last_Event_ID="3")
    assert [f["payload"]["seq"] for f in parse_sse(raw)] == [6, 7]
    # A cursor on a delta the store never had: stream.reset, then a full replay.
    _, raw = await read_stream(AsyncClient(), url, X_Client_Token=token, Last_Event_ID="4")
    frames = parse_sse(raw)
    assert frames[0]["event"] == "stream.reset" and "id" not in frames[0]
    assert [f["payload"]["seq"] for f in frames[1:]] == [1, 2, 3, 6, 7]
    assert await sync_to_async(RunEvent.objects.filter(run=run).count)() == 5


async def test_anonymous_is_401(owner):
    client_id, _ = owner
    run = await sync_to_async(make_run)(client_id)
    status, raw = await read_stream(AsyncClient(), f"/api/runs/{run.id}/stream/")
    assert status == 401
    assert json.loads(raw)["error"]["code"] == "UNAUTHORIZED"


async def test_someone_elses_run_is_404(owner):
    client_id, _ = owner
    run = await sync_to_async(make_run)(client_id)
    _, other_token = await sync_to_async(client_create)(ip_hash="o")
    status, raw = await read_stream(
        AsyncClient(), f"/api/runs/{run.id}/stream/", X_Client_Token=other_token
    )
    assert status == 404
    assert json.loads(raw)["error"]["code"] == "NOT_FOUND"
    status, _ = await read_stream(
        AsyncClient(), "/api/runs/not-a-uuid/stream/", X_Client_Token=other_token
    )
    assert status == 404


async def test_stream_token_for_another_run_is_refused(owner):
    client_id, _ = owner
    run = await sync_to_async(make_run)(client_id)
    st = stream_token(client_id=client_id, scope="run:someone-else")
    status, _ = await read_stream(AsyncClient(), f"/api/runs/{run.id}/stream/?st={st}")
    assert status == 401


@pytest.mark.parametrize("cursor", ["abc", "-1", "1-2", "9" * 20])
async def test_malformed_cursor_is_400(owner, cursor):
    client_id, token = owner
    run = await sync_to_async(make_run)(client_id)
    status, raw = await read_stream(
        AsyncClient(), f"/api/runs/{run.id}/stream/", X_Client_Token=token, Last_Event_ID=cursor
    )
    assert status == 400
    assert list(json.loads(raw)["error"]["details"]["fields"]) == ["Last-Event-ID"]


async def test_reader_waits_for_the_end_a_worker_records_before_logging_it(owner):
    # The worker ends a run in PostgreSQL just before it logs the terminal event; a reader
    # caught up in that gap waits for the event instead of replaying the store.
    client_id, token = owner
    run = await sync_to_async(make_run)(client_id)
    emitter = RunEmitter(run_id=str(run.id), attempt=1)
    await sync_to_async(emitter.emit)("run.started", {"model": "offline", "offline": True})
    await sync_to_async(emitter.emit)("message.delta", {"message_id": "m1", "text": "Hi"})
    await sync_to_async(Run.objects.filter(pk=run.pk).update)(status="completed")

    async def log_the_end() -> None:
        await asyncio.sleep(0.5)
        await sync_to_async(emitter.emit)("run.completed", {"message_id": "m1", "usage": {}})

    ending = asyncio.ensure_future(log_the_end())
    _, raw = await read_stream(
        AsyncClient(), f"/api/runs/{run.id}/stream/", X_Client_Token=token, Last_Event_ID="2"
    )
    await ending
    frames = parse_sse(raw)
    assert [(f["event"], f["payload"]["seq"]) for f in frames] == [("run.completed", 3)]


def test_a_terminal_event_stores_what_a_dead_buffering_worker_had_not(owner):
    # A worker's buffered emitter logs at once but stores in batches; if it dies, whoever
    # logs the run's end (the reaper giving up, a cancel) stores the missing events too.
    client_id, _ = owner
    run = make_run(client_id)
    log = get_event_log()
    log.append(run_id=str(run.id), type="run.started", attempt=1, data={})
    log.append(run_id=str(run.id), type="plan", attempt=1, data={"tool_calls": []})
    log.append(run_id=str(run.id), type="message.delta", attempt=1, data={"text": "x"})
    RunEmitter(run_id=str(run.id), attempt=1).emit("run.failed", {"error": {"code": "X"}})
    stored = list(RunEvent.objects.filter(run=run).order_by("seq").values_list("seq", "type"))
    assert stored == [(1, "run.started"), (2, "plan"), (4, "run.failed")]


class FlakyLog:
    """The event log, with its next ``failures`` reads failing as a dropped Redis would."""

    def __init__(self, failures: int) -> None:
        self.real = get_event_log()
        self.failures = failures

    def __getattr__(self, name: str):
        return getattr(self.real, name)

    async def read(self, **kwargs):
        if self.failures:
            self.failures -= 1
            raise RedisConnectionError("Connection reset by peer")
        return await self.real.read(**kwargs)


async def test_a_redis_hiccup_mid_stream_is_ridden_out(owner, monkeypatch):
    client_id, token = owner
    run = await sync_to_async(make_run)(client_id)
    await sync_to_async(emit_full_run)(run)
    flaky = FlakyLog(failures=2)
    monkeypatch.setattr("backend.runs.sse.get_event_log", lambda: flaky)
    monkeypatch.setattr("backend.runs.sse.READ_RETRY_BACKOFF_S", (0.01, 0.01, 0.01))
    _, raw = await read_stream(AsyncClient(), f"/api/runs/{run.id}/stream/", X_Client_Token=token)
    assert flaky.failures == 0
    assert [f["payload"]["seq"] for f in parse_sse(raw)] == list(range(1, 8))
    assert raw.count(b": ping") == 2  # one while each retry waited


async def test_redis_down_past_the_retry_budget_ends_the_stream(owner, monkeypatch):
    client_id, _ = owner
    run = await sync_to_async(make_run)(client_id)
    await sync_to_async(emit_full_run)(run)
    monkeypatch.setattr("backend.runs.sse.get_event_log", lambda: FlakyLog(failures=10))
    monkeypatch.setattr("backend.runs.sse.READ_RETRY_BACKOFF_S", (0.01, 0.01))
    batches: list = []

    async def read_all() -> None:
        async for batch in Tail(run_id=str(run.id), after_seq=0).batches():
            batches.append(batch)

    with pytest.raises(RedisConnectionError):
        await read_all()
    assert batches == [None, None]  # a ping per retry, then the error
