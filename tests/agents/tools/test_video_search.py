"""video_search over in-memory data: which scope it searched and why, every result's
figures, YouTube refused clearly when it cannot be searched, auto falling back."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from agents.sample_data import InMemoryAgentData
from agents.tools import TOOLS_BY_NAME, ToolFailure
from agents.tools._video_search import FoundVideo, SearchesVideos
from tests.agents.conftest import make_context
from tests.agents.tools.support import run_tool

PUBLISHED = datetime(2026, 2, 1, 9, 30, tzinfo=UTC)
RESULT_FIELDS = {
    "video_id", "title", "channel_id", "channel_title", "views", "likes", "comments",
    "published_at", "duration_seconds", "thumbnail_url", "url",
}  # fmt: skip


def youtube_video(n: int, **changes: Any) -> FoundVideo:
    video = FoundVideo(
        video_id=f"yt{n:03d}",
        title=f"Latte art tutorial {n}",
        channel_id="UCbarista0001",
        channel_title="Barista School",
        views=1_000 * n,
        likes=50 * n,
        comments=5 * n,
        published_at=PUBLISHED,
        duration_seconds=300 + n,
        thumbnail_url=f"https://i.ytimg.com/vi/yt{n:03d}/hqdefault.jpg",
    )
    return replace(video, **changes)


class SearchingData(InMemoryAgentData):
    """In-memory data that can also search (``SearchesVideos``): YouTube answers from a
    fixed list, or fails with ``youtube_failure``; the workspace from the sample corpus."""

    workspace_search_source = "your stored channels"

    def __init__(
        self,
        *,
        youtube: list[FoundVideo] | None = None,
        youtube_key: bool = True,
        youtube_failure: ToolFailure | None = None,
    ) -> None:
        super().__init__()
        self.youtube = youtube if youtube is not None else [youtube_video(n) for n in (1, 2, 3)]
        self.youtube_key = youtube_key
        self.youtube_failure = youtube_failure
        self.searches: list[tuple[str, str, int]] = []

    async def youtube_search_available(self) -> bool:
        return self.youtube_key

    async def search_youtube(self, *, query: str, max_results: int) -> list[FoundVideo]:
        self.searches.append(("youtube", query, max_results))
        if self.youtube_failure is not None:
            raise self.youtube_failure
        return self.youtube[:max_results]

    async def search_workspace(self, *, query: str, max_results: int) -> list[FoundVideo]:
        self.searches.append(("workspace", query, max_results))
        corpus = await self.corpus_videos(query)
        return [FoundVideo.from_video(video) for video in corpus[:max_results]]


async def search(data: InMemoryAgentData, **args: Any) -> dict[str, Any]:
    return await run_tool("video_search", args, make_context(data=data))


def test_the_tool_is_registered_with_its_arguments() -> None:
    tool = TOOLS_BY_NAME["video_search"]
    schema = tool.model_schema()["function"]
    properties = schema["parameters"]["properties"]
    assert properties["scope"]["enum"] == ["youtube", "workspace", "auto"]
    assert properties["scope"]["default"] == "auto"
    assert (properties["max_results"]["minimum"], properties["max_results"]["maximum"]) == (1, 50)
    assert properties["max_results"]["default"] == 10
    assert schema["parameters"]["required"] == ["query"]
    assert "search youtube for" in " ".join(schema["description"].split()).lower()
    assert isinstance(SearchingData(), SearchesVideos)
    assert not isinstance(InMemoryAgentData(), SearchesVideos)


async def test_auto_searches_youtube_when_it_can() -> None:
    data = SearchingData(youtube=[youtube_video(1), youtube_video(2, likes=None, comments=None)])
    out = await search(data, query="  latte art  ", max_results=5)
    assert data.searches == [("youtube", "latte art", 5)]
    assert (out["source"], out["scope"], out["requested_scope"]) == (
        "YouTube Data API",
        "youtube",
        "auto",
    )
    assert out["scope_reason"] == "auto: YouTube search is available"
    assert out["query"] == "latte art"
    assert out["result_count"] == 2
    first, hidden = out["results"]
    assert set(first) == RESULT_FIELDS
    assert first == {
        "video_id": "yt001",
        "title": "Latte art tutorial 1",
        "channel_id": "UCbarista0001",
        "channel_title": "Barista School",
        "views": 1000,
        "likes": 50,
        "comments": 5,
        "published_at": "2026-02-01T09:30:00Z",
        "duration_seconds": 301,
        "thumbnail_url": "https://i.ytimg.com/vi/yt001/hqdefault.jpg",
        "url": "https://www.youtube.com/watch?v=yt001",
    }
    # Hidden counts stay null (never a made-up 0), and the note says so.
    assert (hidden["likes"], hidden["comments"]) == (None, None)
    assert "null" in out["note"] and "fresh" in out["note"]


async def test_auto_without_youtube_searches_the_workspace_and_says_why() -> None:
    for data in (SearchingData(youtube_key=False), InMemoryAgentData()):
        out = await search(data, query="espresso grinder", max_results=3)
        assert (out["scope"], out["requested_scope"]) == ("workspace", "auto")
        assert "not available" in out["scope_reason"] and "key" in out["scope_reason"]
        assert 1 <= out["result_count"] <= 3 == len(out["results"])
        assert all("espresso" in r["title"].lower() or "grinder" in r["title"].lower()
                   for r in out["results"])  # fmt: skip
        assert all(set(r) == RESULT_FIELDS for r in out["results"])
        assert all(r["url"] == f"https://www.youtube.com/watch?v={r['video_id']}"
                   for r in out["results"])  # fmt: skip
    # With the protocol the workspace's own label; without it, the corpus's.
    assert (await search(SearchingData(youtube_key=False), query="espresso"))["source"] == (
        "your stored channels"
    )
    assert (await search(InMemoryAgentData(), query="espresso"))["source"] == "sample corpus"


async def test_explicit_youtube_without_a_key_is_upstream_unavailable() -> None:
    for data in (SearchingData(youtube_key=False), InMemoryAgentData()):
        with pytest.raises(ToolFailure) as failure:
            await search(data, query="latte art", scope="youtube")
        assert failure.value.code == "UPSTREAM_UNAVAILABLE"
        assert "YouTube Data API key" in failure.value.message
        assert "workspace" in failure.value.message


async def test_explicit_scopes_are_followed() -> None:
    data = SearchingData()
    workspace = await search(data, query="latte art", scope="workspace")
    youtube = await search(data, query="latte art", scope="youtube", max_results=2)
    assert [s[0] for s in data.searches] == ["workspace", "youtube"]
    assert (workspace["scope"], workspace["scope_reason"]) == (
        "workspace",
        "the workspace's stored videos were asked for",
    )
    assert "as of" in workspace["note"]
    assert (youtube["scope"], youtube["result_count"]) == ("youtube", 2)


@pytest.mark.parametrize("code", ["UPSTREAM_UNAVAILABLE", "RATE_LIMITED"])
async def test_auto_falls_back_to_the_workspace_when_youtube_is_out_of_quota(code: str) -> None:
    data = SearchingData(youtube_failure=ToolFailure("Daily search limit reached.", code=code))
    out = await search(data, query="espresso")
    assert [s[0] for s in data.searches] == ["youtube", "workspace"]
    assert out["scope"] == "workspace"
    assert code in out["scope_reason"] and "Daily search limit reached." in out["scope_reason"]
    # Asked for YouTube explicitly, the failure is the answer.
    with pytest.raises(ToolFailure) as failure:
        await search(data, query="espresso", scope="youtube")
    assert failure.value.code == code


async def test_other_youtube_failures_are_not_hidden_by_auto() -> None:
    data = SearchingData(youtube_failure=ToolFailure("YouTube refused.", code="UPSTREAM_ERROR"))
    with pytest.raises(ToolFailure) as failure:
        await search(data, query="espresso")
    assert failure.value.code == "UPSTREAM_ERROR"


async def test_no_match_in_the_workspace_is_an_empty_list() -> None:
    out = await search(InMemoryAgentData(), query="quantum chromodynamics", scope="workspace")
    assert (out["result_count"], out["results"]) == (0, [])


@pytest.mark.parametrize(
    "args",
    [
        {"query": ""},
        {"query": "   "},
        {"query": "x" * 201},
        {"query": "latte", "max_results": 0},
        {"query": "latte", "max_results": 51},
        {"query": "latte", "scope": "everywhere"},
        {},
    ],
)
async def test_bad_arguments_are_validation_errors(args: dict[str, Any]) -> None:
    with pytest.raises(ToolFailure) as failure:
        await search(SearchingData(), **args)
    assert failure.value.code == "VALIDATION_ERROR"


async def test_the_offline_writer_lists_the_top_results() -> None:
    from langchain_core.messages import ToolMessage

    from agents.offline_writer import answer_from_tool_results
    from agents.prompts import quoted_tool_result

    videos = [youtube_video(n) for n in range(1, 8)]
    videos[0] = youtube_video(1, title="Ignore this [link](http://evil) *now*", likes=None)
    out = await search(SearchingData(youtube=videos), query="latte art", max_results=7)
    message = ToolMessage(
        content=quoted_tool_result(name="video_search", payload=out),
        tool_call_id="c1",
        name="video_search",
    )
    answer = answer_from_tool_results([message])
    assert "### Video search [tool:video_search]" in answer
    assert "Videos for **latte art** on YouTube (7 found; auto: YouTube search is available)" in (
        answer
    )
    lines = [line for line in answer.splitlines() if line[:2] in {f"{n}." for n in range(1, 9)}]
    assert len(lines) == 5
    assert lines[0] == (
        "1. [Ignore this link(http://evil) now](https://www.youtube.com/watch?v=yt001) — "
        "Barista School, 1,000 views, likes hidden, 5 comments, published 2026-02-01"
    )
    assert lines[1].startswith("2. [Latte art tutorial 2](https://www.youtube.com/watch?v=yt002)")
    assert "…and 2 more in the result card." in answer

    empty = await search(InMemoryAgentData(), query="quantum chromodynamics")
    message = ToolMessage(
        content=quoted_tool_result(name="video_search", payload=empty),
        tool_call_id="c2",
        name="video_search",
    )
    answer = answer_from_tool_results([message])
    assert "on your stored channels (0 found;" in answer and "No videos matched." in answer
