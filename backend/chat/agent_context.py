"""The agent's context for a chat run, the same whether built by the run or by one of its
tool calls offloaded to a task of its own (``chat.tool_calls``)."""

from __future__ import annotations

from agents import AgentDeps, Context, ToolExecutor
from agents.context import ApprovalPolicy
from agents.guard import ModelPrice
from agents.workspace import Workspace
from backend.channels.agent_data import BackendAgentData
from backend.chat import limits
from backend.model_calls.factory import WarningSink, model_factory
from backend.model_calls.usage import UsageSink
from backend.runs.models import Run


def chat_context(
    run: Run,
    *,
    prices: dict[str, ModelPrice],
    usage_sink: UsageSink | None = None,
    warning_sink: WarningSink | None = None,
    tool_executor: ToolExecutor | None = None,
    approvals: ApprovalPolicy | None = None,
    workspace: Workspace | None = None,
) -> Context:
    """The run's identity, guard and analytics; its calls' usage goes to ``usage_sink`` and
    the soft limits they cross to ``warning_sink`` (both the run's own, passed in);
    ``workspace``, when the caller read it already, saves the agent a read."""
    return Context(
        deps=AgentDeps(
            models=model_factory(prices=prices, usage_sink=usage_sink, warning_sink=warning_sink),
            data=BackendAgentData(
                client_id=run.client_id,
                model_id=run.model,
                usage_sink=usage_sink,
                workspace=workspace,
            ),
            tool_executor=tool_executor,
            approvals=approvals,
        ),
        model_id=run.model,
        max_steps=limits.MAX_STEPS,
        max_tokens=limits.ANSWER_MAX_TOKENS,
        history_token_budget=limits.HISTORY_TOKEN_BUDGET,
        client_id=run.client_id,
        plan=run.input.get("plan", "anonymous"),
        session_id=str(run.session_id) if run.session_id else None,
        run_id=str(run.id),
        ip_hash=run.input.get("ip_hash"),
        api_key_id=run.input.get("api_key_id"),
    )
