"""The creator's workspace: how a channel tool's ``channel`` argument is resolved, and what
the model sees of the workspace."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.prompts import AGENT_SYSTEM_PROMPT, QUOTED_DATA_RULE, workspace_fields
from agents.sample_data import SAMPLE_CHANNEL_ID, InMemoryAgentData
from agents.tools import ToolFailure
from agents.workspace import (
    PROMPT_MAX_CHANNELS,
    ChannelNotResolved,
    Workspace,
    WorkspaceChannel,
    ordered,
    resolve_channel,
)
from tests.agents.conftest import make_context
from tests.agents.tools.support import run_tool

SNAPSHOT = datetime(2023, 6, 14, tzinfo=UTC)


def channel(
    channel_id: str,
    title: str,
    *,
    role: str = "competitor",
    primary: bool = False,
    handle: str | None = None,
    display_name: str | None = None,
) -> WorkspaceChannel:
    return WorkspaceChannel(
        channel_id=channel_id,
        ref=f"ref-{channel_id}",
        title=title,
        display_name=display_name,
        handle=handle,
        role=role,  # type: ignore[arg-type]
        primary=primary,
        video_count=10,
        observed_at=SNAPSHOT,
        source="imported CSV",
    )


WORKSPACE = Workspace(
    channels=ordered(
        [
            channel("UCmain0000001", "Frizz", role="own", primary=True, handle="@frizzgames"),
            channel("UCshorts00001", "Frizz Shorts", role="own"),
            channel("title:aaaa", "The Rules Lawyer", display_name="Rules guy"),
            channel("title:bbbb", "Team Player Gaming"),
            channel("title:cccc", "Team Rocket"),
        ]
    ),
    total=5,
)


@pytest.mark.parametrize("query", [None, "", "mine", "Mine", "  my channel ", "me"])
def test_mine_or_nothing_is_the_primary_own_channel(query: str | None) -> None:
    assert resolve_channel(WORKSPACE, query).channel_id == "UCmain0000001"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("UCmain0000001", "UCmain0000001"),
        ("ucmain0000001", "UCmain0000001"),
        ("ref-title:bbbb", "title:bbbb"),  # the backend's own id
        ("@frizzgames", "UCmain0000001"),
        ("frizzgames", "UCmain0000001"),
        ("frizz", "UCmain0000001"),  # exact title beats the prefix of "Frizz Shorts"
        ("FRIZZ shorts", "UCshorts00001"),
        ("the rules", "title:aaaa"),  # unique prefix
        ("rules guy", "title:aaaa"),  # display name
        ("team p", "title:bbbb"),
    ],
)
def test_a_channel_is_found_by_id_handle_title_name_or_unique_prefix(
    query: str, expected: str
) -> None:
    assert resolve_channel(WORKSPACE, query).channel_id == expected


def test_an_ambiguous_name_lists_the_candidates() -> None:
    with pytest.raises(ChannelNotResolved) as caught:
        resolve_channel(WORKSPACE, "team")
    assert caught.value.code == "VALIDATION_ERROR"
    assert {c.channel_id for c in caught.value.candidates} == {"title:bbbb", "title:cccc"}
    assert "Team Player Gaming" in caught.value.message and "Team Rocket" in caught.value.message


def test_an_unknown_name_is_not_found_and_lists_the_workspace() -> None:
    with pytest.raises(ChannelNotResolved) as caught:
        resolve_channel(WORKSPACE, "MrBeast")
    assert caught.value.code == "NOT_FOUND"
    assert "Frizz" in caught.value.message and "channel=title:aaaa" in caught.value.message


def test_mine_without_an_own_channel_says_how_to_mark_one() -> None:
    competitors = Workspace(channels=(channel("title:bbbb", "Team Player Gaming"),), total=1)
    with pytest.raises(ChannelNotResolved) as caught:
        resolve_channel(competitors, "mine")
    assert caught.value.code == "VALIDATION_ERROR"
    assert "own" in caught.value.message and "Team Player Gaming" in caught.value.message


@given(st.text(max_size=40))
def test_resolution_returns_a_workspace_channel_or_a_listed_error(query: str) -> None:
    outcome: WorkspaceChannel | ChannelNotResolved
    try:
        outcome = resolve_channel(WORKSPACE, query)
    except ChannelNotResolved as exc:
        outcome = exc
    if isinstance(outcome, ChannelNotResolved):
        assert outcome.code in ("NOT_FOUND", "VALIDATION_ERROR")
        assert outcome.candidates
    else:
        assert outcome in WORKSPACE.channels


def test_the_prompt_shows_at_most_the_cap_and_says_so() -> None:
    many = Workspace(
        channels=ordered([channel(f"title:{i:04d}", f"Channel {i:04d}") for i in range(120)]),
        total=130,
    )
    fields = workspace_fields(many)
    prompt = AGENT_SYSTEM_PROMPT.format(
        today="2026-12-01", quoted_data_rule=QUOTED_DATA_RULE, **fields
    )
    assert prompt.count('"channel": "title:') == PROMPT_MAX_CHANNELS
    assert f"{PROMPT_MAX_CHANNELS} of 130 channels are listed" in prompt
    assert "<<<QUOTED DATA (creator's workspace channels" in prompt


def test_an_empty_workspace_says_how_to_add_a_channel() -> None:
    fields = workspace_fields(Workspace())
    assert "import a CSV" in fields["workspace_note"] and fields["workspace"] == ""


async def test_channel_tools_take_mine_a_name_or_the_old_channel_id_alias() -> None:
    data = InMemoryAgentData()
    own = await run_tool("upload_streak", {"channel": "mine"}, make_context(data=data))
    omitted = await run_tool("upload_streak", {}, make_context(data=data))
    by_name = await run_tool(
        "channel_outliers", {"channel": "home espresso"}, make_context(data=data)
    )
    alias = await run_tool(
        "channel_outliers", {"channel_id": SAMPLE_CHANNEL_ID}, make_context(data=data)
    )
    assert own["channel_id"] == omitted["channel_id"] == SAMPLE_CHANNEL_ID
    assert own["channel_role"] == "own"
    assert by_name["channel_id"] == alias["channel_id"] == SAMPLE_CHANNEL_ID


async def test_an_unknown_channel_is_a_tool_error_naming_the_candidates() -> None:
    with pytest.raises(ToolFailure) as caught:
        await run_tool("channel_outliers", {"channel": "nobody"}, make_context())
    assert caught.value.code == "NOT_FOUND"
    assert "Home Espresso Lab" in caught.value.message


async def test_list_channels_filters_by_role_and_name() -> None:
    data = InMemoryAgentData()
    everything = await run_tool("list_channels", {}, make_context(data=data))
    own = await run_tool("list_channels", {"role": "own"}, make_context(data=data))
    assert everything["total"] == len(everything["channels"]) > 1
    assert [c["channel"] for c in own["channels"]] == [SAMPLE_CHANNEL_ID]
    assert own["channels"][0]["primary"] is True
