"""The agent's ``thumbnail`` tool: planned from a creator's request, one concept at a time
with progress, kept through the data port, stopped (not failed) by a later budget refusal."""

from __future__ import annotations

import io
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from PIL import Image

from agents import compile_graph
from agents.guard.interface import BudgetExceededError
from agents.offline_planner import plan_calls
from agents.tools import TOOLS_BY_NAME
from agents.tools.thumbnail import THUMBNAIL_TIMEOUT_S, thumbnail
from tests.agents.conftest import CountingData, make_context

EVERY_TOOL = set(TOOLS_BY_NAME)


@pytest.mark.parametrize(
    ("request_text", "title"),
    [
        ("Make thumbnails for “How I grew to 10k subscribers in 30 days”", "How I grew to 10k "
         "subscribers in 30 days"),
        ('thumbnail ideas for "5 pasta mistakes"', "5 pasta mistakes"),
        ("can you design a cover image for my sourdough video", "sourdough"),
    ],
)  # fmt: skip
def test_the_offline_planner_asks_for_thumbnails_of_the_named_title(
    request_text: str, title: str
) -> None:
    calls = plan_calls(request_text, available=EVERY_TOOL)
    # "thumbnail ideas" are pictures of that video, not new video ideas or a title score.
    assert [(c.name, c.args) for c in calls] == [("thumbnail", {"title": title})]


def test_video_ideas_without_a_thumbnail_are_still_content_ideas() -> None:
    calls = plan_calls("give me video ideas about sourdough", available=EVERY_TOOL)
    assert [c.name for c in calls] == ["content_ideas"]


async def _stream(request: str, data: CountingData) -> tuple[dict[str, Any], list[dict]]:
    graph = compile_graph(checkpointer=InMemorySaver())
    custom: list[dict[str, Any]] = []
    async for mode, chunk in graph.astream(
        {"messages": [HumanMessage(request)]},
        {"configurable": {"thread_id": "t"}},
        context=make_context(data=data),
        stream_mode=["custom", "values"],
    ):
        if mode == "custom":
            custom.append(chunk)
        else:
            state = chunk
    return state, custom


async def test_three_concepts_with_progress_per_concept_kept_through_the_data_port() -> None:
    data = CountingData()

    state, custom = await _stream('Make thumbnails for "Latte art in 60 seconds"', data)

    [result] = state["tool_results"]
    assert result["name"] == "thumbnail" and result["ok"] is True
    output = result["output"]
    assert output["title"] == "Latte art in 60 seconds"
    assert "Latte art in 60 seconds" in output["prompt"]
    ids = [t["thumbnail_id"] for t in output["thumbnails"]]
    assert ids == list(data.thumbnails) and len(ids) == 3  # each one kept, in order
    assert {t["provider"] for t in output["thumbnails"]} == {"offline"}
    assert all(t["offline"] and (t["width"], t["height"]) == (1280, 720)
               for t in output["thumbnails"])  # fmt: skip
    for png in data.thumbnails.values():
        with Image.open(io.BytesIO(png)) as image:
            assert image.size == (1280, 720)
    progress = [(e["done"], e["total"]) for e in custom if e["type"] == "tool.progress"]
    assert progress == [(0, 3), (1, 3), (2, 3), (3, 3)]
    # Never presented as AI: the result and the answer say it is the offline card.
    assert "not AI images" in output["note"]
    answer = state["messages"][-1]
    assert isinstance(answer, AIMessage) and "[tool:thumbnail]" in answer.text
    assert "3 thumbnail concepts" in answer.text and "not AI images" in answer.text


async def test_a_budget_refusal_after_the_first_concept_keeps_what_was_made() -> None:
    data = CountingData()
    real = data.make_thumbnail
    calls = 0

    async def refuse_second(**kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise BudgetExceededError("Daily budget reached.")
        return await real(**kwargs)

    data.make_thumbnail = refuse_second  # type: ignore[method-assign]

    state, _ = await _stream('Make thumbnails for "Latte art in 60 seconds"', data)

    [result] = state["tool_results"]
    assert result["ok"] is True
    assert len(result["output"]["thumbnails"]) == 1
    assert result["output"]["stopped"] == "Stopped after 1 of 3: Daily budget reached."
    assert calls == 2  # nothing asked for after the refusal


async def test_a_refusal_of_the_first_concept_is_the_tools_error() -> None:
    data = CountingData()
    data.failures["make_thumbnail"] = BudgetExceededError("Daily budget reached.")

    state, _ = await _stream('Make thumbnails for "Latte art in 60 seconds"', data)

    [result] = state["tool_results"]
    assert result["ok"] is False
    assert result["error"]["code"] == "BUDGET_EXCEEDED"
    assert data.thumbnails == {}


def test_its_own_timeout_and_image_count() -> None:
    context = make_context()
    assert thumbnail.timeout_for(context) == THUMBNAIL_TIMEOUT_S > context.tool_timeout_s
    assert TOOLS_BY_NAME["hashtags"].timeout_for(context) == context.tool_timeout_s
    assert thumbnail.images({"title": "x"}) == 3  # the default count
    assert thumbnail.images({"title": "x", "count": 2}) == 2
    assert thumbnail.images({"title": "x", "count": 99}) == 4  # invalid: the most allowed
    assert TOOLS_BY_NAME["hashtags"].images({"topic": "x"}) == 0
