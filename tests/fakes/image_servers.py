"""Local Replicate and Pollinations image APIs that tests script, so the real clients run.

``ReplicateServer`` speaks Replicate's predictions API: ``POST
/v1/models/{owner}/{name}/predictions`` (Bearer auth, ``Prefer: wait``) answers a
prediction ``{id, model, input, status, output, error, urls: {get, cancel}}``;
``GET /v1/predictions/{id}`` polls it; the output URL (``/files/{id}.<ext>``, no auth, as
on replicate.delivery) serves the image. Each create takes the next ``PredictionScript``:
succeed at once or after N polls, end failed/canceled with an error, answer an HTTP
error (500, or a 422 refusal with a ``detail``), hold the reply (slow), or send its
headers and then drip the body a byte at a time (only a total deadline ends that).

``PollinationsServer`` speaks ``GET /prompt/{prompt}?width=&height=&model=&seed=&nologo=``
and answers the next ``ImageReply``: an image (by default a JPEG of another size than
asked), an HTTP error, a page that is not an image, or a slow reply.

With no script left, both answer 500 "no scripted reply left". Every request is recorded
(method, path, query, lower-cased headers, JSON body). The images are solid colours
(``REPLICATE_COLOUR``, ``POLLINATIONS_COLOUR``) so a test can tell whose image it got.
"""

from __future__ import annotations

import io
import json
import threading
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

from PIL import Image

REPLICATE_COLOUR = (200, 30, 40)
POLLINATIONS_COLOUR = (30, 60, 200)


def make_image(
    *, size: tuple[int, int], colour: tuple[int, int, int], image_format: str = "PNG"
) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=image_format)
    return out.getvalue()


