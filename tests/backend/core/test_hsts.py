"""HTTP Strict Transport Security: on HTTPS responses in production (a year by default,
includeSubDomains and preload only when asked for), never on plain http or locally."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.test import Client, override_settings

from backend.config.env import AppSettings
from tests.conftest import REPO_ROOT

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "backend.config.settings.production",
    "SECRET_KEY": "x" * 50,
    # Never connected to: the requests below touch neither the database nor Redis.
    "DATABASE_URL": "postgres://nobody@127.0.0.1:1/unused",
    "REDIS_URL": "redis://127.0.0.1:1/0",
    "PUBLIC_URL": "https://app.example.com",
    "ALLOWED_HOSTS": "app.example.com",
    "LOG_LEVEL": "ERROR",
}
# Requests the production settings answer: over TLS to Django, through the proxy
# (X-Forwarded-Proto: https), and plain http.
_PROBE = """
import json, django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="app.example.com")
answers = {
    "https": client.get("/livez", secure=True),
    "proxied_https": client.get("/livez", HTTP_X_FORWARDED_PROTO="https"),
    "http": client.get("/livez"),
}
print(json.dumps({k: r.headers.get("Strict-Transport-Security") for k, r in answers.items()}))
"""


def _production(**extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in AppSettings.model_fields}
    return subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=REPO_ROOT,
        env={**env, **PRODUCTION, **extra},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _headers(result: subprocess.CompletedProcess[str]) -> dict[str, str | None]:
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_production_sends_a_years_hsts_on_https_only():
    headers = _headers(_production())
    assert headers == {
        "https": "max-age=31536000",
        "proxied_https": "max-age=31536000",
        "http": None,
    }


def test_subdomains_and_preload_are_opt_in():
    headers = _headers(
        _production(SECURE_HSTS_INCLUDE_SUBDOMAINS="true", SECURE_HSTS_PRELOAD="true")
    )
    assert headers["https"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["http"] is None


def test_hsts_can_be_turned_off_and_preload_needs_what_the_lists_require():
    assert _headers(_production(SECURE_HSTS_SECONDS="0"))["https"] is None
    refused = _production(SECURE_HSTS_PRELOAD="true")
    assert refused.returncode != 0
    assert "SECURE_HSTS_INCLUDE_SUBDOMAINS" in refused.stderr


@pytest.mark.django_db
def test_local_settings_send_no_hsts(settings):
    assert settings.SECURE_HSTS_SECONDS == 0
    assert "Strict-Transport-Security" not in Client().get("/livez", secure=True).headers
    assert "Strict-Transport-Security" not in Client().get("/livez").headers


@pytest.mark.django_db
def test_the_middleware_sends_what_the_settings_say():
    with override_settings(SECURE_HSTS_SECONDS=600, SECURE_HSTS_INCLUDE_SUBDOMAINS=True):
        client = Client()  # a new handler: SecurityMiddleware reads the settings when built
        assert client.get("/livez", secure=True)["Strict-Transport-Security"] == (
            "max-age=600; includeSubDomains"
        )
        assert "Strict-Transport-Security" not in client.get("/livez").headers
