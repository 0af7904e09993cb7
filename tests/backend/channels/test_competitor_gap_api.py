"""GET /api/channels/{id}/competitor-gap/: anonymous → someone else's channel → invalid
input → the happy path on the imported Pathfinder export (the agent tool's numbers)."""

from __future__ import annotations

import io

import pytest
from rest_framework.test import APIClient

from backend.channels.models import Channel

pytestmark = pytest.mark.django_db

SNAPSHOT = "2023-06-15T00:00:00Z"  # two days after the export's last upload


@pytest.fixture
def pathfinder(shared_data):
    return (shared_data / "youtube/channel_uploads/pathfinder_6ch_video_data.csv").read_bytes()


def import_csv(client, data: bytes, name: str = "pathfinder.csv"):
    upload = io.BytesIO(data)
    upload.name = name
    response = client.post(
        "/api/channels/import/", {"file": upload, "snapshot_at": SNAPSHOT}, format="multipart"
    )
    assert response.status_code == 201
    return response.json()


def url(channel_id, query: str = "") -> str:
    return f"/api/channels/{channel_id}/competitor-gap/" + (f"?{query}" if query else "")


def by_title(client_id: str, title: str) -> Channel:
    return Channel.objects.get(client_id=client_id, title=title)


def other_client() -> APIClient:
    other = APIClient()
    other.credentials(HTTP_X_CLIENT_TOKEN=other.post("/api/clients/").json()["token"])
    return other


def test_anonymous_is_401():
    assert APIClient().get(url("anything")).status_code == 401


def test_someone_elses_channels_are_404(anon_client, pathfinder):
    import_csv(anon_client, pathfinder)
    frizz = by_title(anon_client.client_id, "Frizz")
    rules = by_title(anon_client.client_id, "The Rules Lawyer")
    other = other_client()
    response = other.get(url(frizz.id))
    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"

    # A competitor that belongs to someone else is 404 too, naming the parameter.
    import_csv(other, pathfinder)
    mine = Channel.objects.exclude(client_id=anon_client.client_id).get(title="Frizz")
    response = other.get(url(mine.id, f"competitors={rules.id}"))
    assert response.status_code == 404
    error = response.json()["error"]
    assert "competitors" in error["details"]["fields"] and str(rules.id) in error["message"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("min_multiple=1", "min_multiple"),
        ("min_multiple=lots", "min_multiple"),
        ("min_age_days=-1", "min_age_days"),
        ("limit=0", "limit"),
        ("limit=51", "limit"),
    ],
)
def test_invalid_input_names_the_field(anon_client, pathfinder, query, field):
    import_csv(anon_client, pathfinder)
    frizz = by_title(anon_client.client_id, "Frizz")
    response = anon_client.get(url(frizz.id, query))
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]["fields"]


def test_the_base_cannot_be_its_own_competitor(anon_client, pathfinder):
    import_csv(anon_client, pathfinder)
    frizz = by_title(anon_client.client_id, "Frizz")
    response = anon_client.get(url(frizz.id, f"competitors={frizz.id}"))
    assert response.status_code == 400
    assert "competitors" in response.json()["error"]["details"]["fields"]
    assert "Frizz" in response.json()["error"]["message"]


def test_no_competitor_in_the_workspace_says_what_to_do(anon_client):
    header = (
        "video_id,channelTitle,title,description,tags,publishedAt,"
        "viewCount,likeCount,commentCount,duration\n"
    )
    rows = "".join(
        f"v{i},Solo,Video {i},,[],2023-0{1 + i % 5}-01T00:00:00Z,{100 + i},1,1,PT5M\n"
        for i in range(6)
    )
    import_csv(anon_client, (header + rows).encode(), name="solo.csv")
    solo = by_title(anon_client.client_id, "Solo")
    response = anon_client.get(url(solo.id))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert "no competitor channels" in error["message"] and "import or add" in error["message"]


def test_gaps_of_the_primary_against_every_competitor(anon_client, pathfinder):
    imported = import_csv(anon_client, pathfinder)
    # The export's first channel became the primary own channel, the others competitors.
    roles = {c["title"]: (c["role"], c["primary"]) for c in imported["channels"]}
    assert roles["Frizz"] == ("own", True)
    frizz = by_title(anon_client.client_id, "Frizz")

    response = anon_client.get(url(frizz.id))

    assert response.status_code == 200
    body = response.json()
    assert (body["channel_title"], body["channel_role"]) == ("Frizz", "own")
    assert body["competitors_basis"] == "workspace competitors"
    assert body["channels_analysed"] == 5 and body["own"]["videos"] == 217
    assert {c["source"] for c in body["competitors"]} == {"imported CSV"}
    assert {c["as_of"] for c in body["competitors"]} == {"2023-06-15T00:00:00Z"}
    top = body["gaps"][0]
    assert top["topic"] == "fighter class" and top["proof_channels"] == 3
    proof = top["proof_videos"][0]
    assert proof["title"] == "The Fighter Class ft. NoNat1s [Pathfinder 2e Animated]"
    assert proof["url"] == f"https://www.youtube.com/watch?v={proof['video_id']}"
    assert proof["multiple"] == pytest.approx(proof["views"] / proof["channel_median_views"])
    assert body["score_formula"].startswith("score = round(100 * (")
    history = anon_client.get("/api/history/?tool=competitor_gap").json()
    assert history["count"] == 1 and history["results"][0]["result"] == body


def test_named_competitors_and_options(anon_client, pathfinder):
    import_csv(anon_client, pathfinder)
    frizz = by_title(anon_client.client_id, "Frizz")
    nonat1s = by_title(anon_client.client_id, "Nonat1s")
    rules = by_title(anon_client.client_id, "The Rules Lawyer")

    response = anon_client.get(
        url(frizz.id, f"competitors={nonat1s.id}&competitors={rules.id}&min_multiple=5&limit=3")
    )

    assert response.status_code == 200
    body = response.json()
    assert body["competitors_basis"] == "argument"
    assert [c["channel_title"] for c in body["competitors"]] == ["Nonat1s", "The Rules Lawyer"]
    assert body["min_multiple"] == 5 and len(body["gaps"]) == 3
    for gap in body["gaps"]:
        for proof in gap["proof_videos"]:
            assert proof["channel_title"] in {"Nonat1s", "The Rules Lawyer"}
            assert proof["multiple"] >= 5

    # Any channel may be the base: a competitor against the others.
    as_base = anon_client.get(url(rules.id)).json()
    assert (as_base["channel_title"], as_base["channel_role"]) == ("The Rules Lawyer", "competitor")
    assert "The Rules Lawyer" not in {c["channel_title"] for c in as_base["competitors"]}
