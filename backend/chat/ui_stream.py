"""The Vercel AI SDK (v6) UI message stream: a second rendering of a run's event log.

Each run event becomes zero or more UI message chunks, sent as SSE ``data:`` lines and
closed by ``data: [DONE]``. Only fields the SDK's chunk schema accepts are used.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from agents.context import MODEL_CALL
from backend.chat.answers import assistant_message_id
from backend.runs.eventlog import Event
from backend.runs.sse import Tail

HEADERS = {
    "x-vercel-ai-ui-message-stream": "v1",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
    "Content-Encoding": "identity",
}


def chunk(part: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(part, separators=(',', ':'), default=str)}\n\n".encode()


DONE = b"data: [DONE]\n\n"


class UiStreamTranslator:
    """Stateful: tracks open text parts and whether a step is open."""

    def __init__(
        self, *, run_id: str, session_id: str | None, message_id: str | None = None
    ) -> None:
        self.run_id = run_id
        self.message_id = message_id
        self.session_id = session_id
        self.open_text: str | None = None
        self.text_seen: dict[str, bool] = {}
        self.step_open = False
        self.text_generation = 0
        self.denied: set[str] = set()

    def start(self) -> list[dict[str, Any]]:
        part: dict[str, Any] = {
            "type": "start",
            "messageMetadata": {"run_id": self.run_id, "session_id": self.session_id},
        }
        if self.message_id:  # the server's id of the answer: what regenerate names
            part["messageId"] = self.message_id
        return [part]

    def _text_id(self, message_id: str) -> str:
        return f"{message_id}:{self.text_generation}"

    def _close_text(self) -> list[dict[str, Any]]:
        if self.open_text is None:
            return []
        part = {"type": "text-end", "id": self.open_text}
        self.open_text = None
        return [part]

    def _open_step(self) -> list[dict[str, Any]]:
        if self.step_open:
            return []
        self.step_open = True
        return [{"type": "start-step"}]

    def _close_step(self) -> list[dict[str, Any]]:
        parts = self._close_text()
        if self.step_open:
            self.step_open = False
            parts.append({"type": "finish-step"})
        return parts

    def translate(self, event: Event) -> list[dict[str, Any]]:
        data = event.data
        kind = event.type
        if kind == "run.started":
            return [*self._open_step(), {"type": "data-run", "id": "run", "data": data}]
        if kind == "plan":
            return [*self._open_step(), {"type": "data-plan", "data": data}]
        if kind == "tool.started":
            return [
                *self._close_text(),
                *self._open_step(),
                {
                    "type": "tool-input-available",
                    "toolCallId": data["call_id"],
                    "toolName": data["name"],
                    "input": data.get("args", {}),
                },
            ]
        if kind == "tool.progress":
            return [{"type": "data-progress", "id": f"progress:{data['call_id']}", "data": data}]
        if kind == "tool.completed":
            return [
                {
                    "type": "tool-output-available",
                    "toolCallId": data["call_id"],
                    "output": data.get("output"),
                }
            ]
        if kind == "approval.requested":
            return [
                *self._close_text(),
                *self._open_step(),
                {
                    "type": "tool-input-available",
                    "toolCallId": data["call_id"],
                    "toolName": data["name"],
                    "input": data.get("args", {}),
                },
                {
                    "type": "tool-approval-request",
                    "approvalId": data["approval_id"],
                    "toolCallId": data["call_id"],
                },
                {"type": "data-approval", "id": f"approval:{data['approval_id']}", "data": data},
            ]
        if kind == "approval.resolved":
            if data.get("approved"):
                if data.get("name") == MODEL_CALL:  # its part ends here; the text follows
                    return [
                        {
                            "type": "tool-output-available",
                            "toolCallId": data["call_id"],
                            "output": {"approved": True},
                        }
                    ]
                return []
            self.denied.add(str(data["call_id"]))
            return [{"type": "tool-output-denied", "toolCallId": data["call_id"]}]
        if kind == "run.waiting":
            # The stream closes while the run waits; the answer's POST streams the rest.
            return [
                *self._close_step(),
                {
                    "type": "finish",
                    "messageMetadata": {
                        "run_id": self.run_id,
                        "session_id": self.session_id,
                        "waiting": data,
                    },
                },
            ]
        if kind == "tool.failed":
            if str(data["call_id"]) in self.denied:
                return []  # shown as denied already
            error = data.get("error") or {}
            return [
                {
                    "type": "tool-output-error",
                    "toolCallId": data["call_id"],
                    "errorText": f"{error.get('code', 'TOOL_ERROR')}: {error.get('message', '')}",
                }
            ]
        if kind == "step.completed":
            return self._close_step()
        if kind == "message.delta":
            parts = self._open_step()
            text_id = self._text_id(data["message_id"])
            if self.open_text != text_id:
                parts += self._close_text()
                parts.append({"type": "text-start", "id": text_id})
                self.open_text = text_id
            self.text_seen[data["message_id"]] = True
            parts.append({"type": "text-delta", "id": text_id, "delta": data.get("text", "")})
            return parts
        if kind == "message.reset":
            # The UI drops the text of this message streamed so far; new text gets a new id.
            parts = self._close_text()
            self.text_generation += 1
            self.text_seen[data["message_id"]] = False
            return [*parts, {"type": "data-message-reset", "data": data}]
        if kind == "message.completed":
            if self.text_seen.get(data["message_id"]):
                return self._close_text()
            # Replayed from storage: no deltas, so the whole text at once.
            text_id = self._text_id(data["message_id"])
            self.text_seen[data["message_id"]] = True
            return [
                *self._close_text(),
                *self._open_step(),
                {"type": "text-start", "id": text_id},
                {"type": "text-delta", "id": text_id, "delta": data.get("text", "")},
                {"type": "text-end", "id": text_id},
            ]
        if kind == "usage":
            return [{"type": "data-usage", "id": "usage", "data": data}]
        if kind == "guard.warning":
            return [{"type": "data-guard-warning", "data": data}]
        if kind == "stream.reset":
            return [{"type": "data-stream-reset", "data": {}}]
        if kind == "run.completed":
            return [
                *self._close_step(),
                {
                    "type": "finish",
                    "messageMetadata": {
                        "run_id": self.run_id,
                        "session_id": self.session_id,
                        "usage": data.get("usage"),
                    },
                },
            ]
        if kind == "run.failed":
            error = data.get("error") or {}
            return [
                *self._close_step(),
                {"type": "error", "errorText": f"{error.get('code')}: {error.get('message')}"},
            ]
        if kind == "run.cancelled":
            return [*self._close_step(), {"type": "abort"}]
        return []


async def ui_stream_body(
    *, run_id: str, session_id: str | None, after_seq: int = 0, waits_over_through: int = 0
) -> AsyncIterator[bytes]:
    """The run's stream from after ``after_seq``; it ends with the run, or when the run
    stops to wait for an approval. A ``run.waiting`` up to ``waits_over_through`` is a wait
    already over (replayed from the start of a run that went on): it is passed over."""
    translator = UiStreamTranslator(
        run_id=run_id, session_id=session_id, message_id=assistant_message_id(run_id)
    )
    for part in translator.start():
        yield chunk(part)
    # One write per group of events the log returned (each write is a trip through
    # Django's and uvicorn's send path; a run's ~20 events came to ~40 writes one by one).
    async for batch in Tail(run_id=run_id, after_seq=after_seq).batches():
        if batch is None:
            yield b": ping\n\n"
            continue
        out: list[bytes] = []
        ended = False
        for event in batch:
            if event.type == "run.waiting" and event.seq <= waits_over_through:
                continue
            out.extend(chunk(part) for part in translator.translate(event))
            if event.type == "run.waiting" or event.is_terminal:
                ended = True
                break
        if ended:
            yield b"".join([*out, DONE])
            return
        if out:
            yield b"".join(out)
    yield DONE
