"""Trimming history to a token budget, and the guard's prompt-token upper bound."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

from agents.models import prompt_tokens_upper_bound
from agents.prompts import quoted_tool_result, tool_result_json
from agents.trimming import (
    SHORTENED_KEY,
    TRUNCATION_MARK,
    count_tokens,
    estimate_tokens,
    shrink_json,
    trim_history,
)

text = st.text(min_size=0, max_size=400)


@st.composite
def conversations(draw: st.DrawFn) -> list[BaseMessage]:
    messages: list[BaseMessage] = []
    for turn in range(draw(st.integers(min_value=1, max_value=6))):
        messages.append(HumanMessage(draw(text)))
        for call in range(draw(st.integers(min_value=0, max_value=3))):
            call_id = f"c{turn}-{call}"
            messages.append(
                AIMessage("", tool_calls=[{"name": "hashtags", "args": {}, "id": call_id}])
            )
            messages.append(
                ToolMessage(draw(st.text(max_size=3000)), tool_call_id=call_id, name="hashtags")
            )
        messages.append(AIMessage(draw(text)))
    return messages


SYSTEM = SystemMessage("You are InsightStream. " * 5)


@settings(max_examples=60, deadline=None)
@given(messages=conversations(), budget=st.integers(min_value=400, max_value=4000))
def test_trimming_keeps_the_system_prompt_and_the_request_and_fits(
    messages: list[BaseMessage], budget: int
) -> None:
    trimmed = trim_history(system=SYSTEM, messages=messages, budget=budget)

    assert trimmed[0] is SYSTEM
    last_request = max(i for i, m in enumerate(messages) if isinstance(m, HumanMessage))
    current = messages[last_request:]
    assert [type(m) for m in trimmed[-len(current) :]] == [type(m) for m in current]
    assert count_tokens(trimmed) <= budget
    # No tool result without the call it answers.
    call_ids = {c["id"] for m in trimmed if isinstance(m, AIMessage) for c in m.tool_calls}
    assert all(m.tool_call_id in call_ids for m in trimmed if isinstance(m, ToolMessage))


def test_older_turns_go_first_when_over_budget() -> None:
    old = [HumanMessage("old " * 300), AIMessage("old answer " * 100)]
    new = [HumanMessage("new question")]
    trimmed = trim_history(system=SYSTEM, messages=[*old, *new], budget=200)
    assert trimmed == [SYSTEM, *new]
    roomy = trim_history(system=SYSTEM, messages=[*old, *new], budget=10_000)
    assert roomy == [SYSTEM, *old, *new]


@settings(max_examples=100, deadline=None)
@given(contents=st.lists(st.text(max_size=500), min_size=1, max_size=6))
def test_prompt_bound_is_at_least_the_utf8_size_and_the_trim_estimate(contents: list[str]) -> None:
    messages: list[BaseMessage] = [HumanMessage(c) for c in contents]
    bound = prompt_tokens_upper_bound(messages=messages)
    # A BPE token spans at least one byte, so bytes bound real tokens; the bound must
    # also never be below the cheaper estimate used for trimming.
    assert bound >= sum(len(c.encode()) for c in contents)
    assert bound >= sum(estimate_tokens(m) for m in messages)


def _tool_result(payload: dict[str, object]) -> ToolMessage:
    return ToolMessage(
        content=quoted_tool_result(name="channel_outliers", payload=payload),
        tool_call_id="call_1",
        name="channel_outliers",
    )


@given(
    titles=st.lists(st.text(max_size=300), max_size=200),
    budget=st.integers(min_value=60, max_value=4000),
)
def test_a_long_tool_result_is_shortened_as_valid_json_that_says_what_was_cut(
    titles: list[str], budget: int
) -> None:
    videos = [{"id": index, "title": title} for index, title in enumerate(titles)]
    message = _tool_result({"channel_title": "Nonat1s", "videos": videos})
    kept = trim_history(
        system=SystemMessage("s"), messages=[HumanMessage("q"), message], budget=budget
    )[-1]
    if kept.content == message.content:
        return  # it fitted
    text = tool_result_json(str(kept.content))
    if text.endswith(TRUNCATION_MARK):
        return  # a budget too small for any JSON: cut as text
    payload = json.loads(text)
    assert payload["channel_title"] == "Nonat1s"
    assert [v["id"] for v in payload["videos"]] == list(range(len(payload["videos"])))
    assert payload[SHORTENED_KEY]


def test_shrink_json_keeps_the_first_items_and_counts_them() -> None:
    payload = {"videos": [{"id": i, "title": "x" * 50} for i in range(100)], "median": 5}
    shrunk = shrink_json(payload, max_chars=1000)
    assert len(json.dumps(shrunk)) <= 1100
    assert [v["id"] for v in shrunk["videos"]] == list(range(len(shrunk["videos"])))
    assert shrunk["median"] == 5
    assert shrunk[SHORTENED_KEY]["videos"] == f"{len(shrunk['videos'])} of 100 items kept"
