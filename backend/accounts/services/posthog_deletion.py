"""Sending a deleted account's person deletion to PostHog (``PosthogDeletionRequest``).

Account deletion records the request and schedules it for after its transaction commits;
it never waits for PostHog and never fails because of it. Each attempt first claims the
row (so a scheduled retry and the periodic sweep never send it twice at once), then calls
PostHog's private API (``backend.analytics.persons``) and records the outcome: ``sent``;
``failed`` and retried with exponential backoff, at most ``MAX_ATTEMPTS`` in all; or
``failed`` for good after the last attempt or a refusal that asking again cannot fix (a
wrong key). Without ``POSTHOG_PERSONAL_API_KEY`` and ``POSTHOG_PROJECT_ID`` requests stay
``pending`` with that reason and go out once both are set: the sweep runs at start-up and
every 15 minutes, and also picks up retries whose timer a restart lost.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from backend.accounts.models import PosthogDeletionRequest
from backend.analytics.persons import (
    PersonDeletionError,
    PrivateApi,
    delete_persons,
    private_api_host,
)
from backend.core.task_runner import enqueue

logger = structlog.get_logger(__name__)

MAX_ATTEMPTS = 6
BACKOFF_BASE_S = 60.0  # then 2, 4, 8, 16 minutes: the last attempt ~half an hour in
BACKOFF_MAX_S = 3600.0
# An attempt holds its row this long; one that died mid-way is retried by the sweep after.
CLAIM_LEASE_S = 300.0
SWEEP_BATCH = 100
NOT_CONFIGURED = (
    "Not sent yet: PostHog's private API is not configured (set POSTHOG_PERSONAL_API_KEY "
    "and POSTHOG_PROJECT_ID); it is sent once they are."
)

Status = PosthogDeletionRequest.Status
# Rows an attempt may take: waiting to be sent, or failed with a retry planned.
_WAITING = Q(status=Status.PENDING) | Q(status=Status.FAILED, next_attempt_at__isnull=False)

_not_configured_logged = threading.Event()


def private_api() -> PrivateApi | None:
    """PostHog's private API as configured, or None without a personal key and project."""
    env = settings.ENV
    if not (env.POSTHOG_PERSONAL_API_KEY and env.POSTHOG_PROJECT_ID):
        return None
    return PrivateApi(
        host=private_api_host(
            ingestion_host=env.POSTHOG_HOST, configured=env.POSTHOG_PRIVATE_API_HOST
        ),
        project_id=str(env.POSTHOG_PROJECT_ID),
        personal_api_key=env.POSTHOG_PERSONAL_API_KEY,
    )


def posthog_deletion_schedule(*, request: PosthogDeletionRequest) -> None:
    """Send ``request`` once the current transaction commits (at once outside one). Failing
    to enqueue is logged, never raised: the sweep sends it later."""
    request_id, attempts = request.pk, request.attempts
    transaction.on_commit(lambda: _enqueue(request_id=request_id, attempts=attempts))


def posthog_deletion_retry(*, request: PosthogDeletionRequest) -> None:
    """Staff's "send again": a request not yet sent starts over with a full set of attempts."""
    if request.status == Status.SENT:
        return
    request.status, request.attempts = Status.PENDING, 0
    request.last_error, request.next_attempt_at = "", None
    request.save(update_fields=["status", "attempts", "last_error", "next_attempt_at"])
    posthog_deletion_schedule(request=request)


def posthog_deletion_attempt(*, request_id: int, attempts: int) -> None:
    """One attempt at the request, if it is still waiting and still has ``attempts`` behind
    it (otherwise another attempt claimed it first, or it is done)."""
    api = private_api()
    if api is None:
        _log_not_configured()
        PosthogDeletionRequest.objects.filter(pk=request_id, status=Status.PENDING).exclude(
            last_error=NOT_CONFIGURED
        ).update(last_error=NOT_CONFIGURED)
        return
    lease = timezone.now() + timedelta(seconds=CLAIM_LEASE_S)
    claimed = PosthogDeletionRequest.objects.filter(
        _WAITING, pk=request_id, attempts=attempts
    ).update(attempts=attempts + 1, next_attempt_at=lease)
    if not claimed:
        return
    request = PosthogDeletionRequest.objects.get(pk=request_id)
    log = logger.bind(
        posthog_deletion_id=request_id, account_id=str(request.account_id), attempt=request.attempts
    )
    try:
        persons = delete_persons(api=api, distinct_ids=[str(i) for i in request.distinct_ids])
    except PersonDeletionError as exc:
        _record_failure(request=request, error=exc, log=log)
        return
    request.status, request.processed_at = Status.SENT, timezone.now()
    request.last_error, request.next_attempt_at = "", None
    request.save(update_fields=["status", "processed_at", "last_error", "next_attempt_at"])
    log.info("posthog_deletion_sent", persons_deleted=persons)


def posthog_deletions_sweep() -> int:
    """Enqueue every request that is due (never tried, or its retry is due, including those
    whose timer a restart lost or whose worker died); returns how many."""
    if private_api() is None:
        if PosthogDeletionRequest.objects.filter(status=Status.PENDING).exists():
            _log_not_configured()
        return 0
    due = list(
        PosthogDeletionRequest.objects.filter(_WAITING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=timezone.now()))
        .order_by("requested_at")
        .values_list("pk", "attempts")[:SWEEP_BATCH]
    )
    for request_id, attempts in due:
        _enqueue(request_id=request_id, attempts=attempts)
    return len(due)


def backoff_s(attempts: int) -> float:
    """How long to wait after the ``attempts``-th failed attempt."""
    return min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** max(0, attempts - 1))


def _record_failure(
    *, request: PosthogDeletionRequest, error: PersonDeletionError, log: Any
) -> None:
    request.status, request.last_error = Status.FAILED, str(error)[:2000]
    if not error.retryable or request.attempts >= MAX_ATTEMPTS:
        request.next_attempt_at = None
        request.save(update_fields=["status", "last_error", "next_attempt_at"])
        log.error("posthog_deletion_failed", error=request.last_error, retryable=error.retryable)
        return
    delay = min(BACKOFF_MAX_S, max(backoff_s(request.attempts), error.retry_after_s or 0.0))
    request.next_attempt_at = timezone.now() + timedelta(seconds=delay)
    request.save(update_fields=["status", "last_error", "next_attempt_at"])
    log.warning("posthog_deletion_retry", error=request.last_error, retry_in_s=delay)
    _enqueue(request_id=request.pk, attempts=request.attempts, countdown=delay)


def _enqueue(*, request_id: int, attempts: int, countdown: float | None = None) -> None:
    from backend.accounts.tasks import posthog_person_delete

    try:
        enqueue(posthog_person_delete, request_id, attempts, countdown=countdown)
    except Exception:  # the broker is down: the sweep sends it later
        logger.exception("posthog_deletion_enqueue_failed", posthog_deletion_id=request_id)


def _log_not_configured() -> None:
    if not _not_configured_logged.is_set():
        _not_configured_logged.set()
        logger.info("posthog_deletion_not_configured", reason=NOT_CONFIGURED)
