"""Bounded channel input: a CSV import has caps on rows and channels (400 naming ``file``)
and batched database work; adding channels from YouTube is limited per client (one fetch
of a channel in flight, so many an hour; 429 with Retry-After)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from backend.channels.fetch import KIND as FETCH_KIND
from backend.channels.models import Channel, Video
from backend.runs.models import Run

pytestmark = pytest.mark.django_db

HEADER = [
    "video_id",
    "channelId",
    "channelTitle",
    "title",
    "description",
    "tags",
    "publishedAt",
    "viewCount",
    "likeCount",
    "commentCount",
    "duration",
]


def uploads_csv(*, channels: int, rows_per_channel: int) -> io.BytesIO:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for c in range(channels):
        for n in range(rows_per_channel):
            writer.writerow(
                [
                    f"v{c}-{n}",
                    f"UCchannel{c:016d}",
                    f"Channel {c}",
                    f"video {n}",
                    "",
                    "[]",
                    "2024-01-01T00:00:00Z",
                    str(100 + n),
                    "1",
                    "1",
                    "PT5M",
                ]
            )
    upload = io.BytesIO(out.getvalue().encode())
    upload.name = "uploads.csv"
    return upload


def post_import(client, upload):
    return client.post("/api/channels/import/", {"file": upload}, format="multipart")


# --- CSV import ---------------------------------------------------------------------------


def test_more_rows_than_the_cap_is_400_naming_file(anon_client, env):
    env(CSV_IMPORT_MAX_ROWS=100)
    response = post_import(anon_client, uploads_csv(channels=1, rows_per_channel=101))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["fields"]["file"] == ["has 101 rows; at most 100 per file"]
    assert not Channel.objects.exists() and not Video.objects.exists()


def test_more_channels_than_the_cap_is_400_naming_file(anon_client, env):
    env(CSV_IMPORT_MAX_CHANNELS=3)
    response = post_import(anon_client, uploads_csv(channels=4, rows_per_channel=2))
    assert response.status_code == 400
    assert response.json()["error"]["details"]["fields"]["file"] == [
        "holds 4 channels; at most 3 per file"
    ]
    assert not Channel.objects.exists()


def test_at_the_caps_the_import_goes_through(anon_client, env):
    env(CSV_IMPORT_MAX_ROWS=100, CSV_IMPORT_MAX_CHANNELS=4)
    response = post_import(anon_client, uploads_csv(channels=4, rows_per_channel=25))
    assert response.status_code == 201, response.content
    assert response.json()["imported_rows"] == 100


def test_a_file_over_the_import_size_is_400_naming_file(anon_client, env):
    env(CSV_IMPORT_MAX_BYTES=2048)
    response = post_import(anon_client, uploads_csv(channels=1, rows_per_channel=100))
    assert response.status_code == 400
    assert response.json()["error"]["details"]["fields"]["file"] == ["must be at most 2048 bytes"]


def test_the_import_route_takes_files_above_the_general_body_cap(settings):
    from backend.core.body_limit import limit_for

    assert limit_for("/api/channels/import/") > settings.MAX_REQUEST_BODY_BYTES
    assert limit_for("/api/channels/import/") >= settings.ENV.CSV_IMPORT_MAX_BYTES
    assert limit_for("/api/chat/sessions/") == settings.MAX_REQUEST_BODY_BYTES


def test_the_pathfinder_export_imports_in_few_queries(
    anon_client, shared_data, django_assert_max_num_queries
):
    """1,451 rows in 6 channels: the videos go in bulk (measured: 78 queries on SQLite)."""
    data = (shared_data / "youtube/channel_uploads/pathfinder_6ch_video_data.csv").read_bytes()
    upload = io.BytesIO(data)
    upload.name = "pathfinder.csv"
    with django_assert_max_num_queries(90):
        response = post_import(anon_client, upload)
    assert response.status_code == 201
    assert response.json()["rows_read"] == 1451 and len(response.json()["channels"]) == 6


def test_videos_go_in_batches_not_one_statement_per_row(anon_client, django_assert_max_num_queries):
    # One channel with 3,000 videos: a handful of statements for the channel, then one
    # INSERT per batch (500 rows, or as many as SQLite's 999 parameters allow: 90).
    with django_assert_max_num_queries(3000 // 90 + 15):
        response = post_import(anon_client, uploads_csv(channels=1, rows_per_channel=3000))
    assert response.status_code == 201
    assert Video.objects.count() == 3000


# --- YouTube fetch ------------------------------------------------------------------------


@pytest.fixture
def youtube_keys(env, settings):
    # The runs are only recorded here (nothing executes them): the limits are checked
    # before a run is queued.
    settings.TASK_RUNNER = "thread"
    env(YOUTUBE_API_KEYS=["key-a"], YOUTUBE_CHANNEL_FETCHES_PER_HOUR=3)


@pytest.fixture(autouse=True)
def no_execution(monkeypatch):
    monkeypatch.setattr("backend.runs.services.run_enqueue", lambda **kwargs: None)


def fetch(client, **body):
    return client.post("/api/channels/", body, format="json")


def test_anonymous_fetch_is_401(api_client, youtube_keys):
    assert fetch(api_client, handle="@someone").status_code == 401


def test_a_channel_in_flight_is_429_until_its_run_ends(anon_client, youtube_keys):
    first = fetch(anon_client, handle="@SomeChannel")
    assert first.status_code == 202, first.content
    again = fetch(anon_client, handle="somechannel")  # the same channel, spelled otherwise
    assert again.status_code == 429
    assert again.headers["Retry-After"] == "30"
    error = again.json()["error"]
    assert error["code"] == "RATE_LIMITED"
    assert error["details"]["run_id"] == first.json()["run_id"]
    assert fetch(anon_client, handle="@another").status_code == 202
    Run.objects.filter(pk=first.json()["run_id"]).update(status=Run.Status.COMPLETED)
    assert fetch(anon_client, handle="@SomeChannel").status_code == 202


def test_someone_elses_fetch_of_the_channel_does_not_block_mine(anon_client, youtube_keys):
    Run.objects.create(
        kind=FETCH_KIND,
        client_id="someone-else",
        model="youtube-data-api",
        status=Run.Status.RUNNING,
        input={"channel_id": None, "handle": "@shared"},
    )
    assert fetch(anon_client, handle="@shared").status_code == 202


def test_fetches_per_hour_are_capped_with_retry_after(anon_client, youtube_keys):
    client_id = anon_client.client_id
    earlier = timezone.now() - timedelta(minutes=50)
    for n in range(2):
        run = Run.objects.create(
            kind=FETCH_KIND,
            client_id=client_id,
            model="youtube-data-api",
            status=Run.Status.COMPLETED,
            input={"channel_id": None, "handle": f"@old{n}"},
        )
        Run.objects.filter(pk=run.pk).update(created_at=earlier + timedelta(minutes=n))
    assert fetch(anon_client, handle="@third").status_code == 202
    refused = fetch(anon_client, handle="@fourth")
    assert refused.status_code == 429
    # The oldest of the three leaves the hour in about ten minutes.
    assert 9 * 60 <= int(refused.headers["Retry-After"]) <= 10 * 60 + 1
    assert refused.json()["error"]["details"]["limit"] == 3
    # An hour-old fetch no longer counts.
    Run.objects.filter(client_id=client_id, input__handle="@old0").update(
        created_at=timezone.now() - timedelta(minutes=61)
    )
    assert fetch(anon_client, handle="@fourth").status_code == 202
