"""A chat run (kind ``chat``): the agent graph on the session's checkpoint thread, streamed
as events. Registered with the run engine by ``ChatConfig.ready()``; when the run has
ended, its session's webhook is queued (``finished``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import structlog
from django.conf import settings
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.types import Command

from agents.fallbacks import ANSWERED_BY_KEY
from agents.guard import ModelPrice
from agents.guard.pricing import worst_case_micros
from agents.workspace import Workspace
from backend.channels.selectors import workspace_for_client
from backend.chat.agent_context import chat_context
from backend.chat.answers import assistant_message_id
from backend.chat.approvals import (
    ApprovalPolicy,
    approval_data,
    approval_policy_for,
    approvals_decisions,
    approvals_request,
)
from backend.chat.models import ChatMessage, ChatSession
from backend.chat.services import webhook_schedule
from backend.chat.tool_calls import tool_executor_for
from backend.core.db import released
from backend.core.errors import ValidationError
from backend.model_calls.factory import load_prices
from backend.model_calls.usage import run_usage_sink
from backend.runs.checkpoints import open_graph
from backend.runs.coalesce import DeltaCoalescer
from backend.runs.drivers import Driver, RunContext, RunWaiting
from backend.runs.models import Run
from backend.tools.services import history_record_chat

logger = structlog.get_logger(__name__)

# Custom stream payloads the graph writes that are already DESIGN.md events. ("usage"
# comes from the guard's settled figures instead, via the factory's analytics hook.)
FORWARDED = frozenset(
    {
        "plan",
        "step.started",
        "step.completed",
        "tool.started",
        "tool.progress",
        "tool.completed",
        "tool.failed",
    }
)
ANSWER_NODES = frozenset({"plan", "respond"})


def _setup(run: Run) -> tuple[dict, ApprovalPolicy | None, Workspace]:
    """The run's prices, approval policy and the creator's workspace, which the agent
    reads first (one trip to the database threads)."""
    prices = load_prices([run.model])
    price = prices.get(run.model)
    if price is None:
        raise ValidationError(f"Model {run.model!r} has no known price.")
    # An approval's estimate takes the most expensive model the run may fall back to.
    approvals = approval_policy_for(run, price=costliest(prices.values()))
    return prices, approvals, workspace_for_client(client_id=run.client_id)


async def drive_chat(ctx: RunContext) -> dict[str, Any]:
    run = ctx.run
    prices, approvals, workspace = await released(_setup)(run)
    price = prices[run.model]
    message_id = assistant_message_id(ctx.run_id)
    await ctx.emit("run.started", {"model": run.model, "offline": price.offline})
    if run.attempt > 1:
        await ctx.emit("message.reset", {"message_id": message_id})
    # The tool calls' outcomes as streamed (with their args), for the transcript and, if
    # the run does not finish, for the client's history.
    tool_results: list[dict[str, Any]] = []
    try:
        return await _run_graph(
            ctx,
            prices=prices,
            approvals=approvals,
            workspace=workspace,
            message_id=message_id,
            tool_results=tool_results,
        )
    except RunWaiting:
        raise  # (what it streamed before it stopped is recorded when it finishes)
    except (Exception, asyncio.CancelledError):
        # Results the person already saw stay in their history when the run fails later.
        await _record_history(run, run_id=ctx.run_id, results=tool_results)
        raise


async def _run_graph(
    ctx: RunContext,
    *,
    prices: dict,
    approvals: ApprovalPolicy | None,
    workspace: Workspace,
    message_id: str,
    tool_results: list[dict[str, Any]],
) -> dict[str, Any]:
    run = ctx.run
    context = chat_context(
        run,
        prices=prices,
        usage_sink=run_usage_sink(ctx),
        warning_sink=lambda data: ctx.emit("guard.warning", data),
        tool_executor=tool_executor_for(ctx, price=prices[run.model]),
        approvals=approvals,
        workspace=workspace,
    )
    coalescer = DeltaCoalescer(
        message_id=message_id,
        window_s=settings.ENV.RUN_DELTA_COALESCE_MS / 1000,
        emit=ctx.emit,
    )
    started_args: dict[str, Any] = {}
    planned_once = False
    # The branch's thread; its newest state is this run's once the run has begun.
    thread_id = str(run.input.get("thread_id") or run.session_id or run.id)
    config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
    async with open_graph() as graph:
        graph_input, start = await _graph_input(
            graph,
            config,
            run_id=ctx.run_id,
            content=run.input["content"],
            fork_from=run.input.get("checkpoint_id"),
            ask=lambda asks: _wait_for_approval(ctx, asks=asks),
        )
        stream: Any = graph.astream(
            graph_input,  # type: ignore[arg-type]
            config=start,
            context=context,
            stream_mode=["messages", "custom"],
            # Each step's writes are saved before the next starts: a resumed run does not
            # repeat finished tool calls.
            durability="sync",
        )
        try:
            async for mode, payload in stream:
                if mode == "messages":
                    chunk, meta = payload
                    if (
                        meta.get("langgraph_node") in ANSWER_NODES
                        and isinstance(chunk, AIMessageChunk)
                        and isinstance(chunk.content, str)
                    ):
                        await coalescer.add(chunk.content)
                elif mode == "custom" and isinstance(payload, dict):
                    kind = payload.get("type")
                    if kind == "message.reset":
                        # A fallback model answers in place of one that failed mid-text.
                        coalescer.reset()
                        reset = {"message_id": message_id, "reason": payload.get("reason")}
                        await ctx.emit("message.reset", reset)
                        continue
                    if kind == "plan":
                        # The model's answer after tools also comes from the plan node, as an
                        # empty plan after its text: the run's plan was already announced.
                        if planned_once and not payload.get("tool_calls"):
                            continue
                        planned_once = True
                    if kind in FORWARDED:
                        await coalescer.flush()
                        data = {key: value for key, value in payload.items() if key != "type"}
                        await ctx.emit(str(kind), data)
                        if kind == "tool.started":
                            started_args[str(data.get("call_id"))] = data.get("args")
                        if kind in ("tool.completed", "tool.failed"):
                            # The transcript shows each call with what it was asked.
                            args = started_args.get(str(data.get("call_id")))
                            tool_results.append({**data, "args": args})
        except asyncio.CancelledError:
            if ctx.stop_requested == "cancel":
                await _keep_stopped_answer(
                    ctx,
                    graph,
                    config,
                    coalescer=coalescer,
                    message_id=message_id,
                    tool_results=tool_results,
                )
            raise
        await coalescer.flush()
        state = await graph.aget_state(config)
        if state.interrupts:
            await _wait_for_approval(ctx, asks=state.interrupts[0].value.get("approvals", []))
    text = coalescer.text or _final_text(state.values.get("messages", []))
    completed = {"message_id": message_id, "text": text, "model": _answered_by(state, run)}
    await ctx.emit("message.completed", completed)
    await released(_save_answer)(
        run=run,
        message_id=message_id,
        text=text,
        tool_results=tool_results,
        # From the checkpointed state: also the calls a killed earlier attempt finished.
        history=state.values.get("tool_results", []),
        checkpoint=state.config,
    )
    return {"message_id": message_id}


def costliest(prices: Iterable[ModelPrice]) -> ModelPrice:
    """The price whose worst case for a typical call is highest."""
    return max(
        prices,
        key=lambda p: worst_case_micros(model=p, prompt_tokens_upper_bound=4_000, max_tokens=1_024),
    )


def _answered_by(state: Any, run: Run) -> str:
    """The model that wrote the answer (with fallbacks configured, maybe not the run's)."""
    messages = state.values.get("messages", [])
    last = messages[-1] if messages else None
    metadata = getattr(last, "response_metadata", None) or {}
    return str(metadata.get(ANSWERED_BY_KEY) or run.model)


async def _wait_for_approval(ctx: RunContext, *, asks: list[dict[str, Any]]) -> None:
    """The graph stopped before calls that need the creator's approval: ask, then park."""
    rows = await released(approvals_request)(run=ctx.run, asks=asks)
    pending = [row for row in rows if row.status == "pending"]
    for row in pending:
        await ctx.emit("approval.requested", approval_data(row))
    raise RunWaiting({"reason": "approval", "approval_ids": [str(row.id) for row in pending]})


async def _keep_stopped_answer(
    ctx: RunContext,
    graph: Any,
    config: RunnableConfig,
    *,
    coalescer: DeltaCoalescer,
    message_id: str,
    tool_results: list[dict[str, Any]],
) -> None:
    """The client stopped the run: what streamed so far stays as its answer, marked
    ``stopped``, and the conversation goes on from it (the checkpoint gets it as the
    answer, so the next message's model sees it). The executor then ends the run
    ``cancelled``; the model calls cut off are settled by the guard as for any cut call."""
    await coalescer.flush()
    text = coalescer.text
    run = ctx.run
    await ctx.emit("message.completed", {"message_id": message_id, "text": text, "stopped": True})
    state = await graph.aget_state(config)
    after = state.config
    if text and not _unanswered_tool_calls(list(state.values.get("messages", []))):
        # (text only streams once the tools are done; never add after open calls)
        after = await graph.aupdate_state(
            config,
            {"messages": [AIMessage(content=text, id=f"ai-{ctx.run_id}")]},
            as_node="respond",
        )
    # Stopped before any answer: the next message starts from the last step.
    await released(_save_answer)(
        run=run,
        message_id=message_id,
        text=text,
        tool_results=tool_results,
        stopped=True,
        checkpoint=after if _began(state, ctx.run_id) else None,
    )


async def _record_history(run: Run, *, run_id: str, results: list[dict[str, Any]]) -> None:
    try:
        await released(history_record_chat)(
            client_id=run.client_id,
            run_id=run_id,
            session_id=str(run.session_id) if run.session_id else None,
            results=results,
        )
    except Exception:
        logger.warning("history_record_failed", run_id=run_id, exc_info=True)


def _began(state: Any, run_id: str) -> bool:
    """The state holds this run's question: the run has written its checkpoints."""
    human_id = f"human-{run_id}"
    messages = (state.values or {}).get("messages", [])
    return any(getattr(message, "id", None) == human_id for message in messages)


async def _graph_input(
    graph: Any,
    config: RunnableConfig,
    *,
    run_id: str,
    content: str,
    fork_from: str | None,
    ask: Callable[[list[dict[str, Any]]], Awaitable[Any]],
) -> tuple[Any, RunnableConfig]:
    """What to stream and from where. A run that has begun resumes from the thread's
    newest state (``None``; after an approval, the creator's decisions); a new one sends
    its question from ``fork_from`` (the checkpoint after the answer it follows: a fork
    when that is not the newest) or from the thread's newest state."""
    state = await graph.aget_state(config)
    if _began(state, run_id):
        if state.interrupts:
            decisions = await released(approvals_decisions)(run_id=run_id)
            if decisions is None:
                # Still unanswered, or never asked: an attempt stopped (a worker shut down)
                # between its interrupt and recording the approvals left a wait that no
                # one could answer. Ask (the same rows when they exist), then wait.
                await ask(state.interrupts[0].value.get("approvals", []))
                raise AssertionError("asking ends the attempt as waiting")
            return Command(resume={"decisions": decisions}), config
        return None, config
    start: RunnableConfig = config
    if fork_from:
        forked: RunnableConfig = {
            "configurable": {
                **config["configurable"],
                "checkpoint_ns": "",
                "checkpoint_id": fork_from,
            }
        }
        state = await graph.aget_state(forked)
        start = state.config or forked
    messages = list((state.values or {}).get("messages", []))
    dangling = _unanswered_tool_calls(messages)
    if dangling:
        # An earlier run was cancelled between plan and tools: answer its calls so the
        # conversation stays valid for the model.
        start = await graph.aupdate_state(
            start,
            {
                "messages": [
                    ToolMessage(
                        content='{"error": {"code": "CANCELLED", "message": "run cancelled"}}',
                        tool_call_id=call_id,
                        name=name,
                        status="error",
                    )
                    for call_id, name in dangling
                ]
            },
            as_node="tools",
        )
    return {"messages": [HumanMessage(content=content, id=f"human-{run_id}")]}, start


def _unanswered_tool_calls(messages: list[Any]) -> list[tuple[str, str]]:
    answered = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
    for message in reversed(messages):
        if isinstance(message, AIMessage) and message.tool_calls:
            return [
                (call["id"] or "", call["name"])
                for call in message.tool_calls
                if call["id"] not in answered
            ]
        if isinstance(message, HumanMessage):
            return []
    return []


def _final_text(messages: list[Any]) -> str:
    for message in reversed(messages):
        if isinstance(message, AIMessage) and not message.tool_calls:
            return message.content if isinstance(message.content, str) else str(message.content)
    return ""


def _save_answer(
    *,
    run: Run,
    message_id: str,
    text: str,
    tool_results: list[dict],
    history: Sequence[Any] = (),
    stopped: bool = False,
    checkpoint: RunnableConfig | None = None,
) -> None:
    """The answer, under its question, with the checkpoint after it; the session's branch
    moves on to it. One upsert (a resumed run's answer replaces the interrupted
    attempt's)."""
    question_id = run.input.get("message_id")
    place = (checkpoint or {}).get("configurable", {})
    fields = {
        "run_id": str(run.id),
        "role": ChatMessage.Role.ASSISTANT,
        "content": text,
        "stopped": stopped,
        "parent_id": question_id,
        "thread_id": str(place.get("thread_id", "")),
        "checkpoint_id": str(place.get("checkpoint_id", "")),
    }
    session_id = str(run.session_id)
    ChatMessage.objects.bulk_create(
        [ChatMessage(id=message_id, session_id=session_id, tool_results=tool_results, **fields)],
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=["session_id", "tool_results", *fields],
    )
    if question_id:
        ChatSession.objects.filter(pk=session_id, current_leaf_id=question_id).update(
            current_leaf_id=message_id
        )
    # The run's successful tool calls in the client's history: one more statement here.
    if history:
        history_record_chat(
            client_id=run.client_id, run_id=str(run.id), session_id=session_id, results=history
        )


def _webhook_after_end(run: Run) -> None:
    if run.session_id:
        webhook_schedule(run=run)


DRIVER = Driver(drive=drive_chat, on_finished=_webhook_after_end)
