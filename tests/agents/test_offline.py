"""The offline model: deterministic planning, streaming, labels and tool JSON."""

from __future__ import annotations

import json

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from agents.offline import OfflineChatModel
from agents.tools import ALL_TOOLS

SCHEMAS = [tool.model_schema() for tool in ALL_TOOLS]


async def _plan(request: str) -> AIMessage:
    reply = (
        await OfflineChatModel()
        .bind_tools(SCHEMAS)
        .ainvoke([SystemMessage("s"), HumanMessage(request)])
    )
    assert isinstance(reply, AIMessage)
    return reply


async def test_planning_is_deterministic() -> None:
    first = await _plan("ideas and hashtags for a home espresso channel")
    second = await _plan("ideas and hashtags for a home espresso channel")

    assert first.tool_calls == second.tool_calls
    assert [c["name"] for c in first.tool_calls] == ["content_ideas", "hashtags"]
    assert first.tool_calls[0]["args"] == {"topic": "home espresso", "count": 5}


async def test_quoted_title_is_scored_as_written() -> None:
    reply = await _plan('rate my hook: "you have been making coffee wrong"')

    assert reply.tool_calls[0]["name"] == "viral_score"
    assert reply.tool_calls[0]["args"]["text"] == "you have been making coffee wrong"


async def test_without_tools_bound_it_never_calls_tools() -> None:
    reply = await OfflineChatModel().ainvoke([HumanMessage("hashtags for espresso")])
    assert reply.tool_calls == []
    assert reply.content


async def test_streams_word_by_word_with_usage_and_offline_label() -> None:
    results = [
        HumanMessage("hashtags for espresso"),
        AIMessage("", tool_calls=[{"name": "hashtags", "args": {"topic": "espresso"}, "id": "c1"}]),
        ToolMessage(
            json.dumps(
                {"topic": "espresso", "platform": "youtube", "hashtags": ["#espresso", "#coffee"]}
            ),
            tool_call_id="c1",
            name="hashtags",
        ),
    ]
    chunks = [chunk async for chunk in OfflineChatModel().astream(results)]

    merged = chunks[0]
    for chunk in chunks[1:]:
        merged += chunk
    assert isinstance(merged, AIMessageChunk)
    assert len([c for c in chunks if c.content]) > 5
    assert "#espresso #coffee" in merged.text
    assert "[tool:hashtags]" in merged.text
    assert merged.response_metadata["offline"] is True
    assert merged.response_metadata["model_name"] == "offline"
    assert merged.usage_metadata is not None and merged.usage_metadata["output_tokens"] > 0


async def test_serves_the_content_ideas_tool_with_valid_json() -> None:
    model = OfflineChatModel(feature="tool:content_ideas")
    reply = await model.ainvoke(
        [SystemMessage("json please"), HumanMessage("Topic: latte art\nCount: 3\n")]
    )

    ideas = json.loads(reply.text)["ideas"]
    assert len(ideas) == 3
    assert all("latte art" in idea["title"].lower() for idea in ideas)


async def test_max_tokens_truncates_like_a_real_model() -> None:
    reply = await OfflineChatModel(max_tokens=10).ainvoke([HumanMessage("what can you do?")])
    assert reply.response_metadata["finish_reason"] == "length"
    assert len(reply.text) <= 10 * 4
