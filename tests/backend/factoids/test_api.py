"""The factoid endpoints on the usual path: anonymous → unknown/someone else's → invalid
input → the happy path."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from backend.clients.models import ApiKey
from backend.clients.services import api_key_create, client_create
from backend.factoids.models import Factoid, FactoidFeedback, FactoidVote
from backend.runs.models import Run
from backend.runs.stream_auth import stream_token
from tests.backend.factoids.conftest import make_factoid

pytestmark = pytest.mark.django_db


def fields_of(response) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()["error"]
    assert body["code"] == "VALIDATION_ERROR"
    return body["details"]["fields"]


@pytest.fixture
def factoid():
    return make_factoid(text="Jupiter is so big that more than 1,300 Earths could fit inside it.")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/factoids/"),
        ("post", "/api/factoids/generate/"),
        ("get", f"/api/factoids/requests/{uuid.uuid4()}/"),
        ("post", f"/api/factoids/{uuid.uuid4()}/vote/"),
        ("post", f"/api/factoids/{uuid.uuid4()}/feedback/"),
    ],
)
def test_anonymous_callers_get_401(api_client, method, path):
    response = getattr(api_client, method)(path, {}, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"


def test_stream_needs_credentials_and_is_private(client, anon_client):
    run = Run.objects.create(kind="factoid", client_id=anon_client.client_id, model="offline")
    url = f"/api/factoids/streams/{run.id}/"
    assert client.get(url).status_code == 401
    other = Run.objects.create(kind="factoid", client_id=anon_client.client_id, model="offline")
    wrong_scope = stream_token(client_id=anon_client.client_id, scope=f"run:{other.id}")
    assert client.get(f"{url}?st={wrong_scope}").status_code == 401
    _, other_token = client_create(ip_hash="other")
    assert client.get(url, HTTP_X_CLIENT_TOKEN=other_token).status_code == 404
    assert client.get(f"/api/factoids/streams/{uuid.uuid4()}/").status_code == 401
    token = anon_client._credentials["HTTP_X_CLIENT_TOKEN"]
    assert (
        client.get(f"/api/factoids/streams/{uuid.uuid4()}/", HTTP_X_CLIENT_TOKEN=token).status_code
        == 404
    )
    bad_cursor = client.get(url, HTTP_X_CLIENT_TOKEN=token, HTTP_LAST_EVENT_ID="1-2")
    assert "Last-Event-ID" in fields_of(bad_cursor)


# --- the feed ----------------------------------------------------------------------


def test_list_is_paginated_newest_first_with_scores_and_own_vote(anon_client, factoid):
    second = make_factoid(subject="coffee", text="Decaffeinated coffee still has some caffeine.")
    FactoidVote.objects.create(factoid=factoid, client_id=anon_client.client_id, value=1)
    Factoid.objects.filter(pk=factoid.pk).update(up=3, down=1)
    body = anon_client.get("/api/factoids/").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 2
    assert [item["uuid"] for item in body["results"]] == [str(second.uuid), str(factoid.uuid)]
    item = body["results"][1]
    assert item == {
        "uuid": str(factoid.uuid),
        "subject": "astronomy",
        "text": factoid.text,
        "model": "offline",
        "source": "feed",
        "visibility": "public",
        "created_at": item["created_at"],
        "up": 3,
        "down": 1,
        "score": 2,
        "my_vote": "up",
    }
    assert body["results"][0]["my_vote"] is None


def test_list_filters_and_orders_by_score(anon_client, factoid):
    low = make_factoid(text="Sunlight takes about eight minutes to reach Earth.")
    coffee = make_factoid(subject="coffee", text="Coffee beans are seeds of a fruit.")
    Factoid.objects.filter(pk=factoid.pk).update(up=5)
    Factoid.objects.filter(pk=low.pk).update(down=2)
    Factoid.objects.filter(pk=coffee.pk).update(up=1)

    def uuids(query: str) -> list[str]:
        response = anon_client.get(f"/api/factoids/?{query}")
        assert response.status_code == 200, response.content
        return [item["uuid"] for item in response.json()["results"]]

    assert uuids("ordering=-score") == [str(factoid.uuid), str(coffee.uuid), str(low.uuid)]
    assert uuids("subject=Astronomy") == [str(low.uuid), str(factoid.uuid)]
    assert uuids("min_score=1") == [str(coffee.uuid), str(factoid.uuid)]
    assert uuids("min_score=0&subject=astronomy&ordering=-score") == [str(factoid.uuid)]


def test_list_rejects_bad_filters(anon_client):
    assert "ordering" in fields_of(anon_client.get("/api/factoids/?ordering=text"))
    assert "min_score" in fields_of(anon_client.get("/api/factoids/?min_score=lots"))
    assert "subject" in fields_of(anon_client.get("/api/factoids/?subject=" + "s" * 101))


def test_hidden_factoids_are_not_listed(anon_client, factoid):
    Factoid.objects.filter(pk=factoid.pk).update(hidden=True)
    assert anon_client.get("/api/factoids/").json()["count"] == 0


# --- generate and requests -----------------------------------------------------------


@pytest.fixture
def queued_only(monkeypatch):
    """Runs are recorded but never executed: they stay pending."""
    monkeypatch.setattr("backend.runs.services.run_enqueue", lambda **_: None)


def test_generate_rejects_bad_input(anon_client, queued_only):
    post = anon_client.post
    assert "subject" in fields_of(post("/api/factoids/generate/", {"subject": ""}, format="json"))
    assert "subject" in fields_of(
        post("/api/factoids/generate/", {"subject": "   "}, format="json")
    )
    assert "subject" in fields_of(
        post("/api/factoids/generate/", {"subject": "x" * 101}, format="json")
    )
    assert "model" in fields_of(
        post("/api/factoids/generate/", {"model": "nobody/knows"}, format="json")
    )
    # The offline model knows only the curated subjects.
    assert "subject" in fields_of(
        post("/api/factoids/generate/", {"subject": "cats"}, format="json")
    )
    assert not Run.objects.exists()


def test_generate_answers_202_with_request_and_stream_url(anon_client, queued_only):
    response = anon_client.post("/api/factoids/generate/", {"subject": "Coffee"}, format="json")
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "pending"
    assert body["subject"] == "coffee"
    assert body["stream_url"].startswith(f"/api/factoids/streams/{body['request_id']}/?st=")
    run = Run.objects.get(pk=body["request_id"])
    assert (run.kind, run.client_id, run.model) == ("factoid", anon_client.client_id, "offline")


def test_generate_without_subject_picks_the_least_covered_curated_one(anon_client, queued_only):
    make_factoid(subject="astronomy", text="Venus spins backwards.")
    body = anon_client.post("/api/factoids/generate/", {}, format="json").json()
    assert body["subject"] == "coffee"  # astronomy has one already; coffee is next in line


def test_generate_while_pending_on_the_subject_is_409(anon_client, queued_only):
    first = anon_client.post("/api/factoids/generate/", {"subject": "coffee"}, format="json")
    again = anon_client.post("/api/factoids/generate/", {"subject": " COFFEE "}, format="json")
    assert again.status_code == 409
    error = again.json()["error"]
    assert error["code"] == "CONFLICT"
    assert error["details"]["request_id"] == first.json()["request_id"]
    other = anon_client.post("/api/factoids/generate/", {"subject": "oceans"}, format="json")
    assert other.status_code == 202
    Run.objects.update(status="completed")
    assert (
        anon_client.post("/api/factoids/generate/", {"subject": "coffee"}, format="json")
    ).status_code == 202


def test_request_detail_is_private_and_maps_statuses(anon_client, queued_only):
    body = anon_client.post("/api/factoids/generate/", {"subject": "music"}, format="json").json()
    url = f"/api/factoids/requests/{body['request_id']}/"
    _, other_token = client_create(ip_hash="other")
    other = APIClient()
    other.credentials(HTTP_X_CLIENT_TOKEN=other_token)
    assert other.get(url).status_code == 404
    assert anon_client.get("/api/factoids/requests/not-a-uuid/").status_code == 404
    chat_run = Run.objects.create(kind="chat", client_id=anon_client.client_id, model="offline")
    assert anon_client.get(f"/api/factoids/requests/{chat_run.id}/").status_code == 404

    detail = anon_client.get(url).json()
    assert detail["status"] == "pending"
    assert detail["factoid"] is None and detail["error"] is None
    assert detail["usage"] == {"input_tokens": 0, "output_tokens": 0}
    for run_status, shown in [
        ("running", "running"),
        ("completed", "succeeded"),
        ("failed", "failed"),
        ("cancelled", "failed"),
    ]:
        Run.objects.filter(pk=body["request_id"]).update(status=run_status, error_code="X")
        assert anon_client.get(url).json()["status"] == shown
    assert anon_client.get(url).json()["error"]["code"] == "X"


# --- votes and feedback -------------------------------------------------------------


def test_vote_unknown_hidden_and_invalid(anon_client, factoid):
    assert (
        anon_client.post(
            f"/api/factoids/{uuid.uuid4()}/vote/", {"vote": "up"}, format="json"
        ).status_code
        == 404
    )
    assert (
        anon_client.post("/api/factoids/zzz/vote/", {"vote": "up"}, format="json").status_code
        == 404
    )
    url = f"/api/factoids/{factoid.uuid}/vote/"
    assert "vote" in fields_of(anon_client.post(url, {"vote": "sideways"}, format="json"))
    assert "vote" in fields_of(anon_client.post(url, {}, format="json"))
    Factoid.objects.filter(pk=factoid.pk).update(hidden=True)
    assert anon_client.post(url, {"vote": "up"}, format="json").status_code == 404


def test_vote_is_one_per_client_idempotent_changeable_and_withdrawable(
    anon_client, factoid, posthog_server
):
    url = f"/api/factoids/{factoid.uuid}/vote/"

    def vote(value: str) -> dict:
        response = anon_client.post(url, {"vote": value}, format="json")
        assert response.status_code == 200, response.content
        body = response.json()
        return {key: body[key] for key in ("up", "down", "score", "my_vote")}

    assert vote("up") == {"up": 1, "down": 0, "score": 1, "my_vote": "up"}
    assert vote("up") == {"up": 1, "down": 0, "score": 1, "my_vote": "up"}
    assert vote("down") == {"up": 0, "down": 1, "score": -1, "my_vote": "down"}
    assert vote("none") == {"up": 0, "down": 0, "score": 0, "my_vote": None}
    assert vote("none") == {"up": 0, "down": 0, "score": 0, "my_vote": None}
    assert not FactoidVote.objects.exists()
    events = posthog_server.wait_for("factoid_voted", count=3)
    assert [e["properties"]["vote"] for e in events] == ["up", "down", "none"]


def test_feedback_validation_and_happy_path(anon_client, factoid, posthog_server):
    assert (
        anon_client.post(
            f"/api/factoids/{uuid.uuid4()}/feedback/", {"text": "hi"}, format="json"
        ).status_code
        == 404
    )
    url = f"/api/factoids/{factoid.uuid}/feedback/"
    assert "text" in fields_of(anon_client.post(url, {"text": ""}, format="json"))
    assert "text" in fields_of(anon_client.post(url, {"text": "   "}, format="json"))
    assert "text" in fields_of(anon_client.post(url, {}, format="json"))
    assert "text" in fields_of(anon_client.post(url, {"text": "x" * 2001}, format="json"))
    assert "vote" in fields_of(anon_client.post(url, {"text": "ok", "vote": "meh"}, format="json"))
    assert not FactoidFeedback.objects.exists()

    response = anon_client.post(url, {"text": " Lovely fact ", "vote": "up"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["factoid"], body["text"], body["vote"]) == (str(factoid.uuid), "Lovely fact", "up")
    factoid.refresh_from_db()
    assert factoid.up == 1
    # Without a vote, the feedback records the client's standing vote.
    again = anon_client.post(url, {"text": "x" * 2000}, format="json").json()
    assert again["vote"] == "up"
    rows = FactoidFeedback.objects.filter(client_id=anon_client.client_id)
    assert rows.count() == 2
    event = posthog_server.wait_for("factoid_feedback")[0]
    assert event["properties"]["factoid_id"] == str(factoid.uuid)
    assert "text" not in event["properties"]


# --- staff hide ---------------------------------------------------------------------


def test_hide_needs_staff_or_admin_key(anon_client, factoid):
    url = f"/api/admin/factoids/{factoid.uuid}/hide/"
    assert APIClient().post(url).status_code == 401
    assert anon_client.post(url).status_code == 403
    _, raw = api_key_create(name="ops")
    ApiKey.objects.update(is_admin=True)
    admin = APIClient()
    admin.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert admin.post(f"/api/admin/factoids/{uuid.uuid4()}/hide/").status_code == 404
    response = admin.post(url)
    assert response.status_code == 200
    assert response.json() == {"uuid": str(factoid.uuid), "hidden": True}
    assert anon_client.get("/api/factoids/").json()["count"] == 0
    assert (
        anon_client.post(
            f"/api/factoids/{factoid.uuid}/vote/", {"vote": "up"}, format="json"
        ).status_code
        == 404
    )


def test_staff_session_can_hide_and_admin_action_hides(client, factoid):
    user = get_user_model().objects.create_user(
        "ops", password="x", is_staff=True, is_superuser=True
    )
    client.force_login(user)
    assert client.post(f"/api/admin/factoids/{factoid.uuid}/hide/").status_code == 200
    other = make_factoid(text="Olympus Mons is the tallest known volcano in the Solar System.")
    response = client.post(
        "/admin/factoids/factoid/",
        {"action": "hide_factoids", "_selected_action": [other.pk]},
    )
    assert response.status_code == 302
    other.refresh_from_db()
    assert other.hidden
