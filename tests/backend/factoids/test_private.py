"""The agent's factoids are built from the client's own channels: they are stored private
to that client — never in anyone's feed, votes, the subject choice or another client's
duplicate check — while the REST generation (curated, public) keeps filling the feed."""

from __future__ import annotations

import asyncio
import importlib

import pytest
from asgiref.sync import async_to_sync
from django.apps import apps
from rest_framework.test import APIClient

from backend.channels.agent_data import BackendAgentData
from backend.clients.services import client_create
from backend.factoids import curated, selectors
from backend.factoids.models import Factoid
from backend.tools.models import HistoryEntry
from tests.backend.accounts.conftest import account_client, make_account  # noqa: F401
from tests.backend.factoids.conftest import make_factoid
from tests.backend.runs.helpers import collect
from tests.backend.tools.helpers import stored_channel

pytestmark = pytest.mark.django_db(transaction=True)

TEXT = "Did you know? Espresso means pressed out."


def new_client() -> APIClient:
    client, token = client_create(ip_hash="other")
    api = APIClient()
    api.credentials(HTTP_X_CLIENT_TOKEN=token)
    api.client_id = str(client.id)  # type: ignore[attr-defined]
    return api


def save_from_chat(client_id: str, *, topic: str = "home espresso", text: str = TEXT):
    data = BackendAgentData(client_id=client_id, model_id="offline")
    return async_to_sync(data.save_factoid)(topic=topic, text=text, source_video_ids=("v1",))


def feed(client: APIClient, query: str = "") -> list[dict]:
    response = client.get(f"/api/factoids/{query}")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_a_chat_factoid_is_seen_by_its_owner_only_and_never_in_a_feed(anon_client):
    saved = save_from_chat(anon_client.client_id)
    other = new_client()
    stored = Factoid.objects.get(uuid=saved.factoid_id)
    assert (stored.visibility, stored.source, stored.client_id) == (
        "private",
        "chat",
        anon_client.client_id,
    )
    for reader in (anon_client, other):
        assert feed(reader) == []
        assert feed(reader, "?subject=home espresso") == []
        assert feed(reader, "?ordering=-score") == []
        for action, body in (("vote", {"vote": "up"}), ("feedback", {"text": "nice"})):
            response = reader.post(f"/api/factoids/{saved.factoid_id}/{action}/", body, "json")
            assert response.status_code == 404, action
    assert APIClient().get("/api/factoids/").status_code == 401
    # The owner finds it among their private ones; nobody else does.
    [mine] = feed(anon_client, "?mine=private")
    assert (mine["uuid"], mine["visibility"], mine["source"]) == (
        saved.factoid_id,
        "private",
        "chat",
    )
    assert feed(other, "?mine=private") == []
    assert anon_client.get("/api/factoids/?mine=public").status_code == 400


def test_duplicates_of_private_factoids_are_per_owner(anon_client):
    first = save_from_chat(anon_client.client_id)
    again = save_from_chat(anon_client.client_id, topic="Home Espresso", text=TEXT.rstrip("."))
    assert again.factoid_id == first.factoid_id  # the same fact is kept once for its owner
    other = new_client()
    theirs = save_from_chat(other.client_id)
    assert theirs.factoid_id != first.factoid_id  # nothing of the first one shows through
    assert Factoid.objects.filter(visibility="private").count() == 2
    assert [f["uuid"] for f in feed(other, "?mine=private")] == [theirs.factoid_id]


def test_private_factoids_neither_block_nor_steer_the_public_feed(anon_client, embedded):
    first_fact = curated.OFFLINE_FACTS["coffee"][0]
    # Another client's agent stored the very fact the offline generation serves first.
    owner = new_client()
    save_from_chat(owner.client_id, topic="coffee", text=first_fact)
    for _ in range(3):
        make_factoid(
            subject=curated.SUBJECTS[0],
            text=f"private note {_}",
            visibility="private",
            client_id=owner.client_id,
        )
    assert selectors.factoid_least_covered_subject() == curated.SUBJECTS[0]
    assert selectors.factoid_texts(subject="coffee") == []

    response = anon_client.post("/api/factoids/generate/", {"subject": "coffee"}, format="json")
    assert response.status_code == 202, response.content
    frames = asyncio.run(collect(response.json()["stream_url"], timeout=60))
    assert frames[-1]["event"] == "run.completed", frames[-1]
    result = frames[-1]["payload"]["data"]["result"]
    assert (result["text"], result["visibility"], result["source"]) == (
        first_fact,
        "public",
        "feed",
    )
    # The public generation is in everyone's feed; the private copy in nobody's.
    for reader in (anon_client, owner, new_client()):
        assert [f["uuid"] for f in feed(reader, "?subject=coffee")] == [result["uuid"]]
    assert Factoid.objects.filter(subject="coffee").count() == 2


def test_a_chat_runs_factoid_stays_out_of_every_feed(anon_client, embedded):
    stored_channel(anon_client.client_id)
    session = anon_client.post("/api/chat/sessions/", {}, format="json").json()
    response = anon_client.post(
        f"/api/chat/sessions/{session['id']}/messages/",
        {"content": "write a factoid about espresso"},
        format="json",
    )
    assert response.status_code == 202, response.content
    frames = asyncio.run(collect(response.json()["stream_url"], timeout=60))
    assert frames[-1]["event"] == "run.completed", frames[-1]
    [output] = [
        f["payload"]["data"]["output"]
        for f in frames
        if f["event"] == "tool.completed" and f["payload"]["data"]["name"] == "factoid"
    ]
    factoid = Factoid.objects.get(uuid=output["factoid_id"])
    assert (factoid.visibility, factoid.client_id) == ("private", anon_client.client_id)
    for reader in (anon_client, new_client()):
        assert feed(reader) == []
    # It is the owner's: in their history (the tool result) and their private list.
    entry = HistoryEntry.objects.get(client_id=anon_client.client_id, tool="factoid")
    assert (entry.source, entry.result["factoid_id"]) == ("chat", str(factoid.uuid))
    assert [f["uuid"] for f in feed(anon_client, "?mine=private")] == [str(factoid.uuid)]


def test_existing_chat_factoids_become_private_in_the_migration():
    public = make_factoid(text="A feed fact.")
    leaked = make_factoid(text="Your top video has 3x your median views.", source="chat")
    migration = importlib.import_module("backend.factoids.migrations.0002_private_factoids")
    migration.chat_factoids_private(apps, None)
    public.refresh_from_db()
    leaked.refresh_from_db()
    assert (public.visibility, leaked.visibility) == ("public", "private")


def test_the_account_export_holds_private_factoids_and_deletion_removes_them(
    account_client,  # noqa: F811
):
    from tests.backend.accounts.conftest import PASSWORD

    client_id = str(account_client.account.client_id)
    saved = save_from_chat(client_id)
    make_factoid(text="A public fact by the same client.", client_id=client_id)
    body = account_client.get("/api/accounts/export/").json()
    exported = {f["uuid"]: f["visibility"] for f in body["factoids_created"]}
    assert exported[saved.factoid_id] == "private"
    assert sorted(exported.values()) == ["private", "public"]
    response = account_client.delete("/api/accounts/me/", {"password": PASSWORD}, format="json")
    assert response.status_code in (200, 204), response.content
    assert not Factoid.objects.filter(visibility="private").exists()
    assert Factoid.objects.get().client_id == ""  # the public one stays, without an author
