"""Scorers for the agent eval: each takes Braintrust's ``input``/``output``/``expected``.

``output``: ``tools`` (names called), ``tool_calls`` (name and args of each call),
``tool_results`` (the graph's), ``answer`` (the final text). ``expected``: ``tools`` and
``args`` (tool → argument → text the value must contain). A scorer returns a share in
[0, 1], or None when it does not apply to the case (Braintrust leaves it out of the mean).
"""

from __future__ import annotations

import re
from typing import Any

from agents.tools import TOOLS_BY_NAME


def tool_precision(*, output: dict[str, Any], expected: dict[str, Any], **_: Any) -> float:
    """Share of the tools the agent called that the request needed."""
    chosen = set(output["tools"])
    if not chosen:
        return 1.0
    return len(chosen & set(expected["tools"])) / len(chosen)


def tool_recall(*, output: dict[str, Any], expected: dict[str, Any], **_: Any) -> float:
    """Share of the needed tools the agent called (answering directly when none were)."""
    needed = set(expected["tools"])
    if not needed:
        return 1.0 if not output["tools"] else 0.0
    return len(set(output["tools"]) & needed) / len(needed)


def _squash(value: Any) -> str:
    return " ".join(str(value).casefold().replace("’", "'").split())


def argument_match(*, output: dict[str, Any], expected: dict[str, Any], **_: Any) -> float | None:
    """Share of the expected arguments some call of their tool passed: the value contains
    the expected text (case and spacing ignored; "keyboard" is in "mechanical keyboards")."""
    wanted = [
        (tool, name, text)
        for tool, args in expected.get("args", {}).items()
        for name, text in args.items()
    ]
    if not wanted:
        return None
    calls = output.get("tool_calls", [])
    met = sum(
        any(
            call["name"] == tool and _squash(text) in _squash(call["args"].get(name, ""))
            for call in calls
        )
        for tool, name, text in wanted
    )
    return met / len(wanted)


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


# A number as written in prose: 1,234 · 12.5 · 0.05 · 87 (a % or x after it is not part of it).
_NUMBER = re.compile(
    r"(?<![\w.])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w])"  # 1,234 and 1,234.5
    r"|(?<![\w.,])\d+(?:\.\d+)?(?![\w,])"  # 87, 12.5
)
# List markers and headings' numbers ("1. ", "2) ") are layout, not claims.
_LIST_MARKER = re.compile(r"^\s*\d+[.)]\s", re.MULTILINE)


def _numbers_in(value: Any) -> list[float]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [float(value)]
    if isinstance(value, str):
        return [float(m.replace(",", "")) for m in _NUMBER.findall(_split_multiples(value))]
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers_in(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers_in(v)]
    return []


_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?")


def _split_multiples(text: str) -> str:
    """ "2.4x the median" states 2.4 (the x is not part of a word); dates are not figures
    (a result's timestamp and the answer's date are written differently), so not scored."""
    return re.sub(r"(\d)[x×]\b", r"\1 x", _DATE.sub(" ", text))


def _grounded(number: str, known: list[float]) -> bool:
    """The figure as written equals a known one at the precision it was written with
    (12.3 is grounded by 12.345; a share written as 37 by 0.37 too)."""
    value = float(number.replace(",", ""))
    places = len(number.split(".")[1]) if "." in number else 0
    tolerance = 0.5 * 10**-places + 1e-9
    # Signs are not matched: the pattern reads "-0.18" as 0.18 in prose and results alike.
    return any(
        abs(abs(k) - value) <= tolerance or abs(abs(k) * 100 - value) <= tolerance for k in known
    )


def grounding(*, input: str, output: dict[str, Any], **_: Any) -> float | None:
    """Share of the numbers in the answer that appear in a tool result or the request
    (at the precision written). None when the answer states no number."""
    answer = _LIST_MARKER.sub(" ", re.sub(r"\[tool:[^\]]+\]", " ", output["answer"]))
    answer = _split_multiples(answer)
    written = _NUMBER.findall(answer)
    if not written:
        return None
    known = _numbers_in([r["output"] for r in output["tool_results"] if r["ok"]])
    known += _numbers_in(input)
    return sum(_grounded(n, known) for n in written) / len(written)


def answer_format(*, output: dict[str, Any], **_: Any) -> float:
    """The answer's shape: not empty, no raw JSON pasted in, cites each tool that ran (as
    ``[tool:<name>]``), and not a wall (at most 6,000 characters). The share of the four."""
    answer = output["answer"].strip()
    ran = {r["name"] for r in output["tool_results"] if r["ok"]}
    checks = [
        bool(answer),
        not re.search(r'\{\s*"[^"]+"\s*:', answer),
        all(f"[tool:{name}]" in answer for name in ran),
        len(answer) <= 6000,
    ]
    return sum(checks) / len(checks)


SCORERS = [
    tool_precision,
    tool_recall,
    argument_match,
    output_schema_valid,
    answer_cites_tool_results,
    grounding,
    answer_format,
]
