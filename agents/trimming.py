"""Fit the conversation sent to the model into a token budget.

Always kept: the system prompt and the current run (the newest human message and
everything after it: the model's tool calls and their results). Older turns are added
newest first, whole turns only, while they fit. If the current run alone is too big, tool
results are shortened first, then the request itself. A tool result is shortened as JSON
(its longest lists cut, then its longest strings, with a note of what was cut) so the model
still reads valid, labelled data; only what is not JSON is cut as text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from agents.prompts import quoted_tool_result, tool_result_json

# Role markers and separators a chat template adds around each message.
MESSAGE_OVERHEAD_TOKENS = 4
TRUNCATION_MARK = " …[truncated]"


def estimate_tokens(message: BaseMessage) -> int:
    """About four characters per token, plus the message's template overhead."""
    text = message.content if isinstance(message.content, str) else json.dumps(message.content)
    size = len(text)
    if isinstance(message, AIMessage) and message.tool_calls:
        size += len(json.dumps(message.tool_calls, default=str))
    return -(-size // 4) + MESSAGE_OVERHEAD_TOKENS


def count_tokens(messages: Sequence[BaseMessage]) -> int:
    return sum(estimate_tokens(m) for m in messages)


SHORTENED_KEY = "_shortened"
LONG_STRING_CHARS = 200


def _lists(value: Any, path: str = "") -> list[tuple[str, list[Any]]]:
    found: list[tuple[str, list[Any]]] = []
    if isinstance(value, list):
        found.append((path or "(top)", value))
        for index, item in enumerate(value):
            found += _lists(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            found += _lists(item, f"{path}.{key}" if path else str(key))
    return found


def _cut_strings(value: Any, limit: int) -> Any:
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + "…"
    if isinstance(value, list):
        return [_cut_strings(item, limit) for item in value]
    if isinstance(value, dict):
        return {key: _cut_strings(item, limit) for key, item in value.items()}
    return value


def shrink_json(payload: dict[str, Any], *, max_chars: int) -> dict[str, Any]:
    """``payload`` cut to about ``max_chars`` of JSON: the longest list halved until it fits
    (its first items kept: tools list their most relevant first), then long strings cut;
    ``_shortened`` says what was cut."""
    value = json.loads(json.dumps(payload, ensure_ascii=False))
    notes: dict[str, str] = {}
    originals: dict[str, int] = {}

    def size() -> int:
        return len(json.dumps(value, ensure_ascii=False))

    while size() > max_chars:
        candidates = [(p, items) for p, items in _lists(value) if len(items) > 1]
        if not candidates:
            break
        path, items = max(candidates, key=lambda c: len(json.dumps(c[1], ensure_ascii=False)))
        originals.setdefault(path, len(items))
        del items[max(1, len(items) // 2) :]
        notes[path] = f"{len(items)} of {originals[path]} items kept"
    if size() > max_chars:
        value = _cut_strings(value, LONG_STRING_CHARS)
        notes["strings"] = f"texts over {LONG_STRING_CHARS} characters cut"
    if notes:
        value[SHORTENED_KEY] = notes
    return value


def _shortened_tool_result(message: BaseMessage, *, max_chars: int) -> BaseMessage | None:
    """The tool result as JSON cut to size, or None when it is not a JSON object."""
    if not isinstance(message.content, str):
        return None
    try:
        payload = json.loads(tool_result_json(message.content))
    except json.JSONDecodeError:
        return None
    if not isinstance(payload, dict):
        return None
    name = getattr(message, "name", None) or "tool"
    overhead = len(quoted_tool_result(name=name, payload={}))
    shrunk = shrink_json(payload, max_chars=max(100, max_chars - overhead))
    content = quoted_tool_result(name=name, payload=shrunk)
    if len(content) > max_chars:
        return None
    return message.model_copy(update={"content": content})


def _shortened(message: BaseMessage, *, max_tokens: int) -> BaseMessage:
    if estimate_tokens(message) <= max_tokens or not isinstance(message.content, str):
        return message
    if message.type == "tool":
        max_chars = (max_tokens - MESSAGE_OVERHEAD_TOKENS) * 4
        shortened = _shortened_tool_result(message, max_chars=max_chars)
        if shortened is not None:
            return shortened
    keep_chars = max(0, (max_tokens - MESSAGE_OVERHEAD_TOKENS) * 4 - len(TRUNCATION_MARK))
    return message.model_copy(update={"content": message.content[:keep_chars] + TRUNCATION_MARK})


def _fit_current_run(current: list[BaseMessage], *, budget: int) -> list[BaseMessage]:
    if count_tokens(current) <= budget:
        return current
    for shrinkable in (lambda m: m.type == "tool", lambda m: m.type == "human"):
        fixed = sum(estimate_tokens(m) for m in current if not shrinkable(m))
        flexible = [m for m in current if shrinkable(m)]
        if not flexible:
            continue
        share = max(MESSAGE_OVERHEAD_TOKENS, (budget - fixed) // len(flexible))
        current = [_shortened(m, max_tokens=share) if shrinkable(m) else m for m in current]
        if count_tokens(current) <= budget:
            break
    return current


def trim_history(
    *, system: SystemMessage, messages: Sequence[BaseMessage], budget: int
) -> list[BaseMessage]:
    history = [m for m in messages if not isinstance(m, SystemMessage)]
    start = max((i for i, m in enumerate(history) if isinstance(m, HumanMessage)), default=0)
    remaining = budget - estimate_tokens(system)
    current = _fit_current_run(history[start:], budget=remaining)
    remaining -= count_tokens(current)
    # Whole earlier turns, newest first, so no tool result loses the call it answers.
    turns: list[list[BaseMessage]] = []
    for message in history[:start]:
        if isinstance(message, HumanMessage) or not turns:
            turns.append([])
        turns[-1].append(message)
    kept: list[BaseMessage] = []
    for turn in reversed(turns):
        if not isinstance(turn[0], HumanMessage):
            break
        cost = count_tokens(turn)
        if cost > remaining:
            break
        kept = turn + kept
        remaining -= cost
    return [system, *kept, *current]
