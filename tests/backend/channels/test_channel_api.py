"""Channel import and analytics endpoints: anonymous → someone else's → invalid → happy."""

from __future__ import annotations

import io

import pytest
from rest_framework.test import APIClient

from backend.channels.models import Channel, Video

pytestmark = pytest.mark.django_db

HEADER = (
    "video_id,channelTitle,title,description,tags,publishedAt,"
    "viewCount,likeCount,commentCount,duration\n"
)


def csv_file(text: str, name: str = "uploads.csv") -> io.BytesIO:
    upload = io.BytesIO(text.encode())
    upload.name = name
    return upload


@pytest.fixture
def datasci(shared_data):
    return (shared_data / "youtube/channel_uploads/datasci_5ch_video_data.csv").read_bytes()


def import_datasci(client, datasci, snapshot_at="2024-12-20T00:00:00Z"):
    upload = io.BytesIO(datasci)
    upload.name = "datasci.csv"
    return client.post(
        "/api/channels/import/", {"file": upload, "snapshot_at": snapshot_at}, format="multipart"
    )


def test_anonymous_is_401():
    client = APIClient()
    assert client.get("/api/channels/").status_code == 401
    assert client.post("/api/channels/import/", {}, format="multipart").status_code == 401


def test_import_of_the_real_export(anon_client, datasci):
    response = import_datasci(anon_client, datasci)
    assert response.status_code == 201
    body = response.json()
    assert body["rows_read"] == 1772 and body["imported_rows"] == 1772
    assert body["rejected_rows"] == 0
    counts = {c["title"]: c["video_count"] for c in body["channels"]}
    assert counts == {
        "codebasics": 998,
        "Alex The Analyst": 338,
        "Absent Data": 221,
        "TechWorld with Nana": 125,
        "Thu Vu data analytics": 90,
    }
    assert {c["status"] for c in body["channels"]} == {"created"}
    again = import_datasci(anon_client, datasci).json()
    assert {c["status"] for c in again["channels"]} == {"updated"}
    assert Video.objects.count() == 1772  # refreshed, not duplicated
    listing = anon_client.get("/api/channels/").json()
    assert listing["count"] == 5
    assert {"id", "title", "video_count", "fetched_at"} <= set(listing["results"][0])


def test_bad_rows_are_counted_not_fatal(anon_client):
    text = HEADER + (
        "a1,Chan,Good,,[],2024-01-01T00:00:00Z,100,5,1,PT5M\n"
        "a2,Chan,Bad views,,[],2024-01-02T00:00:00Z,lots,5,1,PT5M\n"
        "a3,Chan,Bad date,,[],yesterday,100,5,1,PT5M\n"
    )
    body = anon_client.post(
        "/api/channels/import/", {"file": csv_file(text)}, format="multipart"
    ).json()
    assert body["imported_rows"] == 1 and body["rejected_rows"] == 2
    reasons = {row["row_number"]: row["field"] for row in body["rejected"]}
    assert set(reasons.values()) == {"viewCount", "publishedAt"}


@pytest.mark.parametrize(
    ("payload", "field"),
    [({}, "file"), ({"snapshot_at": "not a date"}, "snapshot_at")],
)
def test_invalid_import_names_the_field(anon_client, payload, field):
    if field != "file":
        payload["file"] = csv_file(HEADER)
    response = anon_client.post("/api/channels/import/", payload, format="multipart")
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]["fields"]


def test_csv_without_the_columns_is_400(anon_client):
    response = anon_client.post(
        "/api/channels/import/", {"file": csv_file("a,b\n1,2\n")}, format="multipart"
    )
    assert response.status_code == 400
    assert "file" in response.json()["error"]["details"]["fields"]


def test_someone_elses_channel_is_404(anon_client, datasci):
    import_datasci(anon_client, datasci)
    channel = Channel.objects.first()
    other = APIClient()
    other.credentials(HTTP_X_CLIENT_TOKEN=other.post("/api/clients/").json()["token"])
    for path in ("videos", "outliers", "upload-streak"):
        assert other.get(f"/api/channels/{channel.id}/{path}/").status_code == 404
    assert other.get("/api/channels/").json()["count"] == 0


def test_videos_are_paginated(anon_client, datasci):
    import_datasci(anon_client, datasci)
    nana = Channel.objects.get(title="TechWorld with Nana")
    page = anon_client.get(f"/api/channels/{nana.id}/videos/?page_size=50&page=3").json()
    assert page["count"] == 125 and len(page["results"]) == 25 and page["next"] is None
    assert anon_client.get(f"/api/channels/{nana.id}/videos/?page=99").status_code == 404


def test_outliers_and_streak_come_from_the_agent_tools(anon_client, datasci):
    import_datasci(anon_client, datasci)
    nana = Channel.objects.get(title="TechWorld with Nana")
    outliers = anon_client.get(f"/api/channels/{nana.id}/outliers/")
    assert outliers.status_code == 200
    streak = anon_client.get(f"/api/channels/{nana.id}/upload-streak/")
    assert streak.status_code == 200
    history = anon_client.get("/api/history/?tool=channel_outliers").json()
    assert history["count"] == 1
    assert history["results"][0]["result"] == outliers.json()
    assert anon_client.get(f"/api/channels/{nana.id}/outliers/?as_of=garbage").status_code == 400


def test_outliers_can_list_every_scored_video(anon_client, datasci):
    import_datasci(anon_client, datasci)
    nana = Channel.objects.get(title="TechWorld with Nana")
    default = anon_client.get(f"/api/channels/{nana.id}/outliers/").json()
    everything = anon_client.get(f"/api/channels/{nana.id}/outliers/?top_n=500").json()
    assert len(default["videos"]) < everything["videos_scored"]
    assert len(everything["videos"]) == everything["videos_scored"]
    response = anon_client.get(f"/api/channels/{nana.id}/outliers/?top_n=501")
    assert response.status_code == 400
    assert "top_n" in response.json()["error"]["details"]["fields"]


def test_channel_numbers_carry_their_source_and_snapshot_time(anon_client, datasci):
    import_datasci(anon_client, datasci, snapshot_at="2024-12-20T00:00:00Z")
    nana = Channel.objects.get(title="TechWorld with Nana")
    body = anon_client.get(f"/api/channels/{nana.id}/outliers/").json()
    text = str(body)
    assert "imported CSV" in text
    assert "2024-12-20" in text  # analysed as of when the statistics were observed
