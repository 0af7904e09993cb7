"""The agent eval's run: every case through the real agent path, scored, kept as JSON.

The path is the product's: the compiled graph, the tools on the bundled sample data, and a
chat model built by the project's guarded ``ModelFactory`` — the offline model, or the real
OpenAI-compatible client against ``base_url`` (OpenRouter with a key, or the project's
scripted test server). What a run measures depends on that model, and the artifact says
which: ``offline`` checks the offline planner and the pipeline; ``scripted`` (replies the
test server was told to give) checks the pipeline around a model — tools, arguments
passed through, grounding and format — not a model's judgement; ``model`` evaluates the
real model.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import braintrust
from langchain_core.messages import HumanMessage

from agents.context import AgentDeps, Context
from agents.evals.dataset import CASES, EvalCase
from agents.evals.scorers import SCORERS
from agents.graph import compile_graph
from agents.guard import CostGuard, GuardLimits, MemoryBudgetStore, ModelPrice, PlanLimits
from agents.models import OFFLINE_MODEL_ID, ModelFactory, ModelSettings
from agents.sample_data import SAMPLE_NOW, InMemoryAgentData

Mode = Literal["offline", "scripted", "model"]
PROJECT = "insightstream-agent"
ARTIFACT_SCHEMA = 1
THRESHOLDS_PATH = Path(__file__).with_name("thresholds.json")


@dataclass(frozen=True, kw_only=True)
class EvalTarget:
    """Which model answers: the offline one, or ``model_id`` at ``base_url``."""

    mode: Mode = "offline"
    model_id: str = OFFLINE_MODEL_ID
    base_url: str = "https://openrouter.ai/api/v1"
    api_key: str | None = None

    def factory(self) -> ModelFactory:
        guard = CostGuard(
            store=MemoryBudgetStore(),
            limits=GuardLimits(
                plans={"anonymous": PlanLimits(client_daily_usd=None)}, global_daily_usd=None
            ),
        )
        # The eval's own calls are not billed here: a zero price still goes through the guard.
        price = ModelPrice(
            model_id=self.model_id, input_per_token=Decimal(0), output_per_token=Decimal(0)
        )
        return ModelFactory(
            settings=ModelSettings(base_url=self.base_url, api_key=self.api_key),
            guard=guard,
            catalogue=lambda model_id: price if model_id == self.model_id else None,
        )


def expected_of(case: EvalCase) -> dict[str, Any]:
    return {"tools": sorted(case.expected_tools), "args": case.expected_args}


async def run_case(request: str, *, target: EvalTarget) -> dict[str, Any]:
    """One request through the whole graph; what the scorers look at."""
    context = Context(
        deps=AgentDeps(models=target.factory(), data=InMemoryAgentData(), now=lambda: SAMPLE_NOW),
        model_id=target.model_id,
        client_id="eval",
        run_id="eval",
    )
    graph = compile_graph(checkpointer=None)
    state = await graph.ainvoke({"messages": [HumanMessage(request)]}, context=context)
    results = state.get("tool_results", [])
    return {
        "tools": sorted({result["name"] for result in results}),
        "tool_calls": [{"name": r["name"], "args": r["args"]} for r in results],
        "tool_results": results,
        "answer": state["messages"][-1].text,
    }


def git_commit() -> str | None:
    try:
        found = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
            cwd=Path(__file__).parent,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return found.stdout.strip() or None


def run_eval(
    *,
    target: EvalTarget = EvalTarget(),
    cases: Sequence[EvalCase] = CASES,
    send_logs: bool = False,
) -> dict[str, Any]:
    """Run and score every case through Braintrust's ``Eval``; the artifact as a dict."""
    by_request = {case.request: case for case in cases}
    # Braintrust's generics cannot express our dict-shaped cases; checked by running.
    evaluate: Any = braintrust.Eval

    async def task(request: str) -> dict[str, Any]:
        return await run_case(request, target=target)

    experiment = f"{target.mode}-{target.model_id}".replace("/", "-")
    result: Any = evaluate(
        PROJECT,
        data=lambda: [{"input": c.request, "expected": expected_of(c)} for c in cases],
        task=task,
        scores=SCORERS,
        experiment_name=experiment,
        no_send_logs=not send_logs,
    )
    rows = []
    for row in result.results:
        output = row.output or {"tools": [], "tool_calls": [], "tool_results": [], "answer": ""}
        rows.append(
            {
                "input": row.input,
                "expected": expected_of(by_request[row.input]),
                "output": {k: output[k] for k in ("tools", "tool_calls", "answer")},
                "scores": {name: score for name, score in sorted(row.scores.items())},
                "error": None if row.error is None else f"{type(row.error).__name__}: {row.error}",
            }
        )
    return {
        "schema": ARTIFACT_SCHEMA,
        "run_id": uuid.uuid4().hex,
        "created_at": datetime.now(UTC).isoformat(),
        "git_commit": git_commit(),
        "mode": target.mode,
        "model": target.model_id,
        "project": PROJECT,
        "experiment": experiment,
        "measures": MEASURES[target.mode],
        "cases": rows,
        "summary": summarise(rows),
    }


MEASURES: dict[str, str] = {
    "offline": "the offline planner (keyword rules) and the pipeline: not a model's judgement",
    "scripted": (
        "the pipeline around a model (tool calls, arguments, grounding, format) with replies "
        "the scripted test server was told to give: not a model's judgement"
    ),
    "model": "the real model's tool choice, arguments, grounding and format",
}


def summarise(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Each scorer's mean over the cases it applied to (None scores left out)."""
    totals: dict[str, list[float]] = {}
    for row in rows:
        for name, score in row["scores"].items():
            if score is not None:
                totals.setdefault(name, []).append(float(score))
    return {name: round(sum(v) / len(v), 4) for name, v in sorted(totals.items())}


def write_artifact(artifact: dict[str, Any], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = artifact["created_at"][:19].replace(":", "").replace("-", "")
    path = directory / f"eval-{stamp}-{artifact['mode']}-{artifact['run_id'][:8]}.json"
    path.write_text(json.dumps(artifact, indent=2, default=str) + "\n")
    return path


def below_thresholds(summary: dict[str, float], thresholds: dict[str, float]) -> list[str]:
    """The scorers whose mean fell below its recorded threshold (a missing one counts)."""
    return [
        f"{name}: {summary.get(name)} < {floor}"
        for name, floor in sorted(thresholds.items())
        if summary.get(name) is None or summary[name] < floor
    ]


def recorded_thresholds(mode: Mode = "offline") -> dict[str, float]:
    recorded: dict[str, dict[str, float]] = json.loads(THRESHOLDS_PATH.read_text())
    return recorded[mode]
