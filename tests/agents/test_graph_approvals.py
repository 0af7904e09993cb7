"""Approval before a step: the graph stops with an interrupt before the calls the policy
names, and goes on with the creator's decisions (approve, edit, deny)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from agents import compile_graph
from agents.prompts import tool_result_json
from agents.tools.base import AgentTool
from tests.agents.conftest import CountingData, make_context


class AskAbout:
    """Asks about the tools named; records what it was asked."""

    def __init__(self, *names: str) -> None:
        self.names = set(names)
        self.checked: list[str] = []

    def check(self, tool: AgentTool[Any, Any], *, args: dict[str, Any]) -> dict[str, Any] | None:
        self.checked.append(tool.name)
        if tool.name not in self.names:
            return None
        return {
            "reason": "test",
            "estimate": {"model": "offline", "worst_case_usd": 0.0, "youtube_units": 0},
        }


def _context(policy: AskAbout, data: CountingData | None = None) -> Any:
    context = make_context(data=data or CountingData())
    context.deps = dataclasses.replace(context.deps, approvals=policy)
    return context


CONFIG: Any = {"configurable": {"thread_id": "t"}}
REQUEST = "ideas and hashtags for a home espresso channel"


async def _start(graph: Any, context: Any) -> list[dict[str, Any]]:
    await graph.ainvoke({"messages": [HumanMessage(REQUEST)]}, CONFIG, context=context)
    state = await graph.aget_state(CONFIG)
    [pending] = state.interrupts
    asks: list[dict[str, Any]] = pending.value["approvals"]
    return asks


async def test_the_graph_waits_before_the_named_call_and_runs_nothing() -> None:
    data = CountingData()
    graph = compile_graph(checkpointer=InMemorySaver())
    asks = await _start(graph, _context(AskAbout("hashtags"), data))

    assert [a["name"] for a in asks] == ["hashtags"]
    assert asks[0]["estimate"]["worst_case_usd"] == 0.0 and asks[0]["call_id"]
    state = await graph.aget_state(CONFIG)
    assert state.next == ("approve",)
    # Not even the call that needed no approval ran: the step waits as a whole.
    assert sum(data.calls.values()) == 0
    assert not state.values.get("tool_results")


async def test_approved_with_edited_arguments_runs_with_them() -> None:
    graph = compile_graph(checkpointer=InMemorySaver())
    context = _context(AskAbout("hashtags"))
    [ask] = await _start(graph, context)
    edited = {**ask["args"], "topic": "latte art"}

    state = await graph.ainvoke(
        Command(resume={"decisions": {ask["call_id"]: {"approved": True, "args": edited}}}), CONFIG,
        context=context,
    )  # fmt: skip

    by_name = {r["name"]: r for r in state["tool_results"]}
    assert by_name["hashtags"]["ok"] and by_name["hashtags"]["args"]["topic"] == "latte art"
    assert by_name["content_ideas"]["ok"]
    assert isinstance(state["messages"][-1], AIMessage) and not state["messages"][-1].tool_calls


async def test_a_denial_is_a_tool_result_the_model_sees_and_the_tool_never_runs() -> None:
    data = CountingData()
    graph = compile_graph(checkpointer=InMemorySaver())
    context = _context(AskAbout("content_ideas", "hashtags"), data)
    asks = await _start(graph, context)

    decisions = {a["call_id"]: {"approved": False, "reason": "too pricey"} for a in asks}
    state = await graph.ainvoke(Command(resume={"decisions": decisions}), CONFIG, context=context)

    assert sum(data.calls.values()) == 0
    denied = [m for m in state["messages"] if isinstance(m, ToolMessage)]
    assert len(denied) == 2
    error = json.loads(tool_result_json(denied[0].text))["error"]
    assert error["code"] == "DENIED" and "too pricey" in error["message"]
    assert all(not r["ok"] for r in state["tool_results"])
    answer = state["messages"][-1]
    assert isinstance(answer, AIMessage) and not answer.tool_calls


async def test_an_asked_call_with_no_answer_is_not_run() -> None:
    data = CountingData()
    graph = compile_graph(checkpointer=InMemorySaver())
    context = _context(AskAbout("hashtags"), data)
    await _start(graph, context)

    state = await graph.ainvoke(Command(resume={"decisions": {}}), CONFIG, context=context)

    by_name = {r["name"]: r for r in state["tool_results"]}
    assert by_name["hashtags"]["error"]["code"] == "DENIED"
    assert by_name["content_ideas"]["ok"]


async def test_without_a_policy_nothing_waits() -> None:
    graph = compile_graph(checkpointer=InMemorySaver())
    state = await graph.ainvoke(
        {"messages": [HumanMessage(REQUEST)]}, CONFIG, context=make_context()
    )
    assert (await graph.aget_state(CONFIG)).interrupts == ()
    assert len(state["tool_results"]) == 2
