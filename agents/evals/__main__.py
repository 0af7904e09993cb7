"""Run the agent eval: ``uv run python -m agents.evals``.

Runs every case in ``agents.evals.dataset`` through the compiled graph with the offline
model and the built-in sample data, scores it with ``agents.evals.scorers`` through
Braintrust's ``Eval`` and prints the averages. Logs go to Braintrust only when
``BRAINTRUST_API_KEY`` is set (an entry point, like the CLI, may read the environment).
"""

from __future__ import annotations

import os
import sys
from typing import Any

import braintrust
from langchain_core.messages import HumanMessage

from agents.context import AgentDeps, Context
from agents.evals.dataset import CASES
from agents.evals.scorers import SCORERS
from agents.graph import compile_graph
from agents.models import ModelFactory, ModelSettings
from agents.sample_data import SAMPLE_NOW, InMemoryAgentData


def _guard() -> Any:
    from agents.guard import CostGuard, GuardLimits, MemoryBudgetStore, PlanLimits

    return CostGuard(
        store=MemoryBudgetStore(),
        limits=GuardLimits(
            plans={"anonymous": PlanLimits(client_daily_usd=None)}, global_daily_usd=None
        ),
    )


async def run_case(request: str) -> dict[str, Any]:
    """One request through the whole graph; what the scorers look at."""
    factory = ModelFactory(settings=ModelSettings(), guard=_guard(), catalogue=lambda _: None)
    context = Context(
        deps=AgentDeps(models=factory, data=InMemoryAgentData(), now=lambda: SAMPLE_NOW),
        client_id="eval",
        run_id="eval",
    )
    graph = compile_graph(checkpointer=None)
    state = await graph.ainvoke({"messages": [HumanMessage(request)]}, context=context)
    results = state.get("tool_results", [])
    return {
        "tools": sorted({result["name"] for result in results}),
        "tool_results": results,
        "answer": state["messages"][-1].text,
    }


def main() -> int:
    send_logs = bool(os.environ.get("BRAINTRUST_API_KEY"))
    # Braintrust's generics cannot express our dict-shaped cases; checked by running.
    run_eval: Any = braintrust.Eval
    result: Any = run_eval(
        "insightstream-agent",
        data=lambda: [
            {"input": case.request, "expected": sorted(case.expected_tools)} for case in CASES
        ],
        task=run_case,
        scores=SCORERS,
        experiment_name="offline-planner",
        no_send_logs=not send_logs,
    )
    print(f"\n{len(CASES)} cases")
    for name, summary in sorted(result.summary.scores.items()):
        print(f"{name:32s} {summary.score:.3f}")
    failures = [
        (r.input, r.expected, r.output["tools"] if r.output else None)
        for r in result.results
        if r.output is None or sorted(r.output["tools"]) != r.expected
    ]
    for request, expected, got in failures:
        print(f"  miss: {request!r}: expected {expected}, got {got}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
