"""An upload compared with the thumbnails of the channel's outlier videos: the outliers are
the channel's high SmartScore outliers, their thumbnails fetched (only from YouTube's image
hosts, here a local stand-in) and measured like an upload, cached by URL; what cannot be
fetched is listed as skipped, never an error."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import async_to_sync
from django.core.cache import cache
from PIL import Image

from backend.channels.models import Channel, Video
from backend.channels.thumbnail_references import outlier_references
from backend.core.errors import NotFoundError
from tests.fakes.image_host import ImageHost

pytestmark = pytest.mark.django_db(transaction=True)

OBSERVED = datetime(2026, 11, 1, tzinfo=UTC)


def jpeg(colour: tuple[int, int, int], size: tuple[int, int] = (480, 360)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture
def host(env):
    server = ImageHost().start()
    env(THUMBNAIL_REFERENCE_HOSTS=[server.netloc], THUMBNAIL_REFERENCE_ALLOW_HTTP=True)
    cache.clear()
    yield server
    server.stop()
    cache.clear()


def channel_with_outliers(client_id: str, thumbnails: dict[str, str]) -> Channel:
    """20 ordinary videos and one breakout per entry of ``thumbnails`` (video id → URL)."""
    channel = Channel.objects.create(
        client_id=client_id, external_id="UC-latte", title="Latte Lab", role="own",
        is_primary=True, source="import", fetched_at=OBSERVED, video_count=0,
    )  # fmt: skip
    videos = [
        Video(
            channel=channel,
            video_id=f"plain-{n}",
            title=f"Ordinary {n}",
            published_at=OBSERVED - timedelta(days=30 + n * 7),
            views=1_000 + n * 10,
            likes=20,
            comments=2,
            thumbnail_url=f"https://i.ytimg.com/vi/plain-{n}/hqdefault.jpg",
        )
        for n in range(20)
    ]
    for rank, (video_id, url) in enumerate(thumbnails.items()):
        videos.append(
            Video(
                channel=channel,
                video_id=video_id,
                title=f"Breakout {video_id}",
                published_at=OBSERVED - timedelta(days=40 + rank),
                views=400_000 - rank * 50_000,
                likes=20_000,
                comments=900,
                thumbnail_url=url,
            )
        )
    Video.objects.bulk_create(videos)
    return channel


def test_the_outliers_thumbnails_are_measured_and_failures_listed(anon_client, host) -> None:
    urls = {
        "hit-1": host.serve("/vi/hit-1/hqdefault.jpg", jpeg((250, 240, 230))),
        "hit-2": host.serve("/vi/hit-2/hqdefault.jpg", jpeg((240, 250, 245))),
        "gone": host.url("/vi/gone/hqdefault.jpg"),  # 404
        "elsewhere": "https://evil.example/steal.jpg",  # not YouTube's image host
        "no-image": "",
    }
    channel = channel_with_outliers(anon_client.client_id, urls)

    refs = async_to_sync(outlier_references)(
        client_id=anon_client.client_id, channel_id=str(channel.pk)
    )

    assert refs.channel_id == "UC-latte" and refs.channel_title == "Latte Lab"
    assert [r["video_id"] for r in refs.measured] == ["hit-1", "hit-2"]  # strongest first
    assert all(r["measured"]["brightness"] > 0.9 for r in refs.measured)
    assert {s["video_id"]: s["reason"] for s in refs.skipped} == {
        "gone": "fetch failed: HTTP 404",
        "elsewhere": "not a YouTube image URL",
        "no-image": "no thumbnail is known",
    }
    # Only the outliers' thumbnails were asked for, and a second look is served from cache.
    async_to_sync(outlier_references)(client_id=anon_client.client_id, channel_id="UC-latte")
    assert host.hits["/vi/hit-1/hqdefault.jpg"] == 1
    assert not any("plain" in path for path in host.hits)


def test_another_clients_channel_is_not_found(anon_client, host) -> None:
    channel = channel_with_outliers("someone-else", {})
    with pytest.raises(NotFoundError):
        async_to_sync(outlier_references)(
            client_id=anon_client.client_id, channel_id=str(channel.pk)
        )


def test_https_only_by_default(env) -> None:
    from backend.channels.thumbnail_references import allowed

    env(THUMBNAIL_REFERENCE_ALLOW_HTTP=False)
    assert allowed("https://i.ytimg.com/vi/x/hqdefault.jpg")
    assert not allowed("http://i.ytimg.com/vi/x/hqdefault.jpg")
    assert not allowed("https://i.ytimg.com.evil.example/x.jpg")
    assert not allowed("https://user@i.ytimg.com/x.jpg")


def test_through_the_api_an_upload_is_compared_with_the_outliers(anon_client, host) -> None:
    urls = {
        "hit-1": host.serve("/vi/hit-1/hqdefault.jpg", jpeg((250, 240, 230))),
        "hit-2": host.serve("/vi/hit-2/hqdefault.jpg", jpeg((235, 250, 245))),
    }
    channel = channel_with_outliers(anon_client.client_id, urls)
    dark = io.BytesIO(jpeg((15, 15, 25), size=(1280, 720)))
    dark.name = "mine.jpg"

    response = anon_client.post(
        f"/api/channels/{channel.pk}/thumbnail-comparison/", {"image": dark}, format="multipart"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert [o["video_id"] for o in body["outliers"]] == ["hit-1", "hit-2"]
    assert body["comparison"]["compared_with"] == 2
    assert "Darker than all 2 outlier thumbnails." in body["comparison"]["summary"]
    assert body["measured"]["is_16_9"] is True


def test_the_api_names_the_field_and_hides_other_clients_channels(anon_client, host) -> None:
    channel = channel_with_outliers(anon_client.client_id, {})
    bogus = io.BytesIO(b"GIF89a-not-really")
    bogus.name = "x.gif"
    response = anon_client.post(
        f"/api/channels/{channel.pk}/thumbnail-comparison/", {"image": bogus}, format="multipart"
    )
    assert response.status_code == 400
    assert "image" in response.json()["error"]["details"]["fields"]
    theirs = channel_with_outliers("someone-else", {})
    Channel.objects.filter(pk=theirs.pk).update(external_id="UC-theirs")
    image = io.BytesIO(jpeg((1, 1, 1)))
    image.name = "x.jpg"
    response = anon_client.post(
        f"/api/channels/{theirs.pk}/thumbnail-comparison/", {"image": image}, format="multipart"
    )
    assert response.status_code == 404
