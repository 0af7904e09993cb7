"""Streams against a real `insightstream web` (uvicorn, ASGI) on PostgreSQL + Redis.

Idle streams hold no database connection, so requests still get one however many streams
are open; a client's open streams are capped (429 beyond, a slot freed when a stream
closes); a pool that runs dry answers 503 ``SERVICE_OVERLOADED`` with ``Retry-After``,
not 500.
"""

from __future__ import annotations

import threading
import time

import httpx
import psycopg
import pytest

from tests.backend.web_process import APP_NAME, Web, web_server
from tests.backend.web_process import database_url as _database_url
from tests.conftest import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _mint(http: httpx.Client) -> str:
    response = http.post("/api/clients/")
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


def _session(http: httpx.Client, token: str) -> dict:
    response = http.post("/api/chat/sessions/", json={}, headers={"X-Client-Token": token})
    assert response.status_code == 201, response.text
    return dict(response.json())


class OpenStreams:
    """SSE responses held open (and unread) until closed."""

    def __init__(self, web: Web) -> None:
        self.http = web.client(limits=httpx.Limits(max_connections=100))
        self.responses: list[httpx.Response] = []

    def open(self, url: str, **headers: str) -> httpx.Response:
        response = self.http.send(self.http.build_request("GET", url, headers=headers), stream=True)
        self.responses.append(response)
        return response

    def close(self, response: httpx.Response) -> None:
        response.close()
        self.responses.remove(response)

    def close_all(self) -> None:
        for response in list(self.responses):
            self.close(response)
        self.http.close()


def _web_connections() -> int:
    with psycopg.connect(_database_url(), autocommit=True) as pg:
        row = pg.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (APP_NAME,)
        ).fetchone()
    return int(row[0]) if row else 0


def test_idle_session_streams_beyond_the_pool_leave_every_request_served(tmp_path):
    # 10 idle session streams on a web process whose pool has 4 connections: each used to
    # keep one until it ended, and the 5th request on waited out the pool and answered 500.
    with web_server(tmp_path, DB_POOL_MAX_SIZE="4", DB_POOL_TIMEOUT_S="3") as web:
        http = web.client()
        token = _mint(http)
        streams = OpenStreams(web)
        try:
            for _ in range(10):
                response = streams.open(_session(http, token)["stream_url"])
                assert response.status_code == 200
                assert response.headers["content-type"] == "text/event-stream"
            for _ in range(3):
                listed = http.get("/api/chat/sessions/", headers={"X-Client-Token": token})
                assert listed.status_code == 200, listed.text
                assert listed.json()["count"] == 10
                assert http.get("/api/clients/me/", headers={"X-Client-Token": token}).is_success
        finally:
            streams.close_all()
            http.close()
        assert "couldn't get a connection" not in web.log()


def test_idle_streams_hold_no_database_connection(tmp_path):
    # A pool with room for every stream: what pg_stat_activity shows is what they hold.
    with web_server(tmp_path, DB_POOL_MIN_SIZE="1", DB_POOL_MAX_SIZE="40") as web:
        http = web.client()
        tokens = [_mint(http), _mint(http)]
        streams = OpenStreams(web)
        try:
            sessions = [_session(http, tokens[index % 2]) for index in range(12)]
            for session in sessions:  # one after another: each request needs one connection
                assert streams.open(session["stream_url"]).status_code == 200
            # A run stream and the AI SDK resume stream of an active chat are open too.
            posted = http.post(
                f"/api/chat/sessions/{sessions[0]['id']}/messages/",
                json={"content": "hello"},
                headers={"X-Client-Token": tokens[0]},
            )
            assert posted.status_code == 202, posted.text
            assert streams.open(posted.json()["stream_url"]).status_code == 200
            held = max(_web_connections() for _ in range(10))
            # Every stream used to keep the connection of its lookups: 13 or more here. Now
            # the pool keeps what one request at a time needed (and maybe one it grew by).
            assert held <= 3, f"{held} connections for {len(streams.responses)} idle streams"
        finally:
            streams.close_all()
            http.close()


