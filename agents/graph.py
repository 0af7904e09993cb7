"""The agent graph: plan ⇄ [approve →] tools (one task per call, via Send) → answer.

``plan`` lets the model (with the tools bound) choose tool calls or answer directly. Each
tool call runs as its own ``tools`` task in one super-step, so calls run concurrently and
the checkpointer saves each finished call's writes as it finishes: a run resumed from its
checkpoint does not execute them again. After ``max_steps`` rounds of tools, ``respond``
makes the model answer from what it has, with no tools bound.

With an approval policy (``AgentDeps.approvals``), the planned calls go through ``approve``
first: when the policy asks about any of them, the node stops the graph with
``interrupt`` (the run waits, its state in the checkpoint) and goes on with the creator's
decisions once resumed with ``Command(resume={"decisions": {call_id: {approved, args?,
reason?}}})``. It is a node of its own because a resumed node runs again from its start:
nothing in it may have run before the interrupt but the policy's checks. ``plan`` and
``respond`` ask about their own model call the same way before making it (as a call named
``model_call``); declined, the node answers that it stopped instead of calling the model.

Progress goes to LangGraph's custom stream (``stream_mode="custom"``) as dicts with a
``type`` key; tokens go to the ``messages`` stream from the ``plan`` and ``respond`` nodes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.utils.function_calling import convert_to_openai_tool
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command, Overwrite, Send, interrupt

from agents.context import MODEL_CALL, Context
from agents.fallbacks import ANSWERED_BY_KEY, strip_abandoned
from agents.guard.interface import GuardError
from agents.models import COST_METADATA_KEY, prompt_tokens_upper_bound
from agents.prompts import (
    AGENT_SYSTEM_PROMPT,
    QUOTED_DATA_RULE,
    RESPOND_SYSTEM_PROMPT,
    quoted_tool_result,
    workspace_fields,
)
from agents.state import (
    InputState,
    PlannedToolCall,
    State,
    ToolError,
    ToolResult,
    ToolTask,
    UsageTotals,
    zero_usage,
)
from agents.tools import ALL_TOOLS, AgentTool, ToolContext, ToolFailure
from agents.tools.base import ModelUsage, run_inline
from agents.trimming import trim_history


def _answered_by(reply: AIMessage, context: Context) -> str:
    """The model that answered: a fallback chain's may be another than the run's."""
    return str(reply.response_metadata.get(ANSWERED_BY_KEY) or context.model_id)


def _usage_of(message: AIMessage) -> UsageTotals:
    usage: dict[str, Any] = dict(message.usage_metadata or {})
    return UsageTotals(
        input_tokens=int(usage.get("input_tokens", 0)),
        output_tokens=int(usage.get("output_tokens", 0)),
        cost_usd=float(message.response_metadata.get(COST_METADATA_KEY, 0.0)),
    )


def _usage_event(*, feature: str, model: str, usage: UsageTotals) -> dict[str, Any]:
    return {"type": "usage", "feature": feature, "model": model, **usage}


async def _model_call_allowed(
    context: Context,
    *,
    feature: str,
    step: int,
    prompt: list[BaseMessage],
    tools: list[dict[str, Any]] | None = None,
) -> str | None:
    """Ask the policy about the model call about to be made (priced like the guard's own
    reservation); interrupt when it asks. ``None`` to make the call, else why not (the
    creator declined it). Runs first in its node: a resumed node runs again from its start."""
    policy = context.deps.approvals
    if policy is None:
        return None
    check = await policy.check_model(
        meta=context.call_meta(feature=feature),
        prompt_tokens=prompt_tokens_upper_bound(messages=prompt, tools=tools),
        max_tokens=context.max_tokens,
    )
    if check is None:
        return None
    call_id = f"model-{feature}-{step}"
    ask = {
        "call_id": call_id,
        "name": MODEL_CALL,
        "args": {"feature": feature, "model": context.model_id},
    } | check
    answer: dict[str, Any] = interrupt({"approvals": [ask]})
    decision = (answer.get("decisions") or {}).get(call_id) or {"approved": False}
    if decision.get("approved"):
        return None
    return str(decision.get("reason") or "")


def _declined_answer(reason: str) -> AIMessage:
    return AIMessage(
        content="I stopped before calling the model: you declined this step"
        + (f" ({reason})." if reason else ".")
        + " Send another message when you want me to go on."
    )


def _today(context: Context) -> str:
    return context.deps.now().astimezone(UTC).date().isoformat()


def _new_turn(state: State) -> bool:
    """The newest message is the creator's: this is a run's first plan on the thread."""
    messages = state.get("messages") or []
    return bool(messages) and isinstance(messages[-1], HumanMessage)


def _turn_update(update: dict[str, Any], *, new_turn: bool) -> dict[str, Any]:
    """A run's first plan also forgets the previous run's plan, results and usage.

    (Not a node of its own: every super-step costs a checkpoint write, and a node that
    only reset these cost one per run.)"""
    if not new_turn:
        return update
    return {
        **update,
        "plan": update.get("plan", []),
        "tool_results": Overwrite(list(update.get("tool_results", []))),
        "usage": Overwrite(update.get("usage") or zero_usage()),
        "steps": update.get("steps", 0),
    }


def _error_result(
    *,
    call_id: str,
    name: str,
    args: dict[str, Any],
    step: int,
    code: str,
    message: str,
    started: float,
) -> ToolResult:
    return ToolResult(
        call_id=call_id,
        name=name,
        args=args,
        step=step,
        ok=False,
        output=None,
        error=ToolError(code=code, message=message),
        duration_ms=round((time.monotonic() - started) * 1000),
    )


class AgentGraph:
    """Holds the tool set; its bound methods are the graph's nodes and routers."""

    def __init__(self, *, tools: Sequence[AgentTool[Any, Any]]) -> None:
        self.tools = {tool.name: tool for tool in tools}
        self.tool_schemas = [tool.model_schema() for tool in tools]
        # As the model client sends them: what an approval's price estimate counts.
        self.openai_tools = [convert_to_openai_tool(schema) for schema in self.tool_schemas]

    async def plan(self, state: State, runtime: Runtime[Context]) -> dict[str, Any]:
        context = runtime.context
        new_turn = _new_turn(state)
        steps = 0 if new_turn else state.get("steps", 0)
        if steps >= context.max_steps:
            return _turn_update({}, new_turn=new_turn)  # routed to respond
        started = time.monotonic()
        workspace = await context.deps.data.workspace()
        system = SystemMessage(
            AGENT_SYSTEM_PROMPT.format(
                today=_today(context),
                quoted_data_rule=QUOTED_DATA_RULE,
                **workspace_fields(workspace),
            )
        )
        prompt = trim_history(
            system=system, messages=state["messages"], budget=context.history_token_budget
        )
        declined = await _model_call_allowed(
            context, feature="plan", step=steps + 1, prompt=prompt, tools=self.openai_tools
        )
        if declined is not None:
            return _turn_update(
                {"messages": [_declined_answer(declined)], "plan": []}, new_turn=new_turn
            )
        writer = get_stream_writer()
        writer({"type": "step.started", "node": "plan", "step": steps + 1})
        model = context.chat_model(feature="plan").bind_tools(self.tool_schemas)
        reply = strip_abandoned(await model.ainvoke(prompt))
        assert isinstance(reply, AIMessage)
        planned = [
            PlannedToolCall(call_id=call["id"] or "", name=call["name"], args=call["args"])
            for call in reply.tool_calls
        ]
        usage = _usage_of(reply)
        writer(_usage_event(feature="plan", model=_answered_by(reply, context), usage=usage))
        writer({"type": "plan", "tool_calls": planned})
        writer(
            {
                "type": "step.completed",
                "node": "plan",
                "step": steps + 1,
                "duration_ms": round((time.monotonic() - started) * 1000),
            }
        )
        update = {
            "messages": [reply],
            "plan": planned,
            "usage": usage,
            "steps": steps + 1 if planned else steps,
        }
        return _turn_update(update, new_turn=new_turn)

    async def route_after_plan(self, state: State, runtime: Runtime[Context]) -> list[Send] | str:
        # async: a sync path function is run on a thread at every step
        last = state["messages"][-1]
        if isinstance(last, AIMessage) and last.tool_calls:
            if runtime.context.deps.approvals is not None:
                return "approve"
            return [
                Send("tools", ToolTask(call=call, step=state.get("steps", 0)))
                for call in last.tool_calls
            ]
        if isinstance(last, AIMessage):
            return END  # the model answered directly
        return "respond"  # step limit reached with tool results still unanswered

    async def approve(self, state: State, runtime: Runtime[Context]) -> Command[Any]:
        """Ask the creator about the calls the policy names; run the approved ones (with
        their edited arguments), answer the denied ones with a tool result that says so."""
        context = runtime.context
        policy = context.deps.approvals
        last = state["messages"][-1]
        assert isinstance(last, AIMessage) and policy is not None
        step = state.get("steps", 0)
        asks = []
        for call in last.tool_calls:
            tool = self.tools.get(call["name"])
            check = (
                await policy.check_tool(
                    tool,
                    args=dict(call["args"]),
                    meta=context.call_meta(feature=f"tool:{tool.name}"),
                )
                if tool is not None
                else None
            )
            if check is not None:
                asks.append(
                    {"call_id": call["id"] or "", "name": call["name"], "args": call["args"]}
                    | check
                )
        # (wrapped: LangGraph takes an empty resume value for none and interrupts again)
        answer: dict[str, Any] = interrupt({"approvals": asks}) if asks else {}
        decisions: dict[str, Any] = answer.get("decisions") or {}
        asked = {ask["call_id"] for ask in asks}
        sends: list[Send] = []
        messages: list[ToolMessage] = []
        results: list[ToolResult] = []
        writer = get_stream_writer()
        for call in last.tool_calls:
            call_id = call["id"] or ""
            # Asked and not answered is a no; what the policy let through runs.
            decision = decisions.get(call_id) or {"approved": call_id not in asked}
            if decision.get("approved"):
                args = decision.get("args") or call["args"]
                sends.append(Send("tools", ToolTask(call={**call, "args": args}, step=step)))
                continue
            reason = decision.get("reason") or ""
            error = ToolError(
                code="DENIED",
                message="The creator declined this step" + (f": {reason}" if reason else "."),
            )
            writer(
                {"type": "tool.failed", "call_id": call_id, "name": call["name"], "error": error}
            )
            results.append(
                ToolResult(
                    call_id=call_id,
                    name=call["name"],
                    args=dict(call["args"]),
                    step=step,
                    ok=False,
                    output=None,
                    error=error,
                    duration_ms=0,
                )
            )
            messages.append(
                ToolMessage(
                    content=quoted_tool_result(name=call["name"], payload={"error": error}),
                    tool_call_id=call_id,
                    name=call["name"],
                    status="error",
                )
            )
        update = {"messages": messages, "tool_results": results}
        return Command(update=update, goto=sends or "plan")

    async def run_tool(self, task: ToolTask, runtime: Runtime[Context]) -> dict[str, Any]:
        """One tool call. Never raises for the tool's own failures: they become an error
        ToolMessage so the other calls of the step still count."""
        context = runtime.context
        writer = get_stream_writer()
        call = task["call"]
        call_id, name, args = call["id"] or "", call["name"], dict(call["args"])
        started = time.monotonic()
        writer({"type": "tool.started", "call_id": call_id, "name": name, "args": args})
        meter = ModelUsage()

        def report(done: int, total: int | None, message: str) -> None:
            writer(
                {
                    "type": "tool.progress",
                    "call_id": call_id,
                    "done": done,
                    "total": total,
                    "message": message,
                }
            )

        ctx = ToolContext(call_id=call_id, context=context, report_progress=report, usage=meter)
        result: ToolResult
        try:
            tool = self.tools.get(name)
            if tool is None:
                raise ToolFailure(f"There is no tool named {name!r}.", code="VALIDATION_ERROR")
            timeout_s = tool.timeout_for(context)
            executor = context.deps.tool_executor
            output = await asyncio.wait_for(
                executor.run_tool(tool, args=args, ctx=ctx)
                if executor is not None
                else run_inline(tool, args=args, ctx=ctx),
                timeout=timeout_s,
            )
            result = ToolResult(
                call_id=call_id,
                name=name,
                args=args,
                step=task["step"],
                ok=True,
                output=output,
                error=None,
                duration_ms=round((time.monotonic() - started) * 1000),
            )
        except TimeoutError:
            result = _error_result(
                call_id=call_id, name=name, args=args, step=task["step"], started=started,
                code="TOOL_TIMEOUT",
                message=f"{name} took longer than {timeout_s:g} s.",
            )  # fmt: skip
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # the run itself is being cancelled: let it stop
            result = _error_result(
                call_id=call_id, name=name, args=args, step=task["step"], started=started,
                code="TOOL_CANCELLED", message=f"{name} was cancelled before it finished.",
            )  # fmt: skip
        except ToolFailure as exc:
            result = _error_result(
                call_id=call_id, name=name, args=args, step=task["step"], started=started,
                code=exc.code, message=exc.message,
            )  # fmt: skip
        except GuardError as exc:
            result = _error_result(
                call_id=call_id, name=name, args=args, step=task["step"], started=started,
                code=exc.code, message=exc.message,
            )  # fmt: skip
        except Exception as exc:
            result = _error_result(
                call_id=call_id, name=name, args=args, step=task["step"], started=started,
                code="TOOL_ERROR", message=f"{name} failed: {type(exc).__name__}: {exc}",
            )  # fmt: skip
        usage = UsageTotals(
            input_tokens=meter.input_tokens,
            output_tokens=meter.output_tokens,
            cost_usd=meter.cost_usd,
        )
        if meter.input_tokens or meter.output_tokens:
            writer(
                _usage_event(
                    feature=f"tool:{name}",
                    model=context.tool_model_id or context.model_id,
                    usage=usage,
                )
            )
        if result["ok"]:
            writer(
                {
                    "type": "tool.completed",
                    "call_id": call_id,
                    "name": name,
                    "output": result["output"],
                    "duration_ms": result["duration_ms"],
                }
            )
            content = quoted_tool_result(name=name, payload=result["output"])
        else:
            writer(
                {"type": "tool.failed", "call_id": call_id, "name": name, "error": result["error"]}
            )
            content = quoted_tool_result(name=name, payload={"error": result["error"]})
        message = ToolMessage(
            content=content,
            tool_call_id=call_id,
            name=name,
            status="success" if result["ok"] else "error",
        )
        return {"messages": [message], "tool_results": [result], "usage": usage}

    async def respond(self, state: State, runtime: Runtime[Context]) -> dict[str, Any]:
        context = runtime.context
        step = state.get("steps", 0)
        started = time.monotonic()
        system = SystemMessage(RESPOND_SYSTEM_PROMPT.format(quoted_data_rule=QUOTED_DATA_RULE))
        prompt = trim_history(
            system=system, messages=state["messages"], budget=context.history_token_budget
        )
        declined = await _model_call_allowed(context, feature="respond", step=step, prompt=prompt)
        if declined is not None:
            return {"messages": [_declined_answer(declined)]}
        writer = get_stream_writer()
        writer({"type": "step.started", "node": "respond", "step": step})
        reply = strip_abandoned(await context.chat_model(feature="respond").ainvoke(prompt))
        assert isinstance(reply, AIMessage)
        usage = _usage_of(reply)
        writer(_usage_event(feature="respond", model=_answered_by(reply, context), usage=usage))
        writer(
            {
                "type": "step.completed",
                "node": "respond",
                "step": step,
                "duration_ms": round((time.monotonic() - started) * 1000),
            }
        )
        return {"messages": [reply], "usage": usage}