@dataclass(frozen=True, kw_only=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any = None


@dataclass(kw_only=True)
class PredictionScript:
    """How the fake Replicate answers one prediction."""

    # The poll that reports the final status; 0: the create already does (``Prefer: wait``
    # finished in time). Before it, the create says "starting" and polls "processing".
    after_polls: int = 0
    status: str = "succeeded"  # the final status: succeeded, failed or canceled
    error: str | None = None  # the prediction's ``error`` when it failed
    # An HTTP error instead of a prediction (with ``detail`` in the body, as Replicate does).
    http_status: int = 201
    detail: str = "scripted failure"
    delay_s: float = 0.0  # hold the create reply this long
    drip_interval_s: float = 0.0  # send the create's headers, then its body byte by byte
    output_as_list: bool = True  # flux-schnell answers a list of URLs
    image: bytes = field(
        default_factory=lambda: make_image(size=(1024, 576), colour=REPLICATE_COLOUR)
    )
    image_content_type: str = "image/png"

    @classmethod
    def succeed(cls, **fields: Any) -> PredictionScript:
        return cls(**fields)

    @classmethod
    def succeed_after(cls, polls: int, **fields: Any) -> PredictionScript:
        return cls(after_polls=polls, **fields)

    @classmethod
    def fail(cls, error: str = "CUDA out of memory", **fields: Any) -> PredictionScript:
        return cls(status="failed", error=error, **fields)

    @classmethod
    def http_error(cls, status: int = 500, **fields: Any) -> PredictionScript:
        return cls(http_status=status, detail="Internal server error", **fields)

    @classmethod
    def refuse(cls, detail: str = "NSFW content detected", **fields: Any) -> PredictionScript:
        return cls(http_status=422, detail=detail, **fields)

    @classmethod
    def slow(cls, delay_s: float = 5.0, **fields: Any) -> PredictionScript:
        return cls(delay_s=delay_s, **fields)

    @classmethod
    def drip(cls, interval_s: float = 0.05, **fields: Any) -> PredictionScript:
        return cls(drip_interval_s=interval_s, **fields)


@dataclass(kw_only=True)
class ImageReply:
    """How the fake Pollinations answers one request."""

    status: int = 200
    body: bytes = field(
        default_factory=lambda: make_image(
            size=(1024, 768), colour=POLLINATIONS_COLOUR, image_format="JPEG"
        )
    )
    content_type: str = "image/jpeg"
    delay_s: float = 0.0

    @classmethod
    def ok(cls, **fields: Any) -> ImageReply:
        return cls(**fields)

    @classmethod
    def http_error(cls, status: int = 500) -> ImageReply:
        return cls(status=status, body=b"Internal Server Error", content_type="text/plain")

    @classmethod
    def not_image(cls) -> ImageReply:
        return cls(body=b"<html>rate limited</html>", content_type="text/html")

    @classmethod
    def slow(cls, delay_s: float = 5.0) -> ImageReply:
        return cls(delay_s=delay_s)


ScriptT = TypeVar("ScriptT")


class _Server(ThreadingHTTPServer):
    request_queue_size = 128


class _ScriptedServer(Generic[ScriptT]):
    """Lifecycle, the script queue and the request log shared by both fakes."""

    def __init__(self, *, host: str = "127.0.0.1") -> None:
        self.requests: list[RecordedRequest] = []
        self._queue: deque[ScriptT] = deque()
        self._lock = threading.Lock()
        # Set on stop: releases replies held back (slow, drip) so their threads end.
        self.stopped = threading.Event()
        self._httpd = _Server((host, 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> _ScriptedServer[ScriptT]:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def script(self, replies: Iterable[ScriptT]) -> None:
        """Queue replies, consumed one per request in order."""
        with self._lock:
            self._queue.extend(replies)

    def reset(self) -> None:
        """Forget the queue and the request log (between examples of a property test)."""
        with self._lock:
            self._queue.clear()
            self.requests.clear()

    def _next(self) -> ScriptT | None:
        with self._lock:
            return self._queue.popleft() if self._queue else None

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _handle(self, handler: _Handler, request: RecordedRequest) -> None:
        raise NotImplementedError

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(_Handler):
            def _dispatch(self, method: str) -> None:
                url = urlsplit(self.path)
                body: Any = None
                length = int(self.headers.get("Content-Length", "0"))
                if length:
                    raw = self.rfile.read(length)
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        body = raw
                request = RecordedRequest(
                    method=method,
                    path=unquote(url.path),
                    query={k: v[-1] for k, v in parse_qs(url.query).items()},
                    headers={k.lower(): v for k, v in self.headers.items()},
                    json=body,
                )
                server._record(request)
                server._handle(self, request)

            def do_GET(self) -> None:
                self._dispatch("GET")

            def do_POST(self) -> None:
                self._dispatch("POST")

        return Handler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: with Nagle on, a keep-alive client's
    # delayed ACK holds each reply ~40 ms.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        return

    def handle(self) -> None:
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up on a reply (a deadline passed): nothing to tell it

    def send_body(
        self,
        status: int,
        body: bytes,
        content_type: str,
        *,
        drip_interval_s: float = 0.0,
        stopped: threading.Event | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not drip_interval_s:
            self.wfile.write(body)
            return
        self.wfile.flush()
        for byte in body:
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            if stopped is not None and stopped.wait(drip_interval_s):
                self.close_connection = True
                return

    def send_json(self, status: int, payload: Any, **options: Any) -> None:
        self.send_body(status, json.dumps(payload).encode(), "application/json", **options)


@dataclass
class _Prediction:
    id: str
    model: str
    input: dict[str, Any]
    script: PredictionScript
    polls: int = 0


class ReplicateServer(_ScriptedServer[PredictionScript]):
    def __init__(self, *, api_token: str = "r8_test_token", host: str = "127.0.0.1") -> None:
        self.api_token = api_token
        self._predictions: dict[str, _Prediction] = {}
        super().__init__(host=host)

    def start(self) -> ReplicateServer:
        super().start()
        return self

    def requests_to(self, path_prefix: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path.startswith(path_prefix)]

    def _handle(self, handler: _Handler, request: RecordedRequest) -> None:
        parts = request.path.strip("/").split("/")
        if parts[:1] == ["files"] and request.method == "GET":
            self._serve_file(handler, parts[-1].partition(".")[0])
            return
        if request.headers.get("authorization") != f"Bearer {self.api_token}":
            handler.send_json(
                401,
                {
                    "title": "Unauthenticated",
                    "detail": "You did not pass a valid authentication token",
                    "status": 401,
                },
            )
            return
        if request.method == "POST" and len(parts) == 5 and parts[0:2] == ["v1", "models"]:
            self._create(handler, request, model=f"{parts[2]}/{parts[3]}")
        elif request.method == "GET" and len(parts) == 3 and parts[0:2] == ["v1", "predictions"]:
            self._poll(handler, parts[2])
        else:
            handler.send_json(404, {"title": "Not found", "detail": "Not found.", "status": 404})

    def _create(self, handler: _Handler, request: RecordedRequest, *, model: str) -> None:
        script = self._next()
        if script is None:
            script = PredictionScript.http_error(500)
            script.detail = "no scripted reply left"
        if script.delay_s and self.stopped.wait(script.delay_s):
            return
        if script.http_status >= 400:
            title = "Unprocessable Entity" if script.http_status == 422 else "Error"
            handler.send_json(
                script.http_status,
                {"title": title, "detail": script.detail, "status": script.http_status},
            )
            return
        body = request.json if isinstance(request.json, dict) else {}
        prediction = _Prediction(
            id=uuid.uuid4().hex[:20], model=model, input=body.get("input") or {}, script=script
        )
        with self._lock:
            self._predictions[prediction.id] = prediction
        handler.send_json(
            201,
            self._prediction_json(prediction),
            drip_interval_s=script.drip_interval_s,
            stopped=self.stopped,
        )

    def _poll(self, handler: _Handler, prediction_id: str) -> None:
        with self._lock:
            prediction = self._predictions.get(prediction_id)
            if prediction is not None:
                prediction.polls += 1
        if prediction is None:
            handler.send_json(404, {"title": "Not found", "detail": "Not found.", "status": 404})
            return
        handler.send_json(200, self._prediction_json(prediction))

    def _serve_file(self, handler: _Handler, prediction_id: str) -> None:
        with self._lock:
            prediction = self._predictions.get(prediction_id)
        if prediction is None or prediction.script.status != "succeeded":
            handler.send_body(404, b"Not found", "text/plain")
            return
        script = prediction.script
        handler.send_body(200, script.image, script.image_content_type)

    def _prediction_json(self, prediction: _Prediction) -> dict[str, Any]:
        script = prediction.script
        done = prediction.polls >= script.after_polls
        status = script.status if done else ("starting" if prediction.polls == 0 else "processing")
        output: Any = None
        if done and status == "succeeded":
            extension = script.image_content_type.rpartition("/")[2]
            url = f"{self.base_url}/files/{prediction.id}.{extension}"
            output = [url] if script.output_as_list else url
        api = f"{self.base_url}/v1/predictions/{prediction.id}"
        return {
            "id": prediction.id,
            "model": prediction.model,
            "version": "hidden",
            "input": prediction.input,
            "logs": "",
            "status": status,
            "output": output,
            "error": script.error if done and status == "failed" else None,
            "urls": {"get": api, "cancel": f"{api}/cancel"},
        }


class PollinationsServer(_ScriptedServer[ImageReply]):
    def start(self) -> PollinationsServer:
        super().start()
        return self

    def _handle(self, handler: _Handler, request: RecordedRequest) -> None:
        if request.method != "GET" or not request.path.startswith("/prompt/"):
            handler.send_body(404, b"Not found", "text/plain")
            return
        reply = self._next() or ImageReply(
            status=500, body=b"no scripted reply left", content_type="text/plain"
        )
        if reply.delay_s and self.stopped.wait(reply.delay_s):
            return
        handler.send_body(reply.status, reply.body, reply.content_type)
