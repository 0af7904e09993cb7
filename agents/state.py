"""The graph's state. ``InputState`` is the public interface: a run starts from messages."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

from langchain_core.messages import AnyMessage
from langchain_core.messages.tool import ToolCall
from langgraph.graph.message import add_messages


class PlannedToolCall(TypedDict):
    call_id: str
    name: str
    args: dict[str, Any]


class ToolError(TypedDict):
    code: str
    message: str


class ToolResult(TypedDict):
    call_id: str
    name: str
    args: dict[str, Any]
    step: int
    ok: bool
    output: dict[str, Any] | None
    error: ToolError | None
    duration_ms: int


class UsageTotals(TypedDict):
    input_tokens: int
    output_tokens: int
    cost_usd: float


def zero_usage() -> UsageTotals:
    return UsageTotals(input_tokens=0, output_tokens=0, cost_usd=0.0)


def add_usage(left: UsageTotals | None, right: UsageTotals | None) -> UsageTotals:
    left = left or zero_usage()
    right = right or zero_usage()
    return UsageTotals(
        input_tokens=left["input_tokens"] + right["input_tokens"],
        output_tokens=left["output_tokens"] + right["output_tokens"],
        cost_usd=left["cost_usd"] + right["cost_usd"],
    )


class InputState(TypedDict):
    """What a caller sends: the new message(s) of a chat turn."""

    messages: Annotated[list[AnyMessage], add_messages]


class State(InputState, total=False):
    # The latest plan: the tool calls the model chose (empty = it answered directly).
    plan: list[PlannedToolCall]
    # This run's tool results, in completion order; reset when a new run starts.
    tool_results: Annotated[list[ToolResult], operator.add]
    # This run's model usage (the agent's calls and the tools' own), reset per run.
    usage: Annotated[UsageTotals, add_usage]
    # Plan rounds that called tools in this run.
    steps: int


class ToolTask(TypedDict):
    """The private input of one ``tools`` task, sent with ``Send``."""

    call: ToolCall
    step: int
