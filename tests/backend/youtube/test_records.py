"""Parsing the API's JSON: statistics as strings, ISO-8601 durations, hidden counts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.analytics.durations import format_duration
from agents.analytics.video import Video
from backend.youtube import MalformedResponse
from backend.youtube.records import parse_channel, parse_video

counts = st.integers(min_value=0, max_value=2**64 - 1)


def api_video(**overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "kind": "youtube#video",
        "id": "abc123",
        "snippet": {
            "publishedAt": "2024-07-03T13:38:57Z",
            "channelId": "UCxyz",
            "channelTitle": "A channel",
            "title": "A title",
            "description": "",
            "tags": ["a", "b"],
        },
        "contentDetails": {"duration": "PT15M51S"},
        "statistics": {"viewCount": "10", "likeCount": "2", "commentCount": "1"},
    }
    for part, value in overrides.items():
        item[part] = value
    return item


@given(seconds=st.integers(min_value=1, max_value=40 * 86_400))
def test_duration_round_trips(seconds: int) -> None:
    video = parse_video(api_video(contentDetails={"duration": format_duration(seconds)}))
    assert video.duration_seconds == seconds
    assert video.to_video().duration_seconds == seconds


@pytest.mark.parametrize("placeholder", ["P0D", "PT0S"])
def test_zero_duration_is_unknown(placeholder: str) -> None:
    assert parse_video(api_video(contentDetails={"duration": placeholder})).duration_seconds is None


@given(views=counts, likes=st.none() | counts, comments=st.none() | counts)
def test_statistics_strings_round_trip_and_hidden_ones_are_none(
    views: int, likes: int | None, comments: int | None
) -> None:
    stats = {"viewCount": str(views)}
    if likes is not None:
        stats["likeCount"] = str(likes)
    if comments is not None:
        stats["commentCount"] = str(comments)

    video = parse_video(api_video(statistics=stats))

    assert (video.views, video.likes, video.comments) == (views, likes, comments)
    assert set(video.hidden_stats) == {
        name for name, v in (("likes", likes), ("comments", comments)) if v is None
    }
    record = video.to_video()
    assert isinstance(record, Video)
    assert (record.views, record.likes, record.comments) == (views, likes or 0, comments or 0)


def test_timestamps_are_utc_and_tags_optional() -> None:
    snippet = {**api_video()["snippet"], "publishedAt": "2017-11-13T17:13:01.000Z"}
    del snippet["tags"]
    video = parse_video(api_video(snippet=snippet))
    assert video.published_at == datetime(2017, 11, 13, 17, 13, 1, tzinfo=UTC)
    assert video.tags == ()


@pytest.mark.parametrize(
    "overrides",
    [
        {"statistics": {"viewCount": "-1"}},
        {"statistics": {"viewCount": "12.5"}},
        {"contentDetails": {"duration": "P1M"}},
        {"snippet": {"publishedAt": "2024-07-03T13:38:57"}},
    ],
)
def test_malformed_values_are_named(overrides: dict[str, Any]) -> None:
    with pytest.raises(MalformedResponse, match="cannot read"):
        parse_video(api_video(**overrides))


def test_hidden_subscriber_count_is_none() -> None:
    item = {
        "id": "UCxyz",
        "snippet": {"title": "T", "customUrl": "@t"},
        "contentDetails": {"relatedPlaylists": {"uploads": "UUxyz"}},
        "statistics": {"hiddenSubscriberCount": True, "subscriberCount": "0", "videoCount": "3"},
    }
    channel = parse_channel(item)
    assert channel.subscriber_count is None
    assert channel.video_count == 3
    assert channel.uploads_playlist_id == "UUxyz"


def thumbnails(*sizes: str, url: str = "https://i.ytimg.com/vi/abc123/{}.jpg") -> dict[str, Any]:
    return {size: {"url": url.format(size), "width": 1, "height": 1} for size in sizes}


@pytest.mark.parametrize(
    ("sizes", "kept"),
    [
        (("default", "medium", "high", "standard", "maxres"), "maxres"),
        (("default", "medium", "high", "standard"), "standard"),
        (("default", "medium", "high"), "high"),
        (("medium", "default"), "medium"),
        (("default",), "default"),
    ],
)
def test_the_largest_thumbnail_is_kept(sizes: tuple[str, ...], kept: str) -> None:
    snippet = {**api_video()["snippet"], "thumbnails": thumbnails(*sizes)}
    video = parse_video(api_video(snippet=snippet))
    assert video.thumbnail_url == f"https://i.ytimg.com/vi/abc123/{kept}.jpg"
    assert video.to_video().thumbnail_url == video.thumbnail_url


@pytest.mark.parametrize(
    "value",
    [
        None,
        {},
        [],
        {"maxres": {"url": "javascript:alert(1)"}},
        {"maxres": {"url": "//i.ytimg.com/vi/x/maxres.jpg"}},
        {"maxres": {"url": "ftp://i.ytimg.com/x.jpg"}},
        {"maxres": {"url": "https://"}},
        {"maxres": {"url": 12}},
        {"maxres": "https://i.ytimg.com/x.jpg"},
        {"maxres": {"url": "https://i.ytimg.com/" + "x" * 500}},
    ],
)
def test_a_thumbnail_that_is_no_web_url_is_dropped(value: Any) -> None:
    snippet = {**api_video()["snippet"], "thumbnails": value}
    assert parse_video(api_video(snippet=snippet)).thumbnail_url is None


def test_a_bad_largest_thumbnail_falls_back_to_the_next_size() -> None:
    sizes = {
        "maxres": {"url": "data:image/png;base64,AAAA"},
        "high": {"url": "http://i.ytimg.com/vi/abc123/hqdefault.jpg"},
    }
    snippet = {**api_video()["snippet"], "thumbnails": sizes}
    video = parse_video(api_video(snippet=snippet))
    assert video.thumbnail_url == "http://i.ytimg.com/vi/abc123/hqdefault.jpg"


@pytest.mark.parametrize(
    ("custom_url", "handle"),
    [("@frizz", "@frizz"), ("frizz", "@frizz"), (" @frizz ", "@frizz"), ("", None), (None, None)],
)
def test_the_channel_handle_is_its_custom_url_with_an_at(
    custom_url: str | None, handle: str | None
) -> None:
    item = {
        "id": "UCxyz",
        "snippet": {"title": "T", "customUrl": custom_url},
        "contentDetails": {"relatedPlaylists": {"uploads": "UUxyz"}},
    }
    assert parse_channel(item).handle == handle
