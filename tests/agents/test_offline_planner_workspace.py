"""The offline model plans channel tools from the workspace the system prompt lists, the
same block a real model reads: "my …" is the primary own channel, a named channel is that
channel, "compare me with X" is a competitor gap between them plus both sides' outliers."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from agents.offline import OfflineChatModel
from agents.offline_planner import named_channels, plan_calls
from agents.prompts import AGENT_SYSTEM_PROMPT, QUOTED_DATA_RULE, workspace_fields
from agents.tools import ALL_TOOLS
from agents.workspace import Workspace, WorkspaceChannel, ordered

CHANNELS = [
    WorkspaceChannel(
        channel_id="title:nonat1s", ref="1", title="Nonat1s", role="own", primary=True
    ),
    WorkspaceChannel(channel_id="title:frizz", ref="2", title="Frizz"),
    WorkspaceChannel(
        channel_id="title:frizzs", ref="3", title="Frizz Shorts", handle="@frizzshorts"
    ),
    WorkspaceChannel(channel_id="title:rules", ref="4", title="The Rules Lawyer"),
]
WORKSPACE = Workspace(channels=ordered(CHANNELS), total=len(CHANNELS))
LISTED = [c.summary() for c in WORKSPACE.channels]
EVERY_TOOL = {tool.name for tool in ALL_TOOLS} | {"competitor_gap", "video_search"}


def planned(request: str, available: set[str] = EVERY_TOOL) -> list[tuple[str, dict[str, Any]]]:
    return [(c.name, c.args) for c in plan_calls(request, available=available, workspace=LISTED)]


def test_my_videos_are_the_primary_own_channel() -> None:
    assert planned("Which of my videos are outliers and how consistent are my uploads?") == [
        ("channel_outliers", {"channel": "mine"}),
        ("upload_streak", {"channel": "mine"}),
    ]


def test_a_named_channel_is_that_channel_longest_name_first() -> None:
    assert planned("outliers of the rules lawyer") == [
        ("channel_outliers", {"channel": "title:rules"})
    ]
    assert planned("show me outliers for Frizz Shorts") == [
        ("channel_outliers", {"channel": "title:frizzs"})
    ]
    assert planned("outliers of @frizzshorts") == [
        ("channel_outliers", {"channel": "title:frizzs"})
    ]


def test_names_are_whole_words_only() -> None:
    assert named_channels("frizzle outliers", LISTED) == []


def test_compare_me_with_a_competitor_is_a_gap_plus_both_outliers() -> None:
    assert planned("compare me with Frizz") == [
        ("competitor_gap", {"channel": "mine", "competitors": ["title:frizz"]}),
        ("channel_outliers", {"channel": "mine"}),
        ("channel_outliers", {"channel": "title:frizz"}),
    ]


def test_what_competitors_do_better_is_a_gap_against_all_of_them() -> None:
    assert planned("what are my competitors doing better than me?") == [
        ("competitor_gap", {"channel": "mine"})
    ]


def test_a_channel_name_is_not_taken_for_a_topic() -> None:
    [(name, args)] = planned("video ideas like The Rules Lawyer makes about pathfinder")
    assert name == "content_ideas" and "rules" not in args["topic"]


@pytest.mark.parametrize(
    "request_text",
    ["Which of my videos are outliers?", "compare me with Frizz", "outliers of frizz shorts"],
)
async def test_the_offline_model_reads_the_workspace_from_the_system_prompt(
    request_text: str,
) -> None:
    system = AGENT_SYSTEM_PROMPT.format(
        today="2026-12-01", quoted_data_rule=QUOTED_DATA_RULE, **workspace_fields(WORKSPACE)
    )
    model = OfflineChatModel().bind_tools([tool.model_schema() for tool in ALL_TOOLS])
    reply = await model.ainvoke([SystemMessage(system), HumanMessage(request_text)])
    assert isinstance(reply, AIMessage)
    available = {tool.name for tool in ALL_TOOLS}
    expected = planned(request_text, available)
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == expected
    assert expected  # the block was read: every case names a channel or "mine"


async def test_without_a_workspace_block_named_channels_are_not_guessed() -> None:
    model = OfflineChatModel().bind_tools([tool.model_schema() for tool in ALL_TOOLS])
    reply = await model.ainvoke([HumanMessage("outliers of frizz shorts")])
    assert isinstance(reply, AIMessage)
    assert [c["args"] for c in reply.tool_calls] == [{"channel": "mine"}]
