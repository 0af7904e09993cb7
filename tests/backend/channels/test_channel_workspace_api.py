"""The channel workspace over HTTP: roles, the primary, display names, delete, the list.

Endpoint tests walk anonymous → someone else's channel → invalid input → the happy path;
then each rule of ``channel_update`` / ``channel_delete`` and the first-channel rule of
imports, and a property test of the invariant (own channels always have one primary).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from agents.analytics.video import Video as AnalyticsVideo
from backend.channels import services
from backend.channels.models import Channel, Video
from backend.clients.services import client_create

pytestmark = pytest.mark.django_db

BASE = datetime(2026, 1, 1, tzinfo=UTC)
CSV_HEADER = [
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


def make_channel(
    client_id: str,
    title: str,
    *,
    role: str = "competitor",
    primary: bool = False,
    age: int = 0,
    display_name: str = "",
    videos: int = 0,
) -> Channel:
    """A stored channel; ``age`` orders created_at (higher = created later)."""
    channel = Channel.objects.create(
        client_id=client_id,
        external_id=f"UC-{title}",
        title=title,
        display_name=display_name,
        role=role,
        is_primary=primary,
        source="import",
        fetched_at=BASE,
        video_count=videos,
    )
    Channel.objects.filter(pk=channel.pk).update(created_at=BASE + timedelta(seconds=age))
    Video.objects.bulk_create(
        Video(
            channel=channel,
            video_id=f"{title}-{n}",
            title=f"video {n}",
            published_at=BASE,
            views=n,
            likes=0,
            comments=0,
        )
        for n in range(videos)
    )
    channel.refresh_from_db()
    return channel


def state(client_id: str) -> dict[str, tuple[str, bool]]:
    return {c.title: (c.role, c.is_primary) for c in Channel.objects.filter(client_id=client_id)}


def patch(client: APIClient, channel: Channel, body: object):
    return client.patch(f"/api/channels/{channel.id}/", body, format="json")


def other_client() -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_CLIENT_TOKEN=client_create(ip_hash="other")[1])
    return client


def uploads_csv(rows: list[tuple[str, str, str]]) -> io.BytesIO:
    """(video_id, channelId, channelTitle) rows of a minimal valid export."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for n, (video_id, channel_id, title) in enumerate(rows):
        published, views = "2024-01-01T00:00:00Z", str(100 + n)
        writer.writerow(
            [video_id, channel_id, title, f"v{n}", "", "[]", published, views, "1", "1", "PT5M"]
        )
    upload = io.BytesIO(out.getvalue().encode())
    upload.name = "uploads.csv"
    return upload


def import_csv(client: APIClient, rows: list[tuple[str, str, str]]) -> dict:
    response = client.post("/api/channels/import/", {"file": uploads_csv(rows)}, format="multipart")
    assert response.status_code == 201, response.content
    return response.json()


# --- anonymous → someone else's → invalid ----------------------------------------------


def test_anonymous_is_401(anon_client):
    channel = make_channel(anon_client.client_id, "Mine", role="own", primary=True)
    anonymous = APIClient()
    assert patch(anonymous, channel, {"display_name": "x"}).status_code == 401
    assert anonymous.delete(f"/api/channels/{channel.id}/").status_code == 401
    assert Channel.objects.filter(pk=channel.pk, display_name="").exists()


def test_someone_elses_channel_is_404_and_stays_as_it_was(anon_client):
    channel = make_channel(anon_client.client_id, "Mine", role="own", primary=True, videos=3)
    other = other_client()
    for response in (
        patch(other, channel, {"role": "competitor"}),
        patch(other, channel, {"display_name": "stolen"}),
        other.delete(f"/api/channels/{channel.id}/"),
        # By the YouTube id too: the lookup is scoped to the client either way.
        other.delete(f"/api/channels/{channel.external_id}/"),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "NOT_FOUND"
    channel.refresh_from_db()
    assert (channel.role, channel.is_primary, channel.display_name) == ("own", True, "")
    assert channel.videos.count() == 3


def test_an_unknown_channel_is_404(anon_client):
    for path in ("00000000-0000-0000-0000-000000000000", "not-a-uuid", "UCnope"):
        response = anon_client.patch(f"/api/channels/{path}/", {"primary": True}, format="json")
        assert response.status_code == 404
        assert anon_client.delete(f"/api/channels/{path}/").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"primary": False}, "primary"),
        ({"primary": None}, "primary"),
        ({"primary": "yes"}, "primary"),
        ({"primary": 1}, "primary"),
        ({"role": "owner"}, "role"),
        ({"role": None}, "role"),
        ({"role": "competitor", "primary": True}, "role"),
        ({"display_name": "x" * 101}, "display_name"),
        ({"display_name": ["a list"]}, "display_name"),
        ({"title": "renamed"}, "title"),
        ({"colour": "red", "role": "own"}, "colour"),
    ],
)
def test_invalid_changes_are_400_naming_the_field(anon_client, body, field):
    mine = make_channel(anon_client.client_id, "Mine", role="own", primary=True)
    other = make_channel(anon_client.client_id, "Theirs", age=1)
    before = state(anon_client.client_id)
    response = patch(anon_client, other if field != "primary" else mine, body)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert field in error["details"]["fields"]
    assert state(anon_client.client_id) == before
    assert Channel.objects.get(pk=other.pk).title == "Theirs"


