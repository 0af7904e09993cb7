"""Video search in the product: ``GET /api/videos/search/`` and the agent's ``video_search``
tool run one service — the real YouTube client against the local fake Data API (cache and
per-client daily cap as configured), or the client's stored videos."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from rest_framework.test import APIClient

from agents.tools import TOOLS_BY_NAME, ToolContext, ToolFailure
from backend.channels.agent_data import BackendAgentData
from backend.youtube.factory import youtube_client
from tests.agents.conftest import make_context
from tests.backend.tools.helpers import stored_channel
from tests.fakes.youtube_server import YouTubeServer

pytestmark = pytest.mark.django_db

REST_FIELDS = {
    "video_id", "channel_id", "channel_title", "title", "published_at", "duration_seconds",
    "views", "likes", "comments", "thumbnail_url",
}  # fmt: skip


@pytest.fixture(autouse=True)
def _fresh_youtube_client(settings: Any) -> Iterator[None]:
    """The process's client (and its in-memory cache and cap) is built per test."""
    settings.REDIS_URL = None
    youtube_client.cache_clear()
    yield
    if youtube_client.cache_info().currsize:
        youtube_client().close()
    youtube_client.cache_clear()


@pytest.fixture
def youtube(env: Any, youtube_server: YouTubeServer) -> YouTubeServer:
    env(YOUTUBE_API_KEYS=["key-a"], YOUTUBE_API_BASE_URL=youtube_server.base_url)
    return youtube_server


@pytest.fixture
def no_key(env: Any) -> None:
    env(YOUTUBE_API_KEYS=[])


def run_search(client_id: str, **args: Any) -> dict[str, Any]:
    context = make_context(data=BackendAgentData(client_id=client_id))
    tool = TOOLS_BY_NAME["video_search"]

    async def run() -> dict[str, Any]:
        output = await tool.invoke(raw_args=args, ctx=ToolContext(call_id="t1", context=context))
        return output.model_dump(mode="json")

    result: dict[str, Any] = async_to_sync(run)()
    return result


# --- GET /api/videos/search/: anonymous → invalid input → no key → happy path ---------------


def test_anonymous_is_401() -> None:
    assert APIClient().get("/api/videos/search/?q=kubernetes").status_code == 401


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "q"),
        ("q=", "q"),
        (f"q={'x' * 201}", "q"),
        ("q=kubernetes&max_results=0", "max_results"),
        ("q=kubernetes&max_results=51", "max_results"),
        ("q=kubernetes&scope=everywhere", "scope"),
    ],
)
def test_bad_queries_are_400_naming_the_field(anon_client, youtube, query, field) -> None:
    response = anon_client.get(f"/api/videos/search/?{query}")
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]["fields"]
    assert youtube.requests_to("search") == []


def test_without_a_key_youtube_is_503_and_the_workspace_still_answers(anon_client, no_key):
    response = anon_client.get("/api/videos/search/?q=espresso")
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "UPSTREAM_UNAVAILABLE"
    assert "YouTube Data API key" in error["message"] and "workspace" in error["message"]
    stored_channel(anon_client.client_id)
    body = anon_client.get("/api/videos/search/?q=espresso&scope=workspace").json()
    assert (body["scope"], body["source"]) == ("workspace", "your imported and fetched channels")
    assert body["results"] and all(set(r) == REST_FIELDS for r in body["results"])


def test_youtube_results_carry_statistics_and_thumbnails(anon_client, youtube) -> None:
    response = anon_client.get("/api/videos/search/?q=kubernetes&max_results=5")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["source"], body["scope"], body["query"]) == (
        "YouTube Data API",
        "youtube",
        "kubernetes",
    )
    assert 1 <= len(body["results"]) <= 5
    for result in body["results"]:
        assert set(result) == REST_FIELDS
        assert result["views"] is not None and result["published_at"]
        # The largest size the API sent (the fake sends every size for uploads).
        assert result["thumbnail_url"] == (
            f"https://i.ytimg.com/vi/{result['video_id']}/maxresdefault.jpg"
        )
    views = [r["views"] for r in body["results"]]
    assert views == sorted(views, reverse=True)  # YouTube's order (the fake: most viewed)


def test_the_workspace_scope_searches_only_your_stored_videos(anon_client, no_key) -> None:
    stored_channel(anon_client.client_id)
    stored_channel("someone-else", external_id="UCothers00000001", title="Other Lab")
    body = anon_client.get("/api/videos/search/?q=espresso&scope=workspace").json()
    titles = [r["title"] for r in body["results"]]
    assert titles and all("espresso" in t.lower() for t in titles)
    assert {r["channel_title"] for r in body["results"]} == {"Espresso Lab"}
    assert all(r["thumbnail_url"].startswith("https://i.ytimg.com/") for r in body["results"])
    # The most matched words first, then the most viewed.
    two_words = anon_client.get("/api/videos/search/?q=espresso+grinder&scope=workspace").json()
    assert two_words["results"][0]["title"] == "Dialing in espresso on a budget grinder"
    by_tag = anon_client.get("/api/videos/search/?q=extraction&scope=workspace").json()
    assert [r["title"] for r in by_tag["results"]] == ["Why your espresso tastes sour"]
    nothing = anon_client.get("/api/videos/search/?q=kubernetes&scope=workspace").json()
    assert nothing["results"] == []


