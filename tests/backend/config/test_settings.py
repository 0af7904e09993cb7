import os
import subprocess
import sys

import pytest

from backend.config.env import AppSettings, SettingsError, load_settings
from backend.config.settings.base import database_config
from tests.conftest import REPO_ROOT

ENV_NAMES = list(AppSettings.model_fields)


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env
    return monkeypatch


def test_defaults_are_the_embedded_mode(clean_env):
    env = load_settings()
    assert env.DATABASE_URL is None and env.REDIS_URL is None
    assert env.OPENROUTER_API_KEY is None and env.POSTHOG_API_KEY is None
    assert env.STRIPE_SECRET_KEY is None and env.BRAINTRUST_API_KEY is None
    assert env.uses_celery is False
    db = database_config(env)
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"].endswith("insightstream.sqlite3")
    assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]
    assert db["OPTIONS"]["timeout"] > 0


def test_database_url_selects_postgres_with_a_pool(clean_env):
    clean_env.setenv("DATABASE_URL", "postgres://u:p@db.example:6543/app")
    clean_env.setenv("DB_POOL_MAX_SIZE", "40")
    db = database_config(load_settings())
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["HOST"], db["PORT"], db["NAME"]) == ("db.example", 6543, "app")
    assert db["CONN_MAX_AGE"] == 0
    assert db["OPTIONS"]["pool"]["max_size"] == 40


def test_redis_url_selects_celery(clean_env):
    clean_env.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    assert load_settings().uses_celery is True
    clean_env.setenv("TASK_RUNNER", "thread")
    assert load_settings().uses_celery is False


def test_lists_are_comma_separated(clean_env):
    clean_env.setenv("ALLOWED_HOSTS", "a.example, b.example,,")
    assert load_settings().ALLOWED_HOSTS == ["a.example", "b.example"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "eighty"),
        ("PORT", "70000"),
        ("DATABASE_URL", "mysql://x"),
        ("REDIS_URL", "http://x"),
        ("LOG_LEVEL", "LOUD"),
        ("DECLARED_MODELS", "not json"),
        ("DECLARED_MODELS", '[{"id": "m", "input_per_million": "1"}]'),
        ("DEBUG", "maybe"),
    ],
)
def test_bad_values_name_the_variable(clean_env, name, value):
    clean_env.setenv(name, value)
    with pytest.raises((SettingsError, Exception)) as info:
        load_settings()
    assert name in str(info.value)


def test_declared_models_parse(clean_env):
    clean_env.setenv(
        "DECLARED_MODELS",
        '[{"id": "local/llama", "input_per_million": "0", "output_per_million": "0"}]',
    )
    assert load_settings().DECLARED_MODELS[0]["id"] == "local/llama"


def _import_production(extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    env |= {"DJANGO_SETTINGS_MODULE": "backend.config.settings.production", **extra_env}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_refuses_to_start_without_secrets():
    result = _import_production({})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr and "DATABASE_URL" in result.stderr
    assert "REDIS_URL" in result.stderr and "PUBLIC_URL" in result.stderr


PRODUCTION_SECRETS = {
    "SECRET_KEY": "x" * 50,
    "DATABASE_URL": "postgres://u@127.0.0.1:5432/test",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "PUBLIC_URL": "https://app.example.com",
}


@pytest.mark.parametrize("public_url", [None, "app.example.com", "ftp://app.example.com"])
def test_production_refuses_to_start_without_an_absolute_public_url(public_url):
    """Mail links must never fall back to a request's (forgeable) Host header."""
    env = {k: v for k, v in PRODUCTION_SECRETS.items() if k != "PUBLIC_URL"}
    if public_url is not None:
        env["PUBLIC_URL"] = public_url
    result = _import_production(env)
    assert result.returncode != 0
    assert "PUBLIC_URL" in result.stderr


def test_production_starts_with_its_secrets():
    result = _import_production(PRODUCTION_SECRETS)
    assert result.returncode == 0, result.stderr
