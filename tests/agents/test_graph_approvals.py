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
from agents.context import MODEL_CALL
from agents.guard.interface import CallMeta
from agents.prompts import tool_result_json
from agents.tools.base import AgentTool
from tests.agents.conftest import CountingData, RecordingGuard, make_context


class AskAbout:
    """Asks about the tools named and the model calls of the features named; records what
    it was asked."""

    def __init__(self, *names: str, models: tuple[str, ...] = ()) -> None:
        self.names = set(names)
        self.models = set(models)
        self.checked: list[str] = []
        self.model_checks: list[dict[str, Any]] = []

    async def check_tool(
        self, tool: AgentTool[Any, Any], *, args: dict[str, Any], meta: CallMeta
    ) -> dict[str, Any] | None:
        self.checked.append(tool.name)
        assert meta.feature == f"tool:{tool.name}"
        return ASK if tool.name in self.names else None

    async def check_model(
        self, *, meta: CallMeta, prompt_tokens: int, max_tokens: int
    ) -> dict[str, Any] | None:
        self.model_checks.append(
            {"feature": meta.feature, "prompt_tokens": prompt_tokens, "max_tokens": max_tokens}
        )
        return ASK if meta.feature in self.models else None


ASK = {
    "reason": "test",
    "estimate": {"model": "offline", "worst_case_usd": 0.0, "youtube_units": 0},
}


def _context(
    policy: AskAbout, data: CountingData | None = None, guard: RecordingGuard | None = None
) -> Any:
    context = make_context(data=data or CountingData(), guard=guard)
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


async def test_a_model_call_is_asked_about_at_the_guards_own_price_before_it_is_made() -> None:
    guard = RecordingGuard()
    graph = compile_graph(checkpointer=InMemorySaver())
    policy = AskAbout(models=("plan",))
    context = _context(policy, guard=guard)

    [ask] = await _start(graph, context)

    assert ask["name"] == MODEL_CALL and ask["args"]["feature"] == "plan"
    assert guard.reserved == []  # the model was not called
    assert (await graph.aget_state(CONFIG)).next == ("plan",)

    await graph.ainvoke(
        Command(resume={"decisions": {ask["call_id"]: {"approved": True}}}), CONFIG,
        context=context,
    )  # fmt: skip
    # The tools ran; the next plan call (the answer) is asked about under its own id.
    [again] = (await graph.aget_state(CONFIG)).interrupts[0].value["approvals"]
    assert again["call_id"] != ask["call_id"] and again["name"] == MODEL_CALL
    state = await graph.ainvoke(
        Command(resume={"decisions": {again["call_id"]: {"approved": True}}}), CONFIG,
        context=context,
    )  # fmt: skip

    # The estimate counted what the guard then reserved for that very call.
    first = guard.reserved[0]
    assert first["meta"].feature == "plan"
    assert policy.model_checks[0]["prompt_tokens"] == first["prompt_tokens_upper_bound"]
    assert policy.model_checks[0]["max_tokens"] == first["max_tokens"]
    assert len(state["tool_results"]) == 2
    answer = state["messages"][-1]
    assert isinstance(answer, AIMessage) and not answer.tool_calls and answer.text


async def test_a_declined_model_call_is_never_made_and_the_answer_says_so() -> None:
    guard = RecordingGuard()
    data = CountingData()
    graph = compile_graph(checkpointer=InMemorySaver())
    context = _context(AskAbout(models=("plan",)), data, guard=guard)
    [ask] = await _start(graph, context)

    state = await graph.ainvoke(
        Command(resume={"decisions": {ask["call_id"]: {"approved": False, "reason": "later"}}}),
        CONFIG, context=context,
    )  # fmt: skip

    assert guard.reserved == [] and sum(data.calls.values()) == 0
    answer = state["messages"][-1]
    assert isinstance(answer, AIMessage) and "declined" in answer.text and "later" in answer.text
    assert (await graph.aget_state(CONFIG)).interrupts == ()
