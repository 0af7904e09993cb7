"""Request bodies over the cap are refused at the ASGI level, before Django reads them:
a declared Content-Length at once, a chunked body as soon as its running total passes the
cap, with the DESIGN.md error body and X-Request-ID."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import uvicorn

from backend.config.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("tests.backend.core.urls")]

LIMIT = 256 * 1024
CHUNK = 64 * 1024


@pytest.fixture(autouse=True)
def small_cap(settings):
    settings.MAX_REQUEST_BODY_BYTES = LIMIT
    settings.REQUEST_BODY_LIMITS = {}


def error_of(body: bytes) -> dict:
    payload = json.loads(body)
    assert set(payload) == {"error"} and set(payload["error"]) == {"code", "message", "details"}
    return payload["error"]


class Chunks:
    """A chunked request body that counts how much of it the server pulled."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.count):
            self.pulled += 1
            yield b"x" * CHUNK


def asgi_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application), base_url="http://testserver"
    )


async def test_a_declared_length_over_the_cap_is_refused_without_reading_the_body():
    received: list[dict] = []
    sent: list[dict] = []

    async def receive() -> dict:
        received.append({})
        return {"type": "http.request", "body": b"x" * CHUNK, "more_body": len(received) < 3}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "path": "/test/api/echo",
        "raw_path": b"/test/api/echo",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", str(50 * 1024 * 1024).encode()),
            (b"x-request-id", b"req-413"),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("t", 80),
    }
    await application(scope, receive, send)
    assert received == []  # not one byte of the body was asked for
    start, body = sent
    assert start["status"] == 413
    headers = dict(start["headers"])
    assert headers[b"x-request-id"] == b"req-413"
    assert headers[b"connection"] == b"close"
    error = error_of(body["body"])
    assert error["code"] == "PAYLOAD_TOO_LARGE"
    assert error["details"] == {"limit_bytes": LIMIT}


async def test_a_chunked_body_is_refused_once_its_total_passes_the_cap():
    body = Chunks(count=100)  # 6.4 MB in 64 KiB chunks, no Content-Length
    async with asgi_client() as client:
        response = await client.post(
            "/test/api/echo", content=body, headers={"content-type": "application/json"}
        )
    assert response.status_code == 413
    assert error_of(response.content)["code"] == "PAYLOAD_TOO_LARGE"
    assert response.headers["x-request-id"]
    # Four chunks fit; the fifth passes the cap and nothing more is read.
    assert body.pulled == LIMIT // CHUNK + 1


async def test_a_chunked_body_within_the_cap_is_passed_on_whole():
    body = Chunks(count=LIMIT // CHUNK)
    async with asgi_client() as client:
        response = await client.post(
            "/test/api/echo", content=body, headers={"content-type": "application/json"}
        )
    assert body.pulled == LIMIT // CHUNK
    # Django itself reads no body without a Content-Length: the view saw an empty one.
    assert response.status_code == 400
    assert error_of(response.content)["code"] == "VALIDATION_ERROR"


async def test_a_path_with_its_own_cap_takes_larger_bodies(settings):
    settings.REQUEST_BODY_LIMITS = {"/test/api/echo": 4 * LIMIT}
    headers = {"content-type": "application/json"}
    async with asgi_client() as client:
        bigger = await client.post("/test/api/echo", content=b"x" * (2 * LIMIT), headers=headers)
        too_big = await client.post(
            "/test/api/echo", content=b"x" * (4 * LIMIT + 1), headers=headers
        )
        elsewhere = await client.post("/test/boom", content=b"x" * (2 * LIMIT))
    # Past both cap checks (this one's and Django's middleware): the view says it is no JSON.
    assert bigger.status_code == 400, bigger.content
    assert error_of(bigger.content)["code"] == "VALIDATION_ERROR"
    assert too_big.status_code == 413
    assert error_of(too_big.content)["details"] == {"limit_bytes": 4 * LIMIT}
    assert elsewhere.status_code == 413


async def test_a_malformed_content_length_is_400_naming_it():
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    async def receive() -> dict:
        raise AssertionError("the body must not be read")

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/test/api/echo",
        "headers": [(b"content-length", b"lots")],
    }
    await application(scope, receive, send)
    assert sent[0]["status"] == 400
    assert "Content-Length" in error_of(sent[1]["body"])["details"]["fields"]


# --- over a real socket (uvicorn, as `insightstream web` serves it) -----------------------


@pytest.fixture
def server() -> Iterator[int]:
    sock = socket.create_server(("127.0.0.1", 0))
    config = uvicorn.Config(application, lifespan="off", log_config=None, access_log=False)
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not instance.started:
        thread.join(0.05)
        assert thread.is_alive()
    yield sock.getsockname()[1]
    instance.should_exit = True
    thread.join(10)


def read_response(conn: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        assert chunk, data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    while len(body) < int(headers.get("content-length", 0)):
        body += conn.recv(65536)
    return int(lines[0].split()[1]), headers, body


def test_uvicorn_answers_a_huge_declared_body_before_it_is_sent(server):
    with socket.create_connection(("127.0.0.1", server), timeout=10) as conn:
        conn.sendall(
            b"POST /test/api/echo HTTP/1.1\r\nHost: testserver\r\n"
            b"Content-Type: application/json\r\n"
            b"Content-Length: 104857600\r\n\r\n"  # 100 MB announced, none of it sent
        )
        status, headers, body = read_response(conn)
    assert status == 413
    assert headers["x-request-id"]
    assert error_of(body)["code"] == "PAYLOAD_TOO_LARGE"


def test_uvicorn_answers_a_chunked_body_once_it_passes_the_cap(server):
    with socket.create_connection(("127.0.0.1", server), timeout=10) as conn:
        conn.sendall(
            b"POST /test/api/echo HTTP/1.1\r\nHost: testserver\r\n"
            b"Content-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\nX-Request-ID: chunky-1\r\n\r\n"
        )
        # Just over the cap, and no terminating chunk: the answer must not wait for it.
        for _ in range(LIMIT // CHUNK + 1):
            conn.sendall(f"{CHUNK:x}\r\n".encode() + b"x" * CHUNK + b"\r\n")
        status, headers, body = read_response(conn)
    assert status == 413
    assert headers["x-request-id"] == "chunky-1"
    assert error_of(body)["details"] == {"limit_bytes": LIMIT}
