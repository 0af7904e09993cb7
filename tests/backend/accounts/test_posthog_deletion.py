"""A deleted account's PostHog persons are deleted through PostHog's private API (the local
PostHog of tests/fakes/posthog_server.py): every distinct id, with retries and backoff, a
status on the request, and nothing sent (nor failed) without a personal API key."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from structlog.testing import capture_logs

from backend.accounts.models import PosthogDeletionRequest
from backend.accounts.services import posthog_deletion
from backend.analytics.persons import private_api_host
from backend.clients.services import client_create
from backend.core import task_runner
from tests.backend.accounts.conftest import PASSWORD, signed_in
from tests.fakes.posthog_server import PostHogCaptureServer

pytestmark = pytest.mark.django_db(transaction=True)

Status = PosthogDeletionRequest.Status


@pytest.fixture
def posthog(env):
    """The local PostHog, with the private API's key, project and host configured."""
    server = PostHogCaptureServer().start()
    env(
        POSTHOG_PERSONAL_API_KEY=server.personal_api_key,
        POSTHOG_PROJECT_ID=server.project_id,
        POSTHOG_PRIVATE_API_HOST=server.url,
    )
    yield server
    server.stop()


@pytest.fixture
def quick_retries(monkeypatch):
    monkeypatch.setattr(posthog_deletion, "BACKOFF_BASE_S", 0.01)


@pytest.fixture
def deleted_account(make_account):
    """Deletes (through the API) an account that absorbed an anonymous visitor; returns the
    deletion request and the distinct ids: the account's client, then the visitor's.
    ``before(ids)`` runs just before the deletion."""

    def delete(
        before: Callable[[list[str]], object] = lambda ids: None,
    ) -> tuple[PosthogDeletionRequest, list[str]]:
        visitor, _token = client_create(ip_hash="test-visitor")
        account, tokens = make_account(email="grace@example.com", anonymous_client_id=visitor.id)
        distinct_ids = [str(account.client_id), str(visitor.id)]
        before(distinct_ids)
        response = signed_in(tokens).delete(
            "/api/accounts/me/", {"password": PASSWORD}, format="json"
        )
        assert response.status_code == 204, response.content
        return PosthogDeletionRequest.objects.get(account_id=account.id), distinct_ids

    return delete


def settled(request: PosthogDeletionRequest, timeout_s: float = 10) -> PosthogDeletionRequest:
    """The request once it is sent or given up (retries run on the embedded runner)."""
    deadline = time.monotonic() + timeout_s
    while True:
        task_runner.drain()
        request.refresh_from_db()
        if request.status == Status.SENT or (
            request.status == Status.FAILED and request.next_attempt_at is None
        ):
            return request
        if time.monotonic() > deadline:
            raise AssertionError(f"still {request.status} after {request.attempts} attempts")
        time.sleep(0.02)


def test_deleting_an_account_deletes_every_person_it_was_known_by(posthog, deleted_account):
    stranger = posthog.add_person("someone-else")
    persons: list[str] = []

    def known_to_posthog(ids: list[str]) -> None:
        persons.append(posthog.add_person(ids[0]))  # the account's person
        persons.append(posthog.add_person(ids[1], "visitor-2nd-device"))  # the visitor's

    request, distinct_ids = deleted_account(before=known_to_posthog)
    request = settled(request)

    assert request.status == Status.SENT, request.last_error
    assert request.distinct_ids == distinct_ids
    assert request.processed_at is not None and request.attempts == 1
    assert request.last_error == "" and request.next_attempt_at is None
    # Looked up by each distinct id, then each person deleted with its events.
    persons_api = f"/api/projects/{posthog.project_id}/persons/"
    assert [(c["method"], c["path"], c["query"]) for c in posthog.api_calls] == [
        ("GET", persons_api, {"distinct_id": distinct_ids[0]}),
        ("DELETE", f"{persons_api}{persons[0]}/", {"delete_events": "true"}),
        ("GET", persons_api, {"distinct_id": distinct_ids[1]}),
        ("DELETE", f"{persons_api}{persons[1]}/", {"delete_events": "true"}),
    ]
    assert all(c["auth"] == f"Bearer {posthog.personal_api_key}" for c in posthog.api_calls)
    assert list(posthog.persons) == [stranger]


def test_an_id_posthog_never_saw_is_nothing_to_delete(posthog, deleted_account):
    request, _ = deleted_account()
    request = settled(request)
    assert request.status == Status.SENT
    assert posthog.person_calls("DELETE") == []


def test_a_server_error_is_retried_and_the_request_ends_sent(
    posthog, deleted_account, quick_retries
):
    posthog.fail_next(503)
    found: list[str] = []
    request, distinct_ids = deleted_account(
        before=lambda ids: found.append(posthog.add_person(ids[0]))
    )
    request = settled(request)

    assert request.status == Status.SENT
    assert request.attempts == 2 and request.last_error == ""
    assert posthog.person_calls("GET")[0]["query"] == {"distinct_id": distinct_ids[0]}
    assert len(posthog.person_calls("GET")) == 1 + len(distinct_ids)
    assert [c["path"].rsplit("/", 2)[-2] for c in posthog.person_calls("DELETE")] == found
    assert posthog.persons == {}


