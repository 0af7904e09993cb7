"""Adding a channel from YouTube: a long-queue run with progress, on the real client
against the local fake YouTube Data API."""

from __future__ import annotations

import asyncio

import pytest

from backend.channels.models import Channel
from backend.runs.eventlog import reset_for_tests
from backend.youtube.factory import youtube_client
from tests.backend.runs.helpers import collect

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def youtube(env, settings, youtube_server):
    settings.TASK_RUNNER = "thread"
    reset_for_tests()
    env(YOUTUBE_API_KEYS=["key-a", "key-b"], YOUTUBE_API_BASE_URL=youtube_server.base_url)
    youtube_client.cache_clear()
    yield youtube_server
    youtube_client.cache_clear()


def test_add_channel_by_handle_streams_progress_and_stores_videos(anon_client, youtube):
    response = anon_client.post("/api/channels/", {"handle": "@TechWorldwithNana"}, format="json")
    assert response.status_code == 202, response.content
    frames = asyncio.run(collect(response.json()["stream_url"], timeout=60))
    kinds = [f["event"] for f in frames]
    assert kinds[-1] == "run.completed", frames[-1]
    progress = [f["payload"]["data"] for f in frames if f["event"] == "tool.progress"]
    assert progress and any("pages" in p["message"] for p in progress)
    result = frames[-1]["payload"]["data"]["result"]["channel"]
    assert result["video_count"] == 125 and result["source"] == "YouTube Data API"
    channel = Channel.objects.get(pk=result["id"])
    assert channel.source == "youtube" and channel.videos.count() == 125
    # The first channel a client adds is its primary own one; the handle is customUrl.
    assert (result["role"], result["primary"], result["handle"]) == (
        "own",
        True,
        "@techworldwithnana",
    )
    assert channel.handle == "@techworldwithnana"
    listing = anon_client.get("/api/channels/").json()
    assert listing["results"][0]["title"] == "TechWorld with Nana"
    assert listing["results"][0]["handle"] == "@techworldwithnana"
    # Each video keeps the largest thumbnail the API sent (maxres, for these uploads).
    videos = anon_client.get(f"/api/channels/{channel.id}/videos/?page_size=500").json()
    assert {v["thumbnail_url"] for v in videos["results"]} == {
        f"https://i.ytimg.com/vi/{v['video_id']}/maxresdefault.jpg" for v in videos["results"]
    }


def test_unknown_handle_fails_the_run_with_not_found(anon_client, youtube):
    response = anon_client.post("/api/channels/", {"handle": "@nobody-here-at-all"}, format="json")
    frames = asyncio.run(collect(response.json()["stream_url"], timeout=60))
    assert frames[-1]["event"] == "run.failed"
    assert frames[-1]["payload"]["data"]["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"handle": "@a"},
        {"channel_id": "nope"},
        {"channel_id": "UCxxxxxxxxxxxxxxxxxxxxxx", "handle": "@abc"},
    ],
)
def test_bad_add_requests_name_the_field(anon_client, youtube, body):
    response = anon_client.post("/api/channels/", body, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["details"]["fields"]) & {"channel_id", "handle"}


def test_no_keys_means_503_pointing_to_import(anon_client, env):
    env(YOUTUBE_API_KEYS=[])
    response = anon_client.post("/api/channels/", {"handle": "@codebasics"}, format="json")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert "import" in response.json()["error"]["message"]


def test_video_search_and_exhausted_keys(anon_client, youtube):
    response = anon_client.get("/api/videos/search/?q=kubernetes&max_results=5")
    assert response.status_code == 200
    body = response.json()
    assert body["source"] == "YouTube Data API" and body["results"]
    assert anon_client.get("/api/videos/search/").status_code == 400
    youtube.fail("quota", times=100)
    youtube_client.cache_clear()
    exhausted = anon_client.get("/api/videos/search/?q=docker%20compose")
    assert exhausted.status_code == 503
    assert exhausted.json()["error"]["code"] == "UPSTREAM_UNAVAILABLE"
