"""No process signs tokens with a key from the source: with services configured
``SECRET_KEY`` is required (start-up names it); the embedded default generates its own."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from backend.config.env import AppSettings, SettingsError, load_settings
from backend.config.secret_key import KEY_FILE, embedded_secret_key, local_secret_key
from tests.conftest import REPO_ROOT

ENV_NAMES = list(AppSettings.model_fields)
PRINT_KEY = (
    "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"
)


def _local(extra_env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """A fresh process on the local settings (what ``insightstream`` runs by default)."""
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    env |= {"DJANGO_SETTINGS_MODULE": "backend.config.settings.local", **extra_env}
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "services",
    [
        {"DATABASE_URL": "postgres://u@127.0.0.1:5432/app"},
        {"REDIS_URL": "redis://127.0.0.1:6379/0"},
    ],
)
def test_local_settings_with_services_refuse_the_missing_secret_key(tmp_path, services):
    result = _local({"DATA_DIR": str(tmp_path), **services}, "-c", PRINT_KEY)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    assert next(iter(services)) in result.stderr
    assert not (tmp_path / KEY_FILE).exists()


def test_insightstream_up_with_a_database_and_no_secret_key_stops_naming_it(tmp_path):
    result = _local(
        {"DATA_DIR": str(tmp_path), "DATABASE_URL": "postgres://u@127.0.0.1:1/app"},
        "-m",
        "backend.cli",
        "up",
        "--skip-frontend-build",
        "--port",
        "1",
    )
    assert result.returncode == 2
    assert result.stderr.startswith("insightstream: SECRET_KEY is not set")
    assert "Traceback" not in result.stderr


def test_insightstream_worker_with_redis_and_no_secret_key_stops_naming_it(tmp_path):
    result = _local(
        {"DATA_DIR": str(tmp_path), "REDIS_URL": "redis://127.0.0.1:1/0"},
        "-m",
        "backend.cli",
        "worker",
    )
    assert result.returncode == 2
    assert "SECRET_KEY" in result.stderr and "Traceback" not in result.stderr


def test_the_embedded_default_generates_a_key_once_and_keeps_it(tmp_path):
    first = _local({"DATA_DIR": str(tmp_path)}, "-c", PRINT_KEY)
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip().splitlines()[-1]
    assert len(key) >= 50
    assert "insecure" not in key
    stored = tmp_path / KEY_FILE
    assert stored.read_text().strip() == key
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    again = _local({"DATA_DIR": str(tmp_path)}, "-c", PRINT_KEY)
    assert again.stdout.strip().splitlines()[-1] == key
    other = _local({"DATA_DIR": str(tmp_path / "elsewhere")}, "-c", PRINT_KEY)
    assert other.stdout.strip().splitlines()[-1] != key


def test_a_set_secret_key_wins(tmp_path):
    chosen = "k" * 40
    result = _local(
        {"DATA_DIR": str(tmp_path), "SECRET_KEY": chosen, "REDIS_URL": "redis://127.0.0.1:1/0"},
        "-c",
        PRINT_KEY,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == chosen
    assert not (tmp_path / KEY_FILE).exists()


def test_processes_starting_together_agree_on_one_key(tmp_path):
    keys: list[str] = []
    start = threading.Barrier(8)

    def make() -> None:
        start.wait()
        keys.append(embedded_secret_key(tmp_path))

    threads = [threading.Thread(target=make) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(keys)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [KEY_FILE]  # no candidates left


def test_an_emptied_key_file_is_refused_not_replaced(tmp_path):
    (tmp_path / KEY_FILE).write_text("")
    with pytest.raises(SettingsError, match="empty"):
        embedded_secret_key(tmp_path)


def test_local_secret_key_without_services_uses_the_data_dir(tmp_path: Path, monkeypatch):
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env
    env = load_settings(DATA_DIR=tmp_path / "data")
    assert local_secret_key(env) == (tmp_path / "data" / KEY_FILE).read_text().strip()
