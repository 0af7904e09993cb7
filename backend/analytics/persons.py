"""PostHog's private API for person deletion (GDPR erasure of a deleted account).

The private API is not the capture endpoint: it takes a *personal* API key (scope
``person:write``) and a project id, and lives on the app host (``us.posthog.com``), not the
ingestion host (``us.i.posthog.com``). For each distinct id: ``GET
/api/projects/{project}/persons/?distinct_id=…`` finds the person, then ``DELETE
/api/projects/{project}/persons/{id}/?delete_events=true`` deletes it with its events
(PostHog queues the events' deletion). A person already gone (no match, or 404 on delete)
counts as deleted, so a retry after partial progress is harmless.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# Answers worth asking again: PostHog or the network having a bad moment.
RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
_CLOUD_INGESTION = {"us.i.posthog.com": "us.posthog.com", "eu.i.posthog.com": "eu.posthog.com"}


class PersonDeletionError(Exception):
    """An attempt that did not finish; ``retryable`` says whether asking again may help."""

    def __init__(self, message: str, *, retryable: bool, retry_after_s: float | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, kw_only=True)
class PrivateApi:
    host: str  # https://us.posthog.com, or a self-hosted instance
    project_id: str
    personal_api_key: str


def private_api_host(*, ingestion_host: str, configured: str | None) -> str:
    """The private API's host: the configured one, else PostHog Cloud's app host for its
    ingestion host (``us.i.posthog.com`` → ``us.posthog.com``), else the same host
    (self-hosted PostHog serves both)."""
    if configured:
        return configured.rstrip("/")
    parts = urlsplit(ingestion_host.rstrip("/"))
    app = _CLOUD_INGESTION.get(parts.netloc.lower())
    return f"{parts.scheme}://{app}" if app else ingestion_host.rstrip("/")


def delete_persons(
    *, api: PrivateApi, distinct_ids: Iterable[str], client: httpx.Client | None = None
) -> int:
    """Deletes every person known by one of ``distinct_ids``, with their events; returns how
    many persons were deleted now. Raises ``PersonDeletionError``."""
    own = client is None
    http = client or httpx.Client(timeout=TIMEOUT, follow_redirects=False)
    base = f"{api.host}/api/projects/{api.project_id}/persons/"
    headers = {
        "Authorization": f"Bearer {api.personal_api_key}",
        "Accept": "application/json",
        "User-Agent": "InsightStream/1 (account deletion)",
    }
    deleted: set[str] = set()
    try:
        for distinct_id in dict.fromkeys(distinct_ids):  # once each, in order
            found = _call(http, "GET", base, headers, params={"distinct_id": distinct_id})
            for person in found.json().get("results") or []:
                person_id = str(person.get("id") or person.get("uuid") or "")
                if not person_id or person_id in deleted:
                    continue
                _call(
                    http,
                    "DELETE",
                    f"{base}{person_id}/",
                    headers,
                    params={"delete_events": "true"},
                    gone_ok=True,
                )
                deleted.add(person_id)
    finally:
        if own:
            http.close()
    return len(deleted)


def _call(
    http: httpx.Client,
    method: str,
    url: str,
    headers: dict[str, str],
    *,
    params: dict[str, str],
    gone_ok: bool = False,
) -> httpx.Response:
    try:
        response = http.request(method, url, headers=headers, params=params)
    except httpx.HTTPError as exc:
        raise PersonDeletionError(
            f"{method} {urlsplit(url).path}: {type(exc).__name__}: {exc}", retryable=True
        ) from exc
    if response.is_success or (gone_ok and response.status_code == 404):
        return response
    status = response.status_code
    detail = _detail(response)
    hint = ""
    if status in (401, 403):
        hint = " (check POSTHOG_PERSONAL_API_KEY, its person:write scope, POSTHOG_PROJECT_ID)"
    elif status == 404:
        hint = " (check POSTHOG_PROJECT_ID and POSTHOG_PRIVATE_API_HOST)"
    raise PersonDeletionError(
        f"{method} {urlsplit(url).path}: HTTP {status}{hint}: {detail}",
        retryable=status in RETRYABLE_STATUSES,
        retry_after_s=_retry_after(response),
    )


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("code") or body)[:200]
    return str(body)[:200]


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None