def build_graph(
    *, tools: Sequence[AgentTool[Any, Any]] = ALL_TOOLS
) -> StateGraph[State, Context, InputState, State]:
    """The uncompiled graph; ``tools`` defaults to every tool in ``agents.tools``."""
    agent = AgentGraph(tools=tools)
    builder = StateGraph(State, context_schema=Context, input_schema=InputState)
    builder.add_node("plan", agent.plan)
    builder.add_node("approve", agent.approve, destinations=("tools", "plan"))
    builder.add_node("tools", agent.run_tool)  # type: ignore[call-overload]  # input is a ToolTask
    builder.add_node("respond", agent.respond)
    builder.add_edge(START, "plan")
    builder.add_conditional_edges(
        "plan", agent.route_after_plan, ["approve", "tools", "respond", END]
    )
    builder.add_edge("tools", "plan")
    builder.add_edge("respond", END)
    return builder


def compile_graph(
    *,
    checkpointer: BaseCheckpointSaver[Any] | None,
    tools: Sequence[AgentTool[Any, Any]] = ALL_TOOLS,
) -> CompiledStateGraph[State, Context, InputState, State]:
    """Compile with the caller's checkpointer (Postgres in production, SQLite embedded)."""
    return build_graph(tools=tools).compile(checkpointer=checkpointer, name="insightstream-agent")


def run_id_now() -> str:
    """A sortable id for runs started outside the backend (CLI, evals)."""
    return datetime.now(UTC).strftime("run-%Y%m%dT%H%M%S%f")
