"""Fit the conversation sent to the model into a token budget.

Always kept: the system prompt and the current run (the newest human message and
everything after it: the model's tool calls and their results). Older turns are added
newest first, whole turns only, while they fit. If the current run alone is too big, tool
results are shortened first, then the request itself.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

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


def _shortened(message: BaseMessage, *, max_tokens: int) -> BaseMessage:
    if estimate_tokens(message) <= max_tokens or not isinstance(message.content, str):
        return message
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
