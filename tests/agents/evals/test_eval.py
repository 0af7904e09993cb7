"""The agent eval: the CI step (the offline run must not fall below its recorded
thresholds), the stored artifact, the scorers on answers built to pass and to fail, and the
scripted run — the real ChatOpenAI client against the local OpenAI-compatible server, whose
replies this test writes, so it checks the pipeline (tool calls and arguments through the
graph, grounding, format), not a model's judgement."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from agents.evals.dataset import CASES
from agents.evals.runner import (
    EvalTarget,
    below_thresholds,
    recorded_thresholds,
    run_eval,
    write_artifact,
)
from agents.evals.scorers import answer_format, argument_match, grounding
from agents.tools import TOOLS_BY_NAME
from tests.fakes.openai_server import OpenAIServer, Reply, ToolCallReply


def test_the_offline_eval_holds_its_recorded_thresholds(tmp_path) -> None:
    artifact = run_eval()

    assert below_thresholds(artifact["summary"], recorded_thresholds("offline")) == []
    path = write_artifact(artifact, tmp_path)
    stored = json.loads(path.read_text())
    assert stored["schema"] == 1 and stored["mode"] == "offline"
    assert "not a model's judgement" in stored["measures"]
    assert len(stored["cases"]) == len(CASES)
    first = stored["cases"][0]
    assert set(first) == {"input", "expected", "output", "scores", "error"}
    assert set(first["output"]) == {"tools", "tool_calls", "answer"}
    assert stored["git_commit"] is None or re.fullmatch(r"[0-9a-f]{40}", stored["git_commit"])


def test_a_missing_or_lower_score_is_below_threshold() -> None:
    floors = {"grounding": 0.9, "tool_recall": 1.0}
    assert below_thresholds({"grounding": 0.95, "tool_recall": 1.0}, floors) == []
    assert below_thresholds({"grounding": 0.8, "tool_recall": 1.0}, floors) == [
        "grounding: 0.8 < 0.9"
    ]
    assert below_thresholds({"tool_recall": 1.0}, floors) == ["grounding: None < 0.9"]


RESULT = {"name": "channel_outliers", "ok": True, "args": {"channel": "mine"},
          "output": {"median_views": 27000, "share": 0.375, "multiple": 8.91}}  # fmt: skip


@pytest.mark.parametrize(
    ("answer", "score"),
    [
        ("Median 27,000 views; the top video did 8.9x the median [tool:channel_outliers]", 1.0),
        ("37.5 % of them are Shorts [tool:channel_outliers]", 1.0),  # a share as a percent
        ("1. Median 27,000 views\n2. about 95,000 for the top one", 0.5),  # 95,000 is made up
        ("No figures here [tool:channel_outliers]", None),
    ],
)
def test_grounding_counts_the_numbers_the_results_do_not_hold(answer, score) -> None:
    output = {"answer": answer, "tool_results": [RESULT]}
    assert grounding(input="my outliers", output=output) == score


def test_argument_match_and_format() -> None:
    calls = [{"name": "keyword_research", "args": {"topic": "Mechanical  Keyboards"}}]
    expected = {
        "tools": ["keyword_research"],
        "args": {"keyword_research": {"topic": "mechanical keyboard"}},
    }
    assert argument_match(output={"tool_calls": calls}, expected=expected) == 1.0
    assert argument_match(output={"tool_calls": []}, expected=expected) == 0.0
    assert argument_match(output={"tool_calls": calls}, expected={"tools": [], "args": {}}) is None
    pasted = {"answer": 'Here: {"median_views": 27000}', "tool_results": [RESULT]}
    assert answer_format(output=pasted) == 0.5  # raw JSON, and no citation


# --- The scripted run ---------------------------------------------------------------------

FILLERS = {"topic": "coffee", "channel": "mine", "text": "My title", "title": "My video"}
SCRIPTED = [
    c for c in CASES if c.expected_tools <= {"channel_outliers", "upload_streak", "thumbnail"}
]  # fmt: skip  (their tools call no model of their own)


def _planned(request: str) -> list[ToolCallReply]:
    case = next(c for c in SCRIPTED if c.request == request)
    calls = []
    for name in sorted(case.expected_tools):
        schema = TOOLS_BY_NAME[name].args_schema
        args = {f: FILLERS[f] for f, info in schema.model_fields.items() if info.is_required()}
        args.update(case.expected_args.get(name, {}))
        calls.append(ToolCallReply(name=name, arguments=args))
    return calls


def _numbers(tool_messages: list[dict[str, Any]]) -> list[str]:
    text = " ".join(str(m.get("content", "")) for m in tool_messages)
    return re.findall(r"\b\d{2,}\b", text)[:2]


def scripted_reply(body: dict[str, Any]) -> Reply:
    """Plan the case's expected tools; then answer citing them with a figure from each."""
    messages = body["messages"]
    request = next(m["content"] for m in messages if m["role"] == "user")
    tool_messages = [m for m in messages if m["role"] == "tool"]
    if body.get("tools") and not tool_messages:
        calls = _planned(request)
        if not calls:
            return Reply(text="Hi! Ask me about your channel.", cost=None)
        return Reply(tool_calls=calls, cost=None)
    names = sorted({call["function"]["name"] for m in messages if m["role"] == "assistant"
                    for call in m.get("tool_calls") or []})  # fmt: skip
    cited = " ".join(f"[tool:{name}]" for name in names)
    figures = ", ".join(_numbers(tool_messages))
    return Reply(text=f"From the results: {figures}. {cited}", cost=None)


@pytest.fixture
def scripted_server():
    server = OpenAIServer().start()
    server.script(scripted_reply)
    yield server
    server.stop()


def test_the_scripted_run_checks_the_pipeline_around_a_model(scripted_server) -> None:
    target = EvalTarget(mode="scripted", model_id="test/scripted",
                        base_url=scripted_server.base_url, api_key="sk-test")  # fmt: skip

    artifact = run_eval(target=target, cases=SCRIPTED)

    assert artifact["mode"] == "scripted" and "not a model's judgement" in artifact["measures"]
    assert [row["error"] for row in artifact["cases"]] == [None] * len(SCRIPTED)
    summary = artifact["summary"]
    # The server was told exactly which tools to call: anything short of 1.0 is the
    # pipeline losing a call or an argument on the way.
    assert summary["tool_recall"] == summary["tool_precision"] == 1.0
    assert summary["argument_match"] == 1.0
    assert summary["output_schema_valid"] == 1.0
    assert summary["answer_format"] == 1.0
    assert summary["grounding"] == 1.0  # the figures came from the tool results it was sent
    # The real client made the calls: one plan and one answer request per case with tools.
    assert any(body.get("tools") for body in scripted_server.requests)