def test_a_clients_open_streams_are_capped_and_a_closed_stream_frees_its_slot(tmp_path):
    with web_server(tmp_path, SSE_MAX_STREAMS_PER_CLIENT="3") as web:
        http = web.client()
        token, other = _mint(http), _mint(http)
        sessions = [_session(http, token) for _ in range(4)]
        streams = OpenStreams(web)
        try:
            opened = [streams.open(s["stream_url"]) for s in sessions[:3]]
            assert [r.status_code for r in opened] == [200, 200, 200]

            refused = streams.open(sessions[3]["stream_url"])
            assert refused.status_code == 429
            assert int(refused.headers["Retry-After"]) >= 1
            refused.read()
            error = refused.json()["error"]
            assert error["code"] == "RATE_LIMITED"
            assert error["details"]["limit"] == 3
            streams.close(refused)
            # Every kind of stream counts: the AI SDK chat too (refused before any run).
            csrf = "b" * 32  # a plain Django view: CSRF wants cookie and header to match
            chat = http.post(
                "/api/chat",
                json={"id": "c1", "messages": [{"role": "user", "content": "hi"}]},
                headers={"X-Client-Token": token, "X-CSRFToken": csrf},
                cookies={"csrftoken": csrf},
            )
            assert chat.status_code == 429, chat.text
            assert (
                http.get("/api/chat/sessions/", headers={"X-Client-Token": token}).json()["count"]
                == 4
            )
            # Another client has slots of its own.
            theirs = streams.open(_session(http, other)["stream_url"])
            assert theirs.status_code == 200

            # The client goes away from one stream: its slot comes back.
            streams.close(opened[0])

            def reopened() -> bool:
                response = streams.open(sessions[3]["stream_url"])
                if response.status_code == 200:
                    return True
                streams.close(response)
                return False

            wait_for(reopened, timeout=20, interval=0.2)
            again = streams.open(sessions[0]["stream_url"])
            assert again.status_code == 429
        finally:
            streams.close_all()
            http.close()


def test_a_pool_that_runs_dry_answers_503_with_retry_after(tmp_path):
    from backend.clients.models import Client

    with web_server(tmp_path, DB_POOL_MAX_SIZE="2", DB_POOL_TIMEOUT_S="1") as web:
        http = web.client()
        token = _mint(http)
        session = _session(http, token)
        # Hold the clients table: requests that look a client up keep their connection
        # while they wait, so the third one on finds the pool empty.
        with psycopg.connect(_database_url()) as lock:
            lock.execute(f'LOCK TABLE "{Client._meta.db_table}" IN ACCESS EXCLUSIVE MODE')
            answers: list[httpx.Response] = []

            def get(path: str) -> None:
                with web.client(timeout=60) as own:
                    request = own.build_request("GET", path, headers={"X-Client-Token": token})
                    response = own.send(request, stream=True)
                    if not response.headers.get("content-type", "").startswith("text/event"):
                        response.read()  # a stream that got through is not read to its end
                    response.close()
                    answers.append(response)

            paths = ["/api/clients/me/"] * 4 + [f"/api/chat/sessions/{session['id']}/stream/"]
            threads = [threading.Thread(target=get, args=(path,)) for path in paths]
            for thread in threads:
                thread.start()
                time.sleep(0.1)
            wait_for(lambda: sum(a.status_code == 503 for a in answers) >= 3, timeout=30)
            lock.rollback()
        for thread in threads:
            thread.join(timeout=60)
        statuses = sorted(a.status_code for a in answers)
        assert statuses.count(503) >= 3 and set(statuses) <= {200, 503}, statuses
        for answer in answers:
            if answer.status_code == 503:
                assert int(answer.headers["Retry-After"]) >= 1
                assert answer.json()["error"]["code"] == "SERVICE_OVERLOADED"
        http.close()
