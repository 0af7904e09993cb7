"""When the moderation endpoint cannot answer, nothing goes through (503 with
Retry-After) unless MODERATION_FAIL_OPEN; the settings that tune what is refused; the
counters and the log line (never the text)."""

from __future__ import annotations

import time

import pytest
from structlog.testing import capture_logs

from backend.moderation.selectors import moderation_counts
from backend.runs.models import Run
from tests.backend.moderation.conftest import FLAGGED
from tests.backend.moderation.test_entry_points import THREAT, _session, rejected

pytestmark = pytest.mark.django_db(transaction=True)


def _post(client, session_id: str, content: str):
    return client.post(
        f"/api/chat/sessions/{session_id}/messages/", {"content": content}, format="json"
    )


def test_endpoint_down_is_503_with_retry_after_and_nothing_queued(
    anon_client, env, dead_url, embedded
) -> None:
    env(MODERATION_URL=dead_url)
    session_id = _session(anon_client)

    response = _post(anon_client, session_id, "ideas for latte art")

    assert response.status_code == 503, response.content
    error = response.json()["error"]
    assert error["code"] == "MODERATION_UNAVAILABLE"
    assert response["Retry-After"] == "5" and error["details"]["retry_after_s"] == 5
    assert not Run.objects.exists()
    assert moderation_counts()["unavailable"] == 1


def test_an_endpoint_error_passes_its_retry_after_on(anon_client, endpoint, embedded) -> None:
    endpoint.moderation_status = 429
    response = anon_client.post("/api/tools/keywords/", {"topic": "espresso"}, format="json")

    assert response.status_code == 503
    assert response["Retry-After"] == "7"
    assert response.json()["error"]["details"]["reason"] == "HTTP 429"


def test_a_slow_endpoint_is_refused_within_the_timeout(anon_client, endpoint, env) -> None:
    endpoint.moderation_delay_s = 3.0
    env(MODERATION_TIMEOUT_S=0.3)

    started = time.monotonic()
    response = anon_client.post("/api/factoids/generate/", {"subject": "astronomy"}, format="json")

    assert response.status_code == 503
    assert time.monotonic() - started < 2.0
    assert not Run.objects.exists()


def test_fail_open_lets_the_text_through_and_says_so(anon_client, env, dead_url, embedded) -> None:
    env(MODERATION_URL=dead_url, MODERATION_FAIL_OPEN=True)
    session_id = _session(anon_client)

    with capture_logs() as logs:
        response = _post(anon_client, session_id, "ideas for latte art")

    assert response.status_code == 202, response.content
    [line] = [entry for entry in logs if entry["event"] == "moderation_unavailable"]
    assert line["fail_open"] is True and line["feature"] == "chat"
    assert moderation_counts()["unavailable"] == 1


def test_block_categories_and_thresholds_tune_the_endpoint(anon_client, endpoint, env) -> None:
    body = {"topic": f"{FLAGGED} tips"}  # violence, score 0.93
    env(MODERATION_BLOCK_CATEGORIES=["sexual/minors", "self-harm/instructions"])
    assert anon_client.post("/api/tools/keywords/", body, format="json").status_code == 200
    env(MODERATION_BLOCK_CATEGORIES=[], MODERATION_THRESHOLDS={"violence": 0.95})
    assert anon_client.post("/api/tools/keywords/", body, format="json").status_code == 200
    env(MODERATION_THRESHOLDS={"violence": 0.9})
    rejected(
        anon_client.post("/api/tools/keywords/", body, format="json"),
        field="topic",
        category="violence",
    )


def test_block_categories_limit_the_offline_rules(anon_client, env) -> None:
    env(MODERATION_BLOCK_CATEGORIES=["sexual/minors"])
    response = anon_client.post("/api/tools/keywords/", {"topic": THREAT}, format="json")
    assert response.status_code == 200, response.content


def test_rejections_are_counted_per_category_and_logged_without_the_text(anon_client) -> None:
    with capture_logs() as logs:
        for topic in (THREAT, "kys", "how to make a pipe bomb"):
            anon_client.post("/api/tools/keywords/", {"topic": topic}, format="json")

    assert moderation_counts() == {
        "rejected": {"harassment/threatening": 2, "illicit/violent": 1},
        "unavailable": 0,
    }
    lines = [entry for entry in logs if entry["event"] == "moderation_rejected"]
    assert len(lines) == 3
    assert {line["field"] for line in lines} == {"topic"}
    assert lines[0]["feature"] == "tool:keyword_research" and lines[0]["source"] == "rules"
    assert lines[0]["chars"] == len(THREAT)
    assert "pipe bomb" not in repr(logs) and "kill you" not in repr(logs)


@pytest.mark.redis
def test_with_redis_the_counts_are_shared_counters(anon_client) -> None:
    import redis
    from django.conf import settings

    anon_client.post("/api/tools/keywords/", {"topic": THREAT}, format="json")

    connection = redis.Redis.from_url(settings.REDIS_URL)
    assert connection.get("moderation:rejected:harassment/threatening") == b"1"
    assert moderation_counts()["rejected"] == {"harassment/threatening": 1}
