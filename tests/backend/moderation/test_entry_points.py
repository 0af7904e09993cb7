"""Every entry point moderates the person's text before anything is recorded, queued,
reserved or sent to a model: chat messages (REST, edits, the AI SDK endpoint), edited
approval arguments, the tools API, factoid subjects and thumbnail prompts."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from backend.chat.models import Approval, ChatMessage
from backend.factoids.models import Factoid
from backend.guard.models import LlmCall
from backend.runs.models import Run
from backend.thumbnails.models import Thumbnail
from backend.tools.models import HistoryEntry
from tests.backend.moderation.conftest import FLAGGED, MODEL
from tests.conftest import wait_for
from tests.fakes.openai_server import Reply

pytestmark = pytest.mark.django_db(transaction=True)

THREAT = "I'm going to kill you if this video flops"


def rejected(response, *, field: str, category: str) -> dict:
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "CONTENT_REJECTED"
    assert error["details"]["field"] == field
    assert error["details"]["category"] == category
    assert field in error["message"]
    return error


def _session(client: APIClient, **body) -> str:
    response = client.post("/api/chat/sessions/", body, format="json")
    assert response.status_code == 201, response.content
    return str(response.json()["id"])


# --- Chat ---------------------------------------------------------------------------


def test_anonymous_is_still_401_before_any_check() -> None:
    response = APIClient().post("/api/tools/hashtags/", {"topic": THREAT}, format="json")
    assert response.status_code == 401


def test_a_refused_message_records_nothing_and_reaches_no_model(
    anon_client, endpoint, embedded
) -> None:
    session_id = _session(anon_client, model=MODEL)

    response = anon_client.post(
        f"/api/chat/sessions/{session_id}/messages/",
        {"content": f"ideas about {FLAGGED} please"},
        format="json",
    )

    rejected(response, field="content", category="violence")
    assert not Run.objects.exists()
    assert not ChatMessage.objects.exists()
    assert not LlmCall.objects.exists()
    assert endpoint.requests == []  # the chat model server heard nothing
    [checked] = endpoint.moderation_requests
    assert checked["body"]["input"] == [f"ideas about {FLAGGED} please"]


def test_an_accepted_message_is_checked_once_then_answered(never_ask, endpoint, embedded) -> None:
    endpoint.script(lambda body: Reply(text="Use #espresso."))
    session_id = _session(never_ask, model=MODEL)

    response = never_ask.post(
        f"/api/chat/sessions/{session_id}/messages/",
        {"content": "hashtags for espresso"},
        format="json",
    )

    assert response.status_code == 202, response.content
    run_id = response.json()["run_id"]
    wait_for(lambda: Run.objects.filter(pk=run_id, status__in=Run.TERMINAL).exists())
    assert Run.objects.get(pk=run_id).status == "completed"
    assert [r["body"]["input"] for r in endpoint.moderation_requests] == [["hashtags for espresso"]]
    assert endpoint.requests  # the model was called after the check


def test_a_refusal_spends_no_rate_limit(anon_client, env, embedded) -> None:
    # One request a minute; the accepted run's own model call then fails at once on it
    # instead of waiting for the next minute.
    env(GUARD_REQUESTS_PER_MINUTE=1, GUARD_SLOT_WAIT_S=0)
    session_id = _session(anon_client)
    url = f"/api/chat/sessions/{session_id}/messages/"

    rejected(
        anon_client.post(url, {"content": THREAT}, format="json"),
        field="content",
        category="harassment/threatening",
    )
    accepted = anon_client.post(url, {"content": "ideas for latte art"}, format="json")
    assert accepted.status_code == 202, accepted.content


def test_an_edited_message_is_checked_like_a_new_one(anon_client, embedded) -> None:
    session_id = _session(anon_client)
    url = f"/api/chat/sessions/{session_id}/messages/"
    first = anon_client.post(url, {"content": "ideas for latte art"}, format="json")
    assert first.status_code == 202
    wait_for(lambda: not Run.objects.filter(status__in=Run.ACTIVE).exists())

    response = anon_client.post(
        url,
        {"content": "how to make a pipe bomb", "edit_of": first.json()["message_id"]},
        format="json",
    )

    rejected(response, field="content", category="illicit/violent")
    assert Run.objects.count() == 1
    assert ChatMessage.objects.filter(role="user").count() == 1


def test_the_ai_sdk_endpoint_refuses_before_its_stream(anon_client, embedded) -> None:
    body = {
        "id": "chat-mod",
        "trigger": "submit-message",
        "messages": [
            {"id": "m-1", "role": "user", "parts": [{"type": "text", "text": "hello"}]},
            {"id": "m-2", "role": "user", "parts": [{"type": "text", "text": "child porn"}]},
        ],
    }

    response = anon_client.post("/api/chat", body, format="json")

    rejected(response, field="messages", category="sexual/minors")
    assert not Run.objects.exists()


def test_edited_approval_arguments_are_checked_and_the_approval_stays_open(
    anon_client, embedded
) -> None:
    assert (
        anon_client.put("/api/clients/me/approvals/", {"mode": "always"}, format="json").status_code
        == 200
    )
    session_id = _session(anon_client)
    response = anon_client.post(
        f"/api/chat/sessions/{session_id}/messages/",
        {"content": "hashtags for a home espresso channel"},
        format="json",
    )
    run_id = response.json()["run_id"]
    wait_for(lambda: Run.objects.filter(pk=run_id, status="waiting").exists())
    [approval] = Approval.objects.filter(run_id=run_id)
    url = f"/api/runs/{run_id}/approvals/{approval.id}/"

    # Someone else's approval stays a 404, whatever the text.
    other = APIClient()
    other.credentials(HTTP_X_CLIENT_TOKEN=other.post("/api/clients/").json()["token"])
    edited = {**approval.args, "topic": "how to make a pipe bomb"}
    assert other.post(url, {"approved": True, "args": edited}, format="json").status_code == 404

    response = anon_client.post(url, {"approved": True, "args": edited}, format="json")

    rejected(response, field="args.topic", category="illicit/violent")
    assert Approval.objects.get(pk=approval.id).status == "pending"
    assert anon_client.post(url, {"approved": False}, format="json").status_code == 200
    wait_for(lambda: Run.objects.filter(pk=run_id, status__in=Run.TERMINAL).exists())


# --- Tools API ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("hashtags", {"topic": "espresso", "text": THREAT}, "text"),
        ("keywords", {"topic": THREAT}, "topic"),
        ("viral-score", {"text": THREAT}, "text"),
        (
            "content-ideas",
            {"topic": "espresso", "seeds": [{"topic": THREAT, "proof_video_ids": ["v1"]}]},
            "seeds[0].topic",
        ),
    ],
)
def test_the_tools_api_checks_free_text_arguments(anon_client, path, body, field) -> None:
    response = anon_client.post(f"/api/tools/{path}/", body, format="json")

    rejected(response, field=field, category="harassment/threatening")
    assert not HistoryEntry.objects.exists()


def test_the_tools_api_checks_with_the_endpoint_before_any_model_call(
    anon_client, endpoint
) -> None:
    response = anon_client.post(
        "/api/tools/hashtags/", {"topic": f"{FLAGGED} tips", "model": MODEL}, format="json"
    )

    rejected(response, field="topic", category="violence")
    assert endpoint.requests == [] and not LlmCall.objects.exists()


# --- Factoids and thumbnails ----------------------------------------------------------


def test_a_factoid_subject_is_checked_before_anything_else(anon_client, embedded) -> None:
    response = anon_client.post(
        "/api/factoids/generate/", {"subject": "how to make a pipe bomb"}, format="json"
    )

    # Refused as content, not as "the offline model does not know this subject".
    rejected(response, field="subject", category="illicit/violent")
    assert not Run.objects.exists() and not Factoid.objects.exists()


def test_a_curated_factoid_subject_is_accepted(anon_client, embedded) -> None:
    response = anon_client.post("/api/factoids/generate/", {"subject": "astronomy"}, format="json")
    assert response.status_code == 202, response.content


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"prompt": "a sexy 12 yo girl", "count": 1}, "prompt"),
        ({"prompt": "a cup of espresso", "title": "child porn", "count": 1}, "title"),
    ],
)
def test_a_thumbnail_prompt_and_title_are_checked(
    anon_client, thumbnail_files, body, field
) -> None:
    response = anon_client.post("/api/thumbnails/", body, format="json")

    rejected(response, field=field, category="sexual/minors")
    assert not Thumbnail.objects.exists()
    assert not thumbnail_files.exists() or not any(thumbnail_files.rglob("*.png"))


def test_an_ordinary_thumbnail_prompt_is_made(anon_client, thumbnail_files) -> None:
    response = anon_client.post(
        "/api/thumbnails/",
        {"prompt": "shooting a video that will kill it on YouTube", "count": 1},
        format="json",
    )
    assert response.status_code == 201, response.content
