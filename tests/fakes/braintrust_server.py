"""A local Braintrust API: the endpoints the ``braintrust`` Python SDK calls to log in,
register a project and an experiment, upload rows and summarize them, so the real SDK runs
against it over HTTP (``braintrust.init(app_url=server.url, api_key=server.api_key, ...)``).

Written against braintrust 0.47.0 by pointing it at a server that logged every request.
It serves the app and the API from one address (the login answers ``api_url`` = its own):

- ``POST /api/apikey/login`` -> ``{"org_info": [{"id", "name", "api_url", "proxy_url"}]}``
- ``POST /v1/project`` ``{"name", "org_name"}`` -> the project; an existing name returns
  the existing one, as Braintrust does.
- ``POST /v1/experiment`` ``{"project_id", "name", "ensure_new", "repo_info", "metadata",
  "public", ...}`` -> the experiment; an existing name returns the existing one unmodified,
  or with ``ensure_new`` a new one named ``<name>-<n>``.
- ``GET /version`` -> ``{"logs3_payload_max_bytes"}`` (the row logger's request size).
- ``POST /logs3`` ``{"rows": [...], "api_version": 2}`` (body sent without a content type)
  -> rows kept per experiment by ``id``: a row replaces the one with its id, or with
  ``_is_merge`` is deep-merged into it.
- ``GET /v1/experiment/{id}/summarize?summarize_scores=true`` -> each score's mean over
  the experiment's rows (no comparison experiment: ``diff`` absent, 0 improvements and
  regressions).

Every request needs ``Authorization: Bearer <api_key>`` (else 401 as Braintrust answers a
bad key). Every request is recorded in ``.requests``; one to any other endpoint is answered
404 and also listed in ``.unknown``, so a test sees when a new SDK calls something new.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

SDK_VERSION = "0.47.0"
LOGS3_PAYLOAD_MAX_BYTES = 6 * 1024 * 1024
SUMMARIZE_PATH = re.compile(r"/v1/experiment/(?P<experiment_id>[^/]+)/summarize")


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    authorization: str | None


@dataclass
class FakeExperiment:
    id: str
    name: str
    project_id: str
    info: dict[str, Any]
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)


def _deep_merge(into: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = dict(into)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class BraintrustServer:
    def __init__(self, *, api_key: str = "sk-test-braintrust", org_name: str = "insightstream"):
        self.api_key = api_key
        self.org_name = org_name
        self.org_id = str(uuid.uuid4())
        self.requests: list[RecordedRequest] = []
        self.unknown: list[RecordedRequest] = []
        self.projects: dict[str, dict[str, Any]] = {}  # by name
        self.experiments: dict[str, FakeExperiment] = {}  # by id
        # Answer POST /logs3 with this status instead of storing rows (tests of a failed upload).
        self.fail_logs3_status: int | None = None
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server._handle(self)

            def do_POST(self) -> None:
                server._handle(self)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A short poll so stop() returns at once (the default waits up to 0.5 s).
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> BraintrustServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    # --- what tests look at

    def experiments_in(self, project_name: str) -> list[FakeExperiment]:
        with self._lock:
            project = self.projects.get(project_name)
            return [
                e for e in self.experiments.values() if project and e.project_id == project["id"]
            ]

    def paths(self) -> list[str]:
        with self._lock:
            return [f"{r.method} {r.path}" for r in self.requests]

    # --- the protocol

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        raw = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = {"_unparsed": raw.decode(errors="replace")}
        parts = urlsplit(handler.path)
        request = RecordedRequest(
            method=handler.command,
            path=parts.path,
            query=parse_qs(parts.query),
            body=body,
            authorization=handler.headers.get("Authorization"),
        )
        with self._lock:
            self.requests.append(request)
            if request.authorization != f"Bearer {self.api_key}":
                status, answer = 401, {"error": "Invalid API key"}
            else:
                status, answer = self._route(request)
            if status == 404:
                self.unknown.append(request)
        payload = json.dumps(answer).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def _route(self, request: RecordedRequest) -> tuple[int, Any]:
        method, path, body = request.method, request.path, request.body
        if (method, path) == ("POST", "/api/apikey/login"):
            return 200, {"org_info": [self._org_info()]}
        if (method, path) == ("GET", "/version"):
            return 200, {"logs3_payload_max_bytes": LOGS3_PAYLOAD_MAX_BYTES}
        if (method, path) == ("POST", "/v1/project"):
            return self._register_project(body)
        if (method, path) == ("POST", "/v1/experiment"):
            return self._register_experiment(body)
        if (method, path) == ("POST", "/logs3"):
            return self._logs3(body)
        summarize = SUMMARIZE_PATH.fullmatch(path)
        if method == "GET" and summarize:
            return self._summarize(summarize["experiment_id"])
        return 404, {"error": f"the fake Braintrust has no {method} {path}"}

    def _org_info(self) -> dict[str, Any]:
        return {
            "id": self.org_id,
            "name": self.org_name,
            "api_url": self.url,
            "proxy_url": self.url,
            "git_metadata": None,
        }

    def _register_project(self, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("name"), str):
            return 400, {"error": "name is required"}
        project = self.projects.get(body["name"])
        if project is None:
            project = {"id": str(uuid.uuid4()), "name": body["name"], "org_id": self.org_id}
            self.projects[body["name"]] = project
        return 200, project

    def _register_experiment(self, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("project_id"), str):
            return 400, {"error": "project_id is required"}
        if body["project_id"] not in {p["id"] for p in self.projects.values()}:
            return 404, {"error": "project not found"}
        existing = {
            e.name: e for e in self.experiments.values() if e.project_id == body["project_id"]
        }
        name = body.get("name") or f"experiment-{len(existing) + 1}"
        if name in existing:
            if not body.get("ensure_new"):
                return 200, existing[name].info
            suffix = 1
            while f"{name}-{suffix}" in existing:
                suffix += 1
            name = f"{name}-{suffix}"
        experiment_id = str(uuid.uuid4())
        info = {
            "id": experiment_id,
            "name": name,
            "project_id": body["project_id"],
            "public": bool(body.get("public", False)),
            "metadata": body.get("metadata"),
            "repo_info": body.get("repo_info"),
            "created": "2026-01-01T00:00:00.000Z",
        }
        self.experiments[experiment_id] = FakeExperiment(
            id=experiment_id, name=name, project_id=body["project_id"], info=info
        )
        return 200, info

    def _logs3(self, body: Any) -> tuple[int, Any]:
        if self.fail_logs3_status is not None:
            return self.fail_logs3_status, {"error": "the fake was told to fail"}
        rows = body.get("rows") if isinstance(body, dict) else None
        if not isinstance(rows, list):
            return 400, {"error": "rows is required"}
        for row in rows:
            experiment = self.experiments.get(row.get("experiment_id") or "")
            if experiment is None or not isinstance(row.get("id"), str):
                return 400, {
                    "error": "each row needs the id of a registered experiment and its own id"
                }
        for row in rows:
            experiment = self.experiments[row["experiment_id"]]
            previous = experiment.rows.get(row["id"])
            is_merge = bool(row.get("_is_merge"))
            stored = {k: v for k, v in row.items() if k != "_is_merge"}
            experiment.rows[row["id"]] = (
                _deep_merge(previous, stored) if is_merge and previous else stored
            )
        return 200, {}

    def _summarize(self, experiment_id: str) -> tuple[int, Any]:
        experiment = self.experiments.get(experiment_id)
        if experiment is None:
            return 404, {"error": "experiment not found"}
        project = next(p for p in self.projects.values() if p["id"] == experiment.project_id)
        values: dict[str, list[float]] = {}
        for row in experiment.rows.values():
            for name, score in (row.get("scores") or {}).items():
                if score is not None:
                    values.setdefault(name, []).append(score)
        project_url = f"{self.url}/app/{quote(self.org_name)}/p/{quote(project['name'])}"
        return 200, {
            "project_name": project["name"],
            "experiment_name": experiment.name,
            "project_url": project_url,
            "experiment_url": f"{project_url}/experiments/{quote(experiment.name)}",
            "comparison_experiment_name": None,
            "scores": {
                name: {
                    "name": name,
                    "score": sum(scores) / len(scores),
                    "improvements": 0,
                    "regressions": 0,
                }
                for name, scores in sorted(values.items())
            },
            "metrics": {},
        }
