"""A local PostHog: the capture endpoint (records the batches the real client sends) and
the private API's person endpoints (find by distinct id, delete), with a personal API key."""

from __future__ import annotations

import gzip
import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

_PERSONS = re.compile(r"^/api/projects/(?P<project>[^/]+)/persons/(?:(?P<person>[^/]+)/)?$")


class PostHogCaptureServer:
    def __init__(self, *, personal_api_key: str = "phx_test", project_id: str = "4242") -> None:
        self.batches: list[dict[str, Any]] = []
        self.paths: list[str] = []
        # The private API: persons by id with their distinct ids, every call to it, and
        # answers scripted for the next calls (``fail_next``).
        self.personal_api_key = personal_api_key
        self.project_id = project_id
        self.persons: dict[str, list[str]] = {}
        self.api_calls: list[dict[str, Any]] = []
        self._scripted: list[tuple[int, dict[str, Any]]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def _send_json(self, status: int, body: dict[str, Any] | None) -> None:
                payload = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                if body is not None:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _persons_api(self, method: str) -> None:
                url = urlsplit(self.path)
                query = {key: values[-1] for key, values in parse_qs(url.query).items()}
                auth = self.headers.get("Authorization") or ""
                match = _PERSONS.match(url.path)
                with server._lock:
                    server.api_calls.append(
                        {"method": method, "path": url.path, "query": query, "auth": auth}
                    )
                    scripted = server._scripted.pop(0) if match and server._scripted else None
                if match is None:
                    return self._send_json(404, _error("not_found", "Not found."))
                if scripted is not None:
                    return self._send_json(*scripted)
                if auth != f"Bearer {server.personal_api_key}":
                    return self._send_json(
                        401, _error("authentication_failed", "Invalid personal API key.")
                    )
                if match["project"] != server.project_id:
                    return self._send_json(404, _error("not_found", "Project not found."))
                person = match["person"]
                with server._lock:
                    if method == "DELETE" and person:
                        gone = server.persons.pop(person, None)
                        return self._send_json(
                            404 if gone is None else 204,
                            _error("not_found", "Not found.") if gone is None else None,
                        )
                    if method == "GET" and not person:
                        wanted = query.get("distinct_id")
                        results = [
                            _person(pid, ids)
                            for pid, ids in server.persons.items()
                            if wanted is None or wanted in ids
                        ]
                        return self._send_json(
                            200, {"next": None, "previous": None, "results": results}
                        )
                return self._send_json(405, _error("method_not_allowed", "Not allowed."))

            def do_GET(self) -> None:
                self._persons_api("GET")

            def do_DELETE(self) -> None:
                self._persons_api("DELETE")

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("Content-Encoding") == "gzip":
                    raw = gzip.decompress(raw)
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"_unparsed": raw.decode(errors="replace")}
                with server._lock:
                    server.paths.append(self.path)
                    server.batches.append(body)
                payload = b'{"status": 1}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> PostHogCaptureServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            found = [
                event
                for batch in self.batches
                for event in (batch.get("batch") or [batch])
                if isinstance(event, dict)
            ]
        return [e for e in found if name is None or e.get("event") == name]

    def add_person(self, *distinct_ids: str) -> str:
        """A person known by ``distinct_ids``; returns its id (a UUID, as PostHog's)."""
        person_id = str(uuid.uuid4())
        with self._lock:
            self.persons[person_id] = list(distinct_ids)
        return person_id

    def fail_next(self, status: int = 503, *, times: int = 1, detail: str = "down") -> None:
        """The next ``times`` calls to the private API answer ``status``."""
        with self._lock:
            self._scripted.extend([(status, _error("server_error", detail))] * times)

    def person_calls(self, method: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [c for c in self.api_calls if method is None or c["method"] == method]

    def wait_for(self, name: str, *, count: int = 1, timeout: float = 10) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.events(name)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(
            f"PostHog got {len(self.events(name))} {name!r} events, wanted {count}"
        )


def _error(code: str, detail: str) -> dict[str, Any]:
    return {"type": "invalid_request", "code": code, "detail": detail, "attr": None}


def _person(person_id: str, distinct_ids: list[str]) -> dict[str, Any]:
    return {
        "id": person_id,
        "uuid": person_id,
        "name": distinct_ids[0] if distinct_ids else person_id,
        "distinct_ids": list(distinct_ids),
        "properties": {},
        "created_at": "2026-01-01T00:00:00Z",
    }