# --- the agent's tool over the backend ------------------------------------------------------


def test_the_tool_searches_youtube_through_the_same_cache_and_cap(anon_client, youtube, env):
    env(
        YOUTUBE_API_KEYS=["key-a"],
        YOUTUBE_API_BASE_URL=youtube.base_url,
        YOUTUBE_SEARCH_DAILY_CAP=1,
    )
    rest = anon_client.get("/api/videos/search/?q=kubernetes&max_results=3").json()
    out = run_search(anon_client.client_id, query="Kubernetes", max_results=3)
    assert len(youtube.requests_to("search")) == 1  # served from the REST call's cache
    assert (out["scope"], out["source"], out["scope_reason"]) == (
        "youtube",
        "YouTube Data API",
        "auto: YouTube search is available",
    )
    assert [r["video_id"] for r in out["results"]] == [r["video_id"] for r in rest["results"]]
    first = out["results"][0]
    assert first["thumbnail_url"] == rest["results"][0]["thumbnail_url"]
    assert first["url"] == f"https://www.youtube.com/watch?v={first['video_id']}"
    for name in ("views", "likes", "comments", "published_at", "duration_seconds"):
        assert first[name] == rest["results"][0][name], name

    # A new query is over the client's daily cap of 1: auto answers from the workspace.
    stored_channel(anon_client.client_id)
    fallback = run_search(anon_client.client_id, query="espresso")
    assert fallback["scope"] == "workspace"
    assert "RATE_LIMITED" in fallback["scope_reason"]
    assert fallback["results"] and fallback["source"] == "your imported and fetched channels"
    with pytest.raises(ToolFailure) as failure:
        run_search(anon_client.client_id, query="espresso", scope="youtube")
    assert failure.value.code == "RATE_LIMITED"
    assert anon_client.get("/api/videos/search/?q=espresso").status_code == 429
    assert len(youtube.requests_to("search")) == 1


def test_the_tool_without_a_key(anon_client, no_key) -> None:
    stored_channel(anon_client.client_id)
    out = run_search(anon_client.client_id, query="latte art")
    assert out["scope"] == "workspace" and "not available" in out["scope_reason"]
    assert [r["title"] for r in out["results"]] == ["Latte art for beginners: the heart"]
    assert out["results"][0]["thumbnail_url"] == "https://i.ytimg.com/vi/01/hqdefault.jpg"
    with pytest.raises(ToolFailure) as failure:
        run_search(anon_client.client_id, query="latte art", scope="youtube")
    assert failure.value.code == "UPSTREAM_UNAVAILABLE"
    assert "YouTube Data API key" in failure.value.message


def test_exhausted_keys_make_auto_fall_back(anon_client, youtube) -> None:
    youtube.quota_limits["key-a"] = 0
    stored_channel(anon_client.client_id)
    out = run_search(anon_client.client_id, query="espresso")
    assert out["scope"] == "workspace" and "UPSTREAM_UNAVAILABLE" in out["scope_reason"]
    response = anon_client.get("/api/videos/search/?q=pandas")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "UPSTREAM_UNAVAILABLE"


# --- end to end: a chat asks for videos -----------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_chat_search_answers_from_the_workspace_and_lands_in_history(
    anon_client, no_key, settings
):
    import asyncio

    from backend.runs.eventlog import reset_for_tests
    from tests.backend.runs.helpers import collect

    settings.TASK_RUNNER = "thread"
    reset_for_tests()
    stored_channel(anon_client.client_id)
    session = anon_client.post("/api/chat/sessions/", {}, format="json").json()
    response = anon_client.post(
        f"/api/chat/sessions/{session['id']}/messages/",
        {"content": "find videos about espresso"},
        format="json",
    )
    assert response.status_code == 202, response.content
    frames = asyncio.run(collect(response.json()["stream_url"], timeout=60))
    assert frames[-1]["event"] == "run.completed", frames[-1]
    [output] = [
        f["payload"]["data"]["output"]
        for f in frames
        if f["event"] == "tool.completed" and f["payload"]["data"]["name"] == "video_search"
    ]
    assert output["scope"] == "workspace" and output["results"]
    assert all(r["thumbnail_url"] for r in output["results"])
    answer = next(f for f in frames if f["event"] == "message.completed")["payload"]["data"]
    assert "[tool:video_search]" in answer["text"]
    assert output["results"][0]["url"] in answer["text"]
    [entry] = anon_client.get("/api/history/?tool=video_search").json()["results"]
    assert (entry["source"], entry["result"]) == ("chat", output)
    reset_for_tests()
