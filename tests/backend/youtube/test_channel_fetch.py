"""Channels, uploads and statistics through the real client and the fake API over HTTP.

Expected values are recomputed here straight from the shared CSVs (csv module), not
taken from the fake server's own loader.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from backend.youtube import ChannelNotFound, FetchProgress, YouTubeApiError
from tests.backend.youtube.conftest import Rig
from tests.fakes.youtube_server import fake_channel_id

UPLOADS = Path(__file__).resolve().parents[3].parent / "shared/data/youtube/channel_uploads"


def csv_rows(title: str) -> dict[str, dict[str, str]]:
    rows: dict[str, dict[str, str]] = {}
    for path in sorted(UPLOADS.glob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows.update(
                {r["video_id"]: r for r in csv.DictReader(handle) if r["channelTitle"] == title}
            )
    return rows


@pytest.mark.parametrize(
    ("title", "videos", "pages"),
    [("TechWorld with Nana", 125, 3), ("codebasics", 998, 20)],
)
def test_full_channel_fetch_pages_through_every_upload(
    rig: Rig, title: str, videos: int, pages: int
) -> None:
    expected = csv_rows(title)
    assert len(expected) == videos  # the README's count for this channel
    progress: list[FetchProgress] = []

    info, fetched = rig.client.fetch_channel(
        channel_id=fake_channel_id(title), on_progress=progress.append
    )

    assert info.title == title
    assert info.handle == "@" + re.sub(r"[^A-Za-z0-9_.\-]", "", title).casefold()
    assert info.video_count == videos
    # The fake sends every size for these uploads; the largest is kept.
    assert {v.thumbnail_url for v in fetched} == {
        f"https://i.ytimg.com/vi/{v.video_id}/maxresdefault.jpg" for v in fetched
    }
    assert info.subscriber_count is None  # the fake reports it hidden
    assert {v.video_id for v in fetched} == set(expected)
    assert len(fetched) == videos
    # Newest first, like the uploads playlist.
    assert [v.published_at for v in fetched] == sorted(
        (v.published_at for v in fetched), reverse=True
    )
    listing = [p for p in progress if p.stage == "uploads"]
    assert [(p.pages_fetched, p.videos_listed) for p in listing] == [
        (n, min(50 * n, videos)) for n in range(1, pages + 1)
    ]
    details = [p.videos_fetched for p in progress if p.stage == "videos"]
    assert details == [min(50 * n, videos) for n in range(1, -(-videos // 50) + 1)]
    assert {p.videos_expected for p in progress} == {videos}

    page_requests = rig.server.requests_to("playlistItems")
    assert len(page_requests) == pages
    assert {r.params["maxResults"] for r in page_requests} == {"50"}
    assert "pageToken" not in page_requests[0].params
    assert all("pageToken" in r.params for r in page_requests[1:])
    video_requests = rig.server.requests_to("videos")
    assert all(len(r.params["id"].split(",")) <= 50 for r in video_requests)
    assert len(video_requests) == -(-videos // 50)

    for video in fetched:
        row = expected[video.video_id]
        assert (video.views, video.likes, video.comments) == (
            int(row["viewCount"]),
            int(row["likeCount"]),
            int(row["commentCount"]),
        )
        assert video.published_at == datetime.fromisoformat(row["publishedAt"])
        assert video.published_at.tzinfo == UTC
        assert video.channel_id == info.channel_id
        assert video.title == row["title"]
    assert Counter(type(v.views) for v in fetched) == Counter({int: videos})


def test_durations_parse_and_p0d_is_unknown(rig: Rig) -> None:
    expected = csv_rows("The Rules Lawyer")
    _, fetched = rig.client.fetch_channel(handle="@TheRulesLawyer")

    by_id = {v.video_id: v for v in fetched}
    assert expected["gP6p_UBxVvc"]["duration"] == "P0D"
    assert by_id["gP6p_UBxVvc"].duration_seconds is None
    assert by_id["gP6p_UBxVvc"].to_video().duration_seconds is None
    known = [v for v in fetched if v.video_id != "gP6p_UBxVvc"]
    assert all(isinstance(v.duration_seconds, int) and v.duration_seconds > 0 for v in known)
    for row in expected.values():
        match = re.fullmatch(r"PT(\d+)M(\d+)S", row["duration"])
        if match:
            minutes, seconds = map(int, match.groups())
            assert by_id[row["video_id"]].duration_seconds == minutes * 60 + seconds


@pytest.mark.parametrize("handle", ["@TechWorldwithNana", "TechWorldwithNana", "techworldwithnana"])
def test_handle_lookup_with_or_without_at(rig: Rig, handle: str) -> None:
    info = rig.client.channel(handle=handle)

    assert info.channel_id == fake_channel_id("TechWorld with Nana")
    assert info.uploads_playlist_id == "UU" + info.channel_id[2:]
    assert info.handle == "@techworldwithnana"
    (request,) = rig.server.requests_to("channels")
    assert request.params["forHandle"].removeprefix("@") == handle.removeprefix("@")
    assert set(request.params["part"].split(",")) == {"snippet", "contentDetails", "statistics"}


def test_unknown_channel_is_not_found(rig: Rig) -> None:
    with pytest.raises(ChannelNotFound, match="No YouTube channel with handle '@nobody-here'"):
        rig.client.channel(handle="@nobody-here")
    with pytest.raises(ChannelNotFound, match="UCxxxxxxxxxxxxxxxxxxxxxx"):
        rig.client.fetch_channel(channel_id="UCxxxxxxxxxxxxxxxxxxxxxx")
    assert len(rig.server.requests_to("channels")) == 2
    assert rig.server.requests_to("playlistItems") == []


def test_channel_needs_exactly_one_identifier(rig: Rig) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        rig.client.channel()
    with pytest.raises(ValueError, match="exactly one"):
        rig.client.channel(channel_id="UC1", handle="@x")
    assert rig.server.requests == []


def test_videos_keeps_order_dedupes_and_skips_unknown_ids(rig: Rig) -> None:
    ids = list(csv_rows("deadly d8"))[:3]
    asked = [ids[2], "doesNotExist", ids[0], ids[2], ids[1]]

    videos = rig.client.videos(ids=asked)

    assert [v.video_id for v in videos] == [ids[2], ids[0], ids[1]]
    (request,) = rig.server.requests_to("videos")
    assert request.params["id"] == ",".join([ids[2], "doesNotExist", ids[0], ids[1]])


def test_most_popular_is_one_page_of_the_trending_chart(rig: Rig) -> None:
    popular = rig.client.most_popular(region_code="US", max_results=50)

    assert len(popular) == 50
    views = [v.views for v in popular]
    assert None not in views
    assert views == sorted((v or 0 for v in views), reverse=True)
    (request,) = rig.server.requests_to("videos")
    assert (request.params["chart"], request.params["regionCode"]) == ("mostPopular", "US")
    # The trending file has no durations: the fake says P0D, the client says unknown.
    assert {v.duration_seconds for v in popular} == {None}
    # No standard or maxres size for these: "high" is the largest sent.
    assert [v.thumbnail_url for v in popular] == [
        f"https://i.ytimg.com/vi/{v.video_id}/hqdefault.jpg" for v in popular
    ]


def test_hidden_likes_and_comments_stay_none_and_count_zero_in_video(rig: Rig) -> None:
    # Found in the trending file rather than hard-coded: rows with ratings/comments off.
    trending = Path(UPLOADS).parent / "trending_us_2017_11" / "USvideos.csv"
    with trending.open(encoding="utf-8", newline="") as handle:
        last = {r["video_id"]: r for r in csv.DictReader(handle)}
    hidden_likes = next(v for v, r in last.items() if r["ratings_disabled"] == "True")
    hidden_comments = next(
        v
        for v, r in last.items()
        if r["comments_disabled"] == "True" and r["ratings_disabled"] == "False"
    )

    by_id = {v.video_id: v for v in rig.client.videos(ids=[hidden_likes, hidden_comments])}

    assert by_id[hidden_likes].likes is None
    assert "likes" in by_id[hidden_likes].hidden_stats
    assert by_id[hidden_likes].to_video().likes == 0
    assert by_id[hidden_comments].comments is None
    assert by_id[hidden_comments].likes == int(last[hidden_comments]["likes"])
    assert by_id[hidden_comments].to_video().comments == 0
    assert by_id[hidden_comments].views == int(last[hidden_comments]["views"])


def test_other_client_errors_are_not_retried(rig: Rig) -> None:
    with pytest.raises(YouTubeApiError, match="playlistNotFound") as caught:
        list(rig.client.iter_uploads(playlist_id="UUnope"))
    assert caught.value.status == 404
    assert rig.sleeps == []
    assert len(rig.server.requests) == 1


def test_search_returns_matching_videos_with_statistics(rig: Rig) -> None:
    results = rig.client.search(q="Kubernetes", client_id="client-1", max_results=10)

    assert 0 < len(results) <= 10
    assert all(
        "kubernetes" in v.title.casefold() or any("kubernetes" in t.casefold() for t in v.tags)
        for v in results
    )
    assert all(isinstance(v.views, int) for v in results)
    (search,) = rig.server.requests_to("search")
    assert (search.params["type"], search.params["q"]) == ("video", "kubernetes")