def test_primary_false_says_to_make_another_channel_primary(anon_client):
    mine = make_channel(anon_client.client_id, "Mine", role="own", primary=True)
    error = patch(anon_client, mine, {"primary": False}).json()["error"]
    assert "another channel primary" in error["details"]["fields"]["primary"][0]


def test_a_body_that_is_not_an_object_is_400(anon_client):
    mine = make_channel(anon_client.client_id, "Mine", role="own", primary=True)
    response = anon_client.patch(f"/api/channels/{mine.id}/", [1, 2], format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


# --- the happy paths, rule by rule -------------------------------------------------------


def test_primary_true_makes_the_channel_own_and_primary_and_the_old_one_stays_own(anon_client):
    cid = anon_client.client_id
    make_channel(cid, "Main", role="own", primary=True)
    shorts = make_channel(cid, "Shorts", age=1)
    response = patch(anon_client, shorts, {"primary": True})
    assert response.status_code == 200, response.content
    assert (response.json()["role"], response.json()["primary"]) == ("own", True)
    assert state(cid) == {"Main": ("own", False), "Shorts": ("own", True)}
    # Again: nothing changes.
    assert patch(anon_client, shorts, {"primary": True, "role": "own"}).status_code == 200
    assert state(cid) == {"Main": ("own", False), "Shorts": ("own", True)}


def test_competitor_on_the_primary_promotes_the_oldest_other_own_channel(anon_client):
    cid = anon_client.client_id
    make_channel(cid, "Rival", age=0)  # oldest, but a competitor
    primary = make_channel(cid, "Main", role="own", primary=True, age=1)
    make_channel(cid, "Later own", role="own", age=3)
    make_channel(cid, "Older own", role="own", age=2)
    response = patch(anon_client, primary, {"role": "competitor"})
    assert response.status_code == 200
    assert (response.json()["role"], response.json()["primary"]) == ("competitor", False)
    assert state(cid) == {
        "Rival": ("competitor", False),
        "Main": ("competitor", False),
        "Later own": ("own", False),
        "Older own": ("own", True),
    }


def test_competitor_on_the_only_own_channel_leaves_no_primary(anon_client):
    cid = anon_client.client_id
    primary = make_channel(cid, "Main", role="own", primary=True)
    make_channel(cid, "Rival", age=1)
    assert patch(anon_client, primary, {"role": "competitor"}).status_code == 200
    assert state(cid) == {"Main": ("competitor", False), "Rival": ("competitor", False)}


def test_own_without_a_primary_becomes_the_primary_and_with_one_stays_secondary(anon_client):
    cid = anon_client.client_id
    first = make_channel(cid, "First")
    second = make_channel(cid, "Second", age=1)
    assert patch(anon_client, first, {"role": "own"}).json()["primary"] is True
    assert patch(anon_client, second, {"role": "own"}).json()["primary"] is False
    assert state(cid) == {"First": ("own", True), "Second": ("own", False)}
    # A secondary own channel turning competitor leaves the primary alone.
    assert patch(anon_client, second, {"role": "competitor"}).status_code == 200
    assert state(cid) == {"First": ("own", True), "Second": ("competitor", False)}


def test_display_name_is_trimmed_kept_apart_from_the_title_and_cleared(anon_client):
    channel = make_channel(anon_client.client_id, "Title from YouTube")
    body = patch(anon_client, channel, {"display_name": "  My rival  "}).json()
    assert (body["display_name"], body["name"], body["title"]) == (
        "My rival",
        "My rival",
        "Title from YouTube",
    )
    longest = "n" * 100
    assert patch(anon_client, channel, {"display_name": f" {longest} "}).json()["name"] == longest
    # A role change leaves the name alone.
    assert patch(anon_client, channel, {"role": "own"}).json()["display_name"] == longest
    for cleared in ("", "   ", None):
        patch(anon_client, channel, {"display_name": "again"})
        body = patch(anon_client, channel, {"display_name": cleared}).json()
        assert (body["display_name"], body["name"]) == (None, "Title from YouTube")
    assert Channel.objects.get(pk=channel.pk).display_name == ""


def test_an_empty_patch_changes_nothing(anon_client):
    channel = make_channel(anon_client.client_id, "Main", role="own", primary=True)
    response = patch(anon_client, channel, {})
    assert response.status_code == 200
    assert (response.json()["role"], response.json()["primary"]) == ("own", True)


def test_delete_removes_the_channel_with_its_videos(anon_client):
    cid = anon_client.client_id
    make_channel(cid, "Main", role="own", primary=True, videos=2)
    rival = make_channel(cid, "Rival", age=1, videos=4)
    response = anon_client.delete(f"/api/channels/{rival.id}/")
    assert response.status_code == 204
    assert response.content == b""
    assert not Channel.objects.filter(pk=rival.pk).exists()
    assert not Video.objects.filter(channel_id=rival.pk).exists()
    assert Video.objects.count() == 2
    assert state(cid) == {"Main": ("own", True)}
    assert anon_client.delete(f"/api/channels/{rival.id}/").status_code == 404


def test_deleting_the_primary_promotes_the_oldest_other_own_channel(anon_client):
    cid = anon_client.client_id
    primary = make_channel(cid, "Main", role="own", primary=True, age=0)
    make_channel(cid, "Rival", age=1)
    make_channel(cid, "Newer own", role="own", age=3)
    make_channel(cid, "Shorts", role="own", age=2)
    assert anon_client.delete(f"/api/channels/{primary.id}/").status_code == 204
    assert state(cid) == {
        "Rival": ("competitor", False),
        "Newer own": ("own", False),
        "Shorts": ("own", True),
    }


# --- the list ----------------------------------------------------------------------------


def test_the_list_has_the_workspace_fields_own_first_then_competitors_by_name(anon_client):
    cid = anon_client.client_id
    make_channel(cid, "zeta rival", age=0)
    make_channel(cid, "Alpha rival", age=1)
    make_channel(cid, "Main", role="own", primary=True, age=2, videos=2)
    make_channel(cid, "Zzz second", role="own", age=3, display_name="a shorts channel")
    make_channel(cid, "Beta own", role="own", age=4)
    Channel.objects.filter(title="Main").update(handle="@main")
    body = anon_client.get("/api/channels/").json()
    assert [c["name"] for c in body["results"]] == [
        "Main",
        "a shorts channel",
        "Beta own",
        "Alpha rival",
        "zeta rival",
    ]
    first = body["results"][0]
    assert set(first) == {
        "id",
        "external_id",
        "title",
        "display_name",
        "name",
        "handle",
        "role",
        "primary",
        "source",
        "video_count",
        "fetched_at",
    }
    assert (first["handle"], first["role"], first["primary"], first["video_count"]) == (
        "@main",
        "own",
        True,
        2,
    )
    assert first["display_name"] is None
    second = body["results"][1]
    assert (second["title"], second["display_name"], second["handle"]) == (
        "Zzz second",
        "a shorts channel",
        None,
    )


def test_the_list_honours_page_size_up_to_200(anon_client):
    cid = anon_client.client_id
    Channel.objects.bulk_create(
        Channel(
            client_id=cid,
            external_id=f"UC{n:04d}",
            title=f"Channel {n:04d}",
            source="import",
            fetched_at=BASE,
        )
        for n in range(205)
    )
    assert len(anon_client.get("/api/channels/").json()["results"]) == 20
    page = anon_client.get("/api/channels/?page_size=100").json()
    assert (page["count"], len(page["results"])) == (205, 100)
    assert page["results"][0]["title"] == "Channel 0000"
    third = anon_client.get("/api/channels/?page_size=100&page=3").json()
    assert [c["title"] for c in third["results"]] == [f"Channel {n:04d}" for n in range(200, 205)]
    assert len(anon_client.get("/api/channels/?page_size=1000").json()["results"]) == 200
    assert anon_client.get("/api/channels/?page_size=100&page=9").status_code == 404


# --- imports: the first channel is own ---------------------------------------------------


def test_a_single_channel_import_is_the_primary_own_channel(anon_client):
    body = import_csv(anon_client, [("a1", "UCalpha", "Alpha"), ("a2", "UCalpha", "Alpha")])
    (entry,) = body["channels"]
    assert (entry["role"], entry["primary"], entry["status"]) == ("own", True, "created")
    assert (entry["name"], entry["display_name"]) == ("Alpha", None)
    assert state(anon_client.client_id) == {"Alpha": ("own", True)}


def test_in_a_several_channel_csv_the_files_first_channel_is_own(anon_client):
    # Not the alphabetically first: the first to appear in the file.
    body = import_csv(
        anon_client,
        [
            ("z1", "UCzeta", "Zeta"),
            ("a1", "UCalpha", "Alpha"),
            ("z2", "UCzeta", "Zeta"),
            ("m1", "UCmid", "Mid"),
        ],
    )
    entries = {c["title"]: (c["role"], c["primary"]) for c in body["channels"]}
    assert entries == {
        "Zeta": ("own", True),
        "Alpha": ("competitor", False),
        "Mid": ("competitor", False),
    }
    assert state(anon_client.client_id) == entries
    listing = anon_client.get("/api/channels/").json()["results"]
    assert [c["title"] for c in listing] == ["Zeta", "Alpha", "Mid"]


def test_later_imports_are_competitors(anon_client):
    import_csv(anon_client, [("a1", "UCalpha", "Alpha")])
    body = import_csv(anon_client, [("b1", "UCbeta", "Beta"), ("c1", "UCgamma", "Gamma")])
    assert {(c["role"], c["primary"]) for c in body["channels"]} == {("competitor", False)}
    assert state(anon_client.client_id)["Alpha"] == ("own", True)


def test_a_reimport_keeps_roles_and_display_name_and_refreshes_the_title(anon_client):
    cid = anon_client.client_id
    import_csv(anon_client, [("a1", "UCalpha", "Alpha"), ("b1", "UCbeta", "Beta")])
    beta = Channel.objects.get(client_id=cid, external_id="UCbeta")
    patch(anon_client, beta, {"primary": True, "display_name": "My Shorts"})
    body = import_csv(
        anon_client,
        [("a1", "UCalpha", "Alpha"), ("b1", "UCbeta", "Beta renamed"), ("b2", "UCbeta", "x")],
    )
    entries = {c["external_id"]: c for c in body["channels"]}
    assert entries["UCbeta"]["status"] == "updated"
    assert (entries["UCbeta"]["role"], entries["UCbeta"]["primary"]) == ("own", True)
    assert entries["UCbeta"]["name"] == "My Shorts"
    beta.refresh_from_db()
    assert (beta.title, beta.display_name, beta.video_count) == ("Beta renamed", "My Shorts", 2)
    assert state(cid) == {"Alpha": ("own", False), "Beta renamed": ("own", True)}


def test_after_every_channel_is_deleted_the_next_import_is_own_again(anon_client):
    import_csv(anon_client, [("a1", "UCalpha", "Alpha")])
    alpha = Channel.objects.get(external_id="UCalpha")
    assert anon_client.delete(f"/api/channels/{alpha.id}/").status_code == 204
    body = import_csv(anon_client, [("b1", "UCbeta", "Beta")])
    assert (body["channels"][0]["role"], body["channels"][0]["primary"]) == ("own", True)


def test_a_csvs_thumbnails_are_stored_and_listed(anon_client):
    header = "video_id,channelTitle,title,description,tags,publishedAt,viewCount,likeCount,"
    header += "commentCount,duration,thumbnail_link\n"
    rows = (
        "t1,Chan,One,,[],2024-01-01T00:00:00Z,100,5,1,PT5M,https://i.ytimg.com/vi/t1/default.jpg\n"
        "t2,Chan,Two,,[],2024-01-02T00:00:00Z,100,5,1,PT5M,javascript:alert(1)\n"
        "t3,Chan,Three,,[],2024-01-03T00:00:00Z,100,5,1,PT5M,\n"
    )
    upload = io.BytesIO((header + rows).encode())
    upload.name = "t.csv"
    body = anon_client.post("/api/channels/import/", {"file": upload}, format="multipart").json()
    assert (body["imported_rows"], body["rejected_rows"]) == (3, 0)
    assert body["defaulted_counts"] == {"thumbnail_link": 1}
    channel = Channel.objects.get(id=body["channels"][0]["id"])
    videos = anon_client.get(f"/api/channels/{channel.id}/videos/").json()["results"]
    assert {v["video_id"]: v["thumbnail_url"] for v in videos} == {
        "t1": "https://i.ytimg.com/vi/t1/default.jpg",
        "t2": "",
        "t3": "",
    }


# --- the invariant, whatever the sequence ------------------------------------------------

operations = st.lists(
    st.tuples(
        st.sampled_from(["add", "primary", "own", "competitor", "delete"]),
        st.integers(min_value=0, max_value=7),
    ),
    max_size=14,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=operations)
def test_roles_follow_the_rules_and_own_channels_always_have_one_primary(ops):
    """The services against a plain model of the rules (oldest = added first)."""
    Channel.objects.all().delete()
    cid = "property-client"
    model: list[dict] = []  # in created order: {"title", "role", "primary"}
    added = 0

    def promote_oldest_own() -> None:
        successor = next((c for c in model if c["role"] == "own"), None)
        if successor is not None:
            successor["primary"] = True

    for op, index in ops:
        if op == "add":
            title = f"c{added}"
            channel, _ = services.channel_upsert_videos(
                client_id=cid,
                external_id=f"UC{title}",
                title=title,
                source="import",
                observed_at=BASE,
                videos=[
                    AnalyticsVideo(
                        video_id=f"{title}-v",
                        channel_id=f"UC{title}",
                        channel_title=title,
                        title="v",
                        description="",
                        tags=(),
                        published_at=BASE,
                        duration_seconds=60,
                        views=1,
                        likes=0,
                        comments=0,
                    )
                ],
            )
            Channel.objects.filter(pk=channel.pk).update(created_at=BASE + timedelta(seconds=added))
            first = not any(c["role"] == "own" for c in model)
            model.append(
                {"title": title, "role": "own" if first else "competitor", "primary": first}
            )
            added += 1
            continue
        if not model:
            continue
        target = model[index % len(model)]
        channel = Channel.objects.get(client_id=cid, title=target["title"])
        if op == "primary":
            services.channel_update(channel=channel, primary=True)
            for c in model:
                c["primary"] = False
            target.update(role="own", primary=True)
        elif op == "own":
            services.channel_update(channel=channel, role="own")
            target["role"] = "own"
            if not any(c["primary"] for c in model):
                target["primary"] = True
        elif op == "competitor":
            services.channel_update(channel=channel, role="competitor")
            was_primary = target["primary"]
            target.update(role="competitor", primary=False)
            if was_primary:
                promote_oldest_own()
        else:
            services.channel_delete(channel=channel)
            model.remove(target)
            if target["primary"]:
                promote_oldest_own()

        stored = state(cid)
        assert stored == {c["title"]: (c["role"], c["primary"]) for c in model}
        primaries = [t for t, (_, primary) in stored.items() if primary]
        owns = [t for t, (role, _) in stored.items() if role == "own"]
        assert len(primaries) == (1 if owns else 0)
        assert Video.objects.filter(channel__client_id=cid).count() == len(model)


def test_a_refresh_without_a_handle_keeps_the_one_stored():
    def upsert(**extra):
        return services.channel_upsert_videos(
            client_id="c",
            external_id="UCx",
            title="X",
            source="youtube",
            observed_at=BASE,
            videos=[],
            **extra,
        )[0]

    assert upsert(handle="@x").handle == "@x"
    assert upsert().handle == "@x"  # a CSV import knows no handle
    assert upsert(handle="@renamed").handle == "@renamed"


def test_the_agents_workspace_is_cut_after_the_own_channels_not_before():
    from backend.channels.selectors import workspace_for_client

    make_channel("w", "Main", role="own", primary=True)
    make_channel("w", "Zed shorts", role="own", age=1)
    make_channel("w", "Alpha rival", age=2)
    make_channel("w", "Beta rival", age=3)
    workspace = workspace_for_client(client_id="w", limit=2)
    assert [c.title for c in workspace.channels] == ["Main", "Zed shorts"]
    assert workspace.total == 4
    assert [c.title for c in workspace_for_client(client_id="w").channels] == [
        "Main",
        "Zed shorts",
        "Alpha rival",
        "Beta rival",
    ]
