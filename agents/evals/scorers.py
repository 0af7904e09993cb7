"""Scorers for the agent eval: each takes Braintrust's ``input``/``output``/``expected``."""

from __future__ import annotations

from typing import Any

from agents.tools import TOOLS_BY_NAME


def tool_precision(*, output: dict[str, Any], expected: list[str], **_: Any) -> float:
    """Share of the tools the agent called that the request needed."""
    chosen = set(output["tools"])
    if not chosen:
        return 1.0
    return len(chosen & set(expected)) / len(chosen)


def tool_recall(*, output: dict[str, Any], expected: list[str], **_: Any) -> float:
    """Share of the needed tools the agent called (answering directly when none were)."""
    needed = set(expected)
    if not needed:
        return 1.0 if not output["tools"] else 0.0
    return len(set(output["tools"]) & needed) / len(needed)


def output_schema_valid(*, output: dict[str, Any], **_: Any) -> float | None:
    """Share of tool results that succeeded and match the tool's output schema."""
    results = output["tool_results"]
    if not results:
        return None
    valid = 0
    for result in results:
        tool = TOOLS_BY_NAME.get(result["name"])
        if tool is None or not result["ok"]:
            continue
        try:
            tool.output_schema.model_validate(result["output"])
        except ValueError:
            continue
        valid += 1
    return valid / len(results)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, float) or (
        isinstance(value, int) and not isinstance(value, bool) and value >= 10
    ):
        # Numbers count too: an answer may draw only on a result's figures.
        return [str(value), f"{value:,}"]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def answer_cites_tool_results(*, output: dict[str, Any], **_: Any) -> float | None:
    """Share of successful tool results the answer cites as [tool:<name>] and draws on
    (at least one substantive string from the result appears in the answer)."""
    results = [r for r in output["tool_results"] if r["ok"]]
    if not results:
        return None
    answer = output["answer"]
    cited = 0
    for result in results:
        marker = f"[tool:{result['name']}]" in answer
        values = [
            s
            for s in _strings(result["output"])
            if len(s) >= 4 and s not in result["args"].values()
        ]
        uses_content = any(value in answer for value in values) or not values
        cited += marker and uses_content
    return cited / len(results)


SCORERS = [tool_precision, tool_recall, output_schema_valid, answer_cites_tool_results]
