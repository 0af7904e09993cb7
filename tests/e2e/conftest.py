"""A real backend for the browser tests: `insightstream up` on the embedded default.

SQLite in a fresh data directory, tasks on the in-process runner, the offline model with
a per-token delay so a run is observably in flight, and the frontend's current export.
A priced model is declared and the anonymous daily budget is zero, so choosing that model
is refused with 402 while the free offline model keeps working.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import SHARED_DATA
from tests.frontend.toolchain import ARTIFACTS, FRONTEND, chromium_path, require_frontend

PRICED_MODEL = "e2e/priced-model"
_SERVICE_VARS = ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "POSTHOG_API_KEY")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def live_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_frontend()
    port = _free_port()
    data_dir = tmp_path_factory.mktemp("e2e-data")
    env = {key: value for key, value in os.environ.items() if key not in _SERVICE_VARS}
    env |= {
        "DJANGO_SETTINGS_MODULE": "backend.config.settings.local",
        "DATA_DIR": str(data_dir),
        "FRONTEND_DIST_DIR": str(FRONTEND / "out"),
        "OFFLINE_TOKEN_DELAY_MS": "40",
        "GUARD_ANON_CLIENT_DAILY_USD": "0",
        "DECLARED_MODELS": json.dumps(
            [
                {
                    "id": PRICED_MODEL,
                    "input_per_million": "0.1",
                    "output_per_million": "0.4",
                    "context_length": 128000,
                }
            ]
        ),
        "LOG_LEVEL": "WARNING",
    }
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "backend.cli",
                "up",
                "--skip-frontend-build",
                "--port",
                str(port),
            ],
            env=env,
            cwd=Path(__file__).resolve().parents[2],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                if server.poll() is not None:
                    pytest.fail(f"the backend exited:\n{log_path.read_text()}", pytrace=False)
                try:
                    if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"the backend did not start:\n{log_path.read_text()}", pytrace=False
                    )
                time.sleep(0.2)
            yield base_url
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
    (ARTIFACTS / "e2e").mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "e2e" / "server.log").write_bytes(log_path.read_bytes())


@pytest.fixture
def run_spec(live_backend: str):
    """Runs one Node test file of tests/e2e/ against the live backend in Chromium."""
    browser = chromium_path()
    screenshots = ARTIFACTS / "e2e"
    screenshots.mkdir(parents=True, exist_ok=True)

    def run(spec: str) -> None:
        result = subprocess.run(
            ["node", "--test", "--test-reporter=spec", str(Path(__file__).parent / spec)],
            env={
                **os.environ,
                "BASE_URL": live_backend,
                "CHROMIUM_PATH": browser,
                "SCREENSHOT_DIR": str(screenshots),
                "PRICED_MODEL": PRICED_MODEL,
                "SHARED_DATA": str(SHARED_DATA),
            },
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            pytest.fail(f"{spec} failed:\n{result.stdout}\n{result.stderr}", pytrace=False)

    return run