def test_repeated_failures_end_failed_with_the_error(posthog, deleted_account, quick_retries):
    posthog.fail_next(500, times=100, detail="ClickHouse is on fire")
    request, _ = deleted_account()
    request = settled(request)

    assert request.status == Status.FAILED and request.next_attempt_at is None
    assert request.attempts == posthog_deletion.MAX_ATTEMPTS
    assert "HTTP 500" in request.last_error and "ClickHouse is on fire" in request.last_error
    assert len(posthog.api_calls) == posthog_deletion.MAX_ATTEMPTS  # one lookup per attempt
    assert posthog.person_calls("DELETE") == []
    # Nothing more happens on its own: the sweep leaves a request given up alone.
    assert posthog_deletion.posthog_deletions_sweep() == 0


def test_a_refused_key_is_not_retried(posthog, env, deleted_account, quick_retries):
    env(POSTHOG_PERSONAL_API_KEY="phx_wrong")
    request, _ = deleted_account()
    request = settled(request)

    assert request.status == Status.FAILED and request.attempts == 1
    assert "HTTP 401" in request.last_error and "POSTHOG_PERSONAL_API_KEY" in request.last_error
    # Once the key is fixed, staff send it again (admin action) and it goes through.
    env(POSTHOG_PERSONAL_API_KEY=posthog.personal_api_key)
    posthog_deletion.posthog_deletion_retry(request=request)
    assert settled(request).status == Status.SENT


def test_unreachable_posthog_is_retried(env, deleted_account, quick_retries, monkeypatch):
    monkeypatch.setattr(posthog_deletion, "MAX_ATTEMPTS", 2)
    env(
        POSTHOG_PERSONAL_API_KEY="phx_test",
        POSTHOG_PROJECT_ID="1",
        POSTHOG_PRIVATE_API_HOST="http://127.0.0.1:9",  # nothing listens on discard
    )
    request, _ = deleted_account()
    request = settled(request)
    assert request.status == Status.FAILED and request.attempts == 2
    assert "ConnectError" in request.last_error


def test_without_keys_the_request_stays_pending_and_nothing_is_sent(env, deleted_account):
    server = PostHogCaptureServer().start()
    try:
        env(
            POSTHOG_PERSONAL_API_KEY=None,
            POSTHOG_PROJECT_ID=None,
            POSTHOG_PRIVATE_API_HOST=server.url,
        )
        posthog_deletion._not_configured_logged.clear()
        with capture_logs() as logs:
            request, _ = deleted_account()
            task_runner.drain()
            assert posthog_deletion.posthog_deletions_sweep() == 0
            posthog_deletion.posthog_deletion_attempt(request_id=request.pk, attempts=0)
        request.refresh_from_db()
        assert request.status == Status.PENDING and request.attempts == 0
        assert request.last_error == posthog_deletion.NOT_CONFIGURED
        assert server.api_calls == []
        reasons = [e for e in logs if e["event"] == "posthog_deletion_not_configured"]
        assert len(reasons) == 1 and reasons[0]["log_level"] == "info"
        assert not [e for e in logs if e["log_level"] in ("error", "critical")]
    finally:
        server.stop()


def test_the_sweep_sends_what_waits_and_leaves_the_rest(posthog):
    now = timezone.now()

    def make(**fields: Any) -> PosthogDeletionRequest:
        return PosthogDeletionRequest.objects.create(
            account_id="00000000-0000-0000-0000-000000000001", distinct_ids=["d"], **fields
        )

    never_tried = make(last_error=posthog_deletion.NOT_CONFIGURED)  # keys set since
    retry_lost = make(status=Status.FAILED, attempts=2, next_attempt_at=now - timedelta(1))
    retry_later = make(status=Status.FAILED, attempts=1, next_attempt_at=now + timedelta(1))
    in_flight = make(status=Status.PENDING, attempts=1, next_attempt_at=now + timedelta(1))
    given_up = make(status=Status.FAILED, attempts=6, next_attempt_at=None)
    sent = make(status=Status.SENT, attempts=1, processed_at=now)

    assert posthog_deletion.posthog_deletions_sweep() == 2
    assert settled(never_tried).status == Status.SENT
    assert settled(retry_lost).status == Status.SENT and retry_lost.attempts == 3
    for untouched in (retry_later, in_flight, given_up, sent):
        before = (untouched.status, untouched.attempts)
        untouched.refresh_from_db()
        assert (untouched.status, untouched.attempts) == before


def test_a_retry_and_the_sweep_racing_send_once(posthog):
    request = PosthogDeletionRequest.objects.create(
        account_id="00000000-0000-0000-0000-000000000002", distinct_ids=["d"]
    )
    posthog_deletion.posthog_deletion_attempt(request_id=request.pk, attempts=0)
    posthog_deletion.posthog_deletion_attempt(request_id=request.pk, attempts=0)  # stale
    request.refresh_from_db()
    assert request.status == Status.SENT and request.attempts == 1
    assert len(posthog.person_calls("GET")) == 1


@pytest.mark.parametrize(
    ("ingestion", "configured", "private"),
    [
        ("https://us.i.posthog.com", None, "https://us.posthog.com"),
        ("https://eu.i.posthog.com/", None, "https://eu.posthog.com"),
        ("https://posthog.example.com", None, "https://posthog.example.com"),
        ("https://us.i.posthog.com", "https://ph.example.com/", "https://ph.example.com"),
    ],
)
def test_the_private_api_host(ingestion, configured, private):
    assert private_api_host(ingestion_host=ingestion, configured=configured) == private
