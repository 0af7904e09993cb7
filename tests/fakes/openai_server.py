"""A local OpenAI-compatible HTTP server that tests script, so the real client runs.

Speaks ``POST /v1/chat/completions`` (streaming SSE and plain JSON, with tool calls and a
final ``usage`` that includes OpenRouter's ``cost``), ``GET /v1/models`` (OpenRouter
style) and ``GET /v1/generation?id=`` (OpenRouter's generation lookup: what a generation
was billed). Replies come from a script: a queue of ``Reply`` objects or a callable taking
the request JSON. Every request is recorded. A reply can be held until a gate opens, or
be an HTTP error (500, 429, ...); a stream can pause before a given chunk (so a test can
cancel it there) or drop the connection there.

``POST /v1/moderations`` answers like OpenAI's moderation endpoint (one result per input
text, every ``omni-moderation`` category with a score): a text containing a word given to
``flag(word, category)`` is flagged in that category, everything else is clean. Its
requests go to ``moderation_requests`` (not ``requests``, which stays the model's);
``moderation_status`` makes it answer an HTTP error and ``moderation_delay_s`` makes it slow.

Billing, like a provider's: a request answered with 200 is billed its reply's ``cost``
(or ``billed_cost``) in full, whether or not the client read the answer to its end.
``billed`` maps each generation id to what it was billed; ``billed_total_usd`` sums it.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

# ``Reply.pause_before_chunk`` / ``drop_before_chunk`` value for "the final usage chunk".
USAGE_CHUNK = -1


@dataclass(kw_only=True)
class ToolCallReply:
    name: str
    arguments: dict[str, Any]
    id: str = field(default_factory=lambda: f"call_{uuid.uuid4().hex[:12]}")


@dataclass(kw_only=True)
class Reply:
    """One scripted answer to one chat-completions request."""

    text: str = ""
    tool_calls: list[ToolCallReply] = field(default_factory=list)
    prompt_tokens: int = 11
    completion_tokens: int = 7
    cost: float | None = 0.00042
    # An HTTP error instead of a completion.
    status: int = 200
    error_message: str = "scripted failure"
    retry_after_s: float | None = None
    # Held until this event is set (or the timeout passes), to test concurrency/cancel.
    gate: threading.Event | None = None
    # Seconds between streamed chunks.
    chunk_delay_s: float = 0.0
    # Streaming: stop before chunk i (0 = the first, after the headers; USAGE_CHUNK = the
    # usage chunk), set ``paused`` and wait for ``resume`` (or the gate timeout).
    pause_before_chunk: int | None = None
    paused: threading.Event = field(default_factory=threading.Event)
    resume: threading.Event = field(default_factory=threading.Event)
    # Streaming: close the connection before chunk i without finishing (an upstream drop).
    drop_before_chunk: int | None = None
    # What the provider bills for this reply, if not ``cost`` (e.g. a cheaper cancel).
    billed_cost: float | None = None


@dataclass(frozen=True, kw_only=True)
class Billing:
    """What the scripted provider billed one generation (its generation lookup answer)."""

    generation_id: str
    cost: Decimal
    prompt_tokens: int
    completion_tokens: int


Script = Callable[[dict[str, Any]], Reply]

# OpenAI's omni-moderation categories and the inputs each applies to.
MODERATION_CATEGORIES: dict[str, list[str]] = {
    "harassment": ["text"],
    "harassment/threatening": ["text"],
    "hate": ["text"],
    "hate/threatening": ["text"],
    "illicit": ["text"],
    "illicit/violent": ["text"],
    "self-harm": ["text", "image"],
    "self-harm/instructions": ["text", "image"],
    "self-harm/intent": ["text", "image"],
    "sexual": ["text", "image"],
    "sexual/minors": ["text"],
    "violence": ["text", "image"],
    "violence/graphic": ["text", "image"],
}


class _Server(ThreadingHTTPServer):
    # socketserver's default backlog is 5: a burst of concurrent calls (the guard race
    # tests send 200) overflowed it and some connections were reset before any reply.
    request_queue_size = 1024


class OpenAIServer:
    def __init__(self, *, host: str = "127.0.0.1", gate_timeout_s: float = 10.0) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.models: list[dict[str, Any]] = [
            {
                "id": "test/model",
                "name": "Test model",
                "context_length": 8192,
                "pricing": {"prompt": "0.000001", "completion": "0.000002"},
            }
        ]
        self.gate_timeout_s = gate_timeout_s
        self._queue: deque[Reply] = deque()
        self._callable: Script | None = None
        self._lock = threading.Lock()
        self.in_flight = 0
        self.arrived = threading.Condition(self._lock)
        self.billed: dict[str, Billing] = {}
        # False: the generation lookup answers 404 for every id (not recorded yet).
        self.generation_lookup = True
        self.generation_lookups: list[str] = []
        # POST /v1/moderations: word -> (category, score) flagged; an HTTP error; a delay.
        self.moderation_requests: list[dict[str, Any]] = []
        self.moderation_flags: dict[str, tuple[str, float]] = {}
        self.moderation_status = 200
        self.moderation_delay_s = 0.0
        self._httpd = _Server((host, 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # -- lifecycle --------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def start(self) -> OpenAIServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    # -- scripting --------------------------------------------------------------------

    def script(self, replies: Iterable[Reply] | Script) -> None:
        """Queue replies (consumed in order) or set a callable that answers every request."""
        with self._lock:
            if callable(replies):
                self._callable = replies
            else:
                self._queue.extend(replies)

    def wait_for_requests(self, count: int, *, timeout_s: float = 5.0) -> bool:
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.requests) >= count, timeout=timeout_s)

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            script = self._callable
        if script is None:
            return Reply(status=500, error_message="no scripted reply left")
        return script(body)

    def _record(self, body: dict[str, Any], headers: dict[str, str]) -> None:
        with self.arrived:
            self.requests.append(body)
            self.headers.append(headers)
            self.arrived.notify_all()

    def _bill(self, reply: Reply) -> str:
        generation_id = f"gen-{uuid.uuid4().hex[:20]}"
        cost = reply.billed_cost if reply.billed_cost is not None else (reply.cost or 0.0)
        with self._lock:
            self.billed[generation_id] = Billing(
                generation_id=generation_id,
                cost=Decimal(str(cost)),
                prompt_tokens=reply.prompt_tokens,
                completion_tokens=reply.completion_tokens,
            )
        return generation_id

    def flag(self, word: str, category: str, *, score: float = 0.97) -> None:
        """Moderation flags every input containing ``word`` (any case) in ``category``."""
        self.moderation_flags[word.lower()] = (category, score)

    def _moderation(self, body: dict[str, Any]) -> dict[str, Any]:
        raw = body.get("input", "")
        items = raw if isinstance(raw, list) else [raw]
        texts = [item.get("text", "") if isinstance(item, dict) else str(item) for item in items]
        results = []
        for text in texts:
            scores = dict.fromkeys(MODERATION_CATEGORIES, 0.0001)
            for word, (category, score) in self.moderation_flags.items():
                if word in text.lower():
                    scores[category] = max(scores.get(category, 0.0), score)
            categories = {name: value >= 0.5 for name, value in scores.items()}
            results.append(
                {
                    "flagged": any(categories.values()),
                    "categories": categories,
                    "category_scores": scores,
                    "category_applied_input_types": {
                        name: MODERATION_CATEGORIES.get(name, ["text"]) for name in scores
                    },
                }
            )
        return {
            "id": f"modr-{uuid.uuid4().hex[:12]}",
            "model": body.get("model", "omni-moderation-latest"),
            "results": results,
        }

    @property
    def billed_total_usd(self) -> Decimal:
        with self._lock:
            return sum((b.cost for b in self.billed.values()), Decimal(0))

    def _generation(self, generation_id: str) -> dict[str, Any] | None:
        with self._lock:
            self.generation_lookups.append(generation_id)
            billing = self.billed.get(generation_id) if self.generation_lookup else None
        if billing is None:
            return None
        return {
            "id": billing.generation_id,
            "total_cost": float(billing.cost),
            "tokens_prompt": billing.prompt_tokens,
            "tokens_completion": billing.completion_tokens,
            "native_tokens_prompt": billing.prompt_tokens,
            "native_tokens_completion": billing.completion_tokens,
            "streamed": True,
            "model": "test/model",
        }

    # -- HTTP -------------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                return

            def _send_json(
                self, status: int, payload: dict[str, Any], extra: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (extra or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path.rstrip("/") == "/v1/models":
                    self._send_json(200, {"data": server.models})
                elif url.path.rstrip("/") == "/v1/generation":
                    generation_id = (parse_qs(url.query).get("id") or [""])[0]
                    found = server._generation(generation_id)
                    if found is None:
                        self._send_json(
                            404, {"error": {"message": "Generation not found", "code": 404}}
                        )
                    else:
                        self._send_json(200, {"data": found})
                else:
                    self._send_json(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path.rstrip("/") == "/v1/moderations":
                    self._moderations(body)
                    return
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send_json(404, {"error": {"message": "not found"}})
                    return
                server._record(body, {k.lower(): v for k, v in self.headers.items()})
                reply = server._next_reply(body)
                if reply.gate is not None:
                    reply.gate.wait(timeout=server.gate_timeout_s)
                if reply.status != 200:
                    extra = {}
                    if reply.retry_after_s is not None:
                        extra["Retry-After"] = str(reply.retry_after_s)
                    self._send_json(
                        reply.status,
                        {"error": {"message": reply.error_message, "code": reply.status}},
                        extra,
                    )
                    return
                generation_id = server._bill(reply)
                if body.get("stream"):
                    self._stream(body, reply, generation_id)
                else:
                    self._send_json(
                        200,
                        _completion(body, reply, generation_id),
                        {"X-Generation-Id": generation_id},
                    )

            def _moderations(self, body: dict[str, Any]) -> None:
                with server._lock:
                    server.moderation_requests.append(
                        {"body": body, "authorization": self.headers.get("Authorization")}
                    )
                if server.moderation_delay_s:
                    time.sleep(server.moderation_delay_s)
                status = server.moderation_status
                try:
                    if status != 200:
                        self._send_json(
                            status,
                            {"error": {"message": "scripted failure", "code": status}},
                            {"Retry-After": "7"} if status in (429, 503) else None,
                        )
                    else:
                        self._send_json(200, server._moderation(body))
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a timeout test)

            def _stream(self, body: dict[str, Any], reply: Reply, generation_id: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                # OpenRouter names the generation in a header too, before any chunk.
                self.send_header("X-Generation-Id", generation_id)
                self.end_headers()
                self.wfile.flush()
                chunks = list(_stream_chunks(body, reply, generation_id))

                def index(at: int | None) -> int | None:
                    return None if at is None else (len(chunks) - 1 if at < 0 else at)

                pause_at, drop_at = index(reply.pause_before_chunk), index(reply.drop_before_chunk)
                try:
                    for position, chunk in enumerate(chunks):
                        if position == pause_at:
                            reply.paused.set()
                            reply.resume.wait(timeout=server.gate_timeout_s)
                        if position == drop_at:
                            self.connection.shutdown(2)  # SHUT_RDWR: no [DONE], no usage
                            break
                        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                        self.wfile.flush()
                        if reply.chunk_delay_s:
                            time.sleep(reply.chunk_delay_s)
                    else:
                        self.wfile.write(b"data: [DONE]\n\n")
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError, OSError):
                    pass  # the client went away (a cancelled call)
                self.close_connection = True

        return Handler


def _usage(reply: Reply) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
        "total_tokens": reply.prompt_tokens + reply.completion_tokens,
    }
    if reply.cost is not None:
        usage["cost"] = reply.cost
    return usage


def _completion(body: dict[str, Any], reply: Reply, generation_id: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
            }
            for call in reply.tool_calls
        ]
    return {
        "id": generation_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "test/model"),
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if reply.tool_calls else "stop",
            }
        ],
        "usage": _usage(reply),
    }


def _stream_chunks(
    body: dict[str, Any], reply: Reply, generation_id: str
) -> Iterable[dict[str, Any]]:
    base = {
        "id": generation_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model", "test/model"),
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    yield chunk({"role": "assistant", "content": ""})
    words = reply.text.split(" ") if reply.text else []
    for index, word in enumerate(words):
        yield chunk({"content": word if index == 0 else f" {word}"})
    for index, call in enumerate(reply.tool_calls):
        yield chunk(
            {
                "tool_calls": [
                    {
                        "index": index,
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
                    }
                ]
            }
        )
    yield chunk({}, "tool_calls" if reply.tool_calls else "stop")
    if (body.get("stream_options") or {}).get("include_usage"):
        yield {**base, "choices": [], "usage": _usage(reply)}
