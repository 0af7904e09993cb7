"""A real `insightstream web` (uvicorn, ASGI) as a subprocess of the test, on the test
database: for tests of what the service does across its own restarts and under load."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from django.db import connection

from tests.conftest import REPO_ROOT, wait_for

# The web processes' connections carry this name (tests count them in pg_stat_activity).
APP_NAME = "test-web"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url(*, application_name: str | None = None) -> str:
    db = connection.settings_dict
    url = (
        f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )
    return f"{url}?application_name={application_name}" if application_name else url


@dataclass
class Web:
    base: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.base, **{"timeout": 30, **kwargs})  # type: ignore[arg-type]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextlib.contextmanager
def web_server(tmp_path: Path, **env: str) -> Iterator[Web]:
    port = free_port()
    log_path = tmp_path / f"web-{port}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "backend.cli", "web", "--port", str(port)],
        cwd=REPO_ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "backend.config.settings.test",
            "DATABASE_URL": database_url(application_name=APP_NAME),
            "PYTHONPATH": str(REPO_ROOT),
            "CLIENT_MINT_PER_MINUTE": "100000",
            "GUARD_REQUESTS_PER_MINUTE": "100000",
            "LOG_LEVEL": "WARNING",
            **env,
        },
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    web = Web(base=f"http://127.0.0.1:{port}", process=process, log_path=log_path)
    try:

        def up() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"web exited early:\n{web.log()[-3000:]}")
            try:
                return httpx.get(web.base + "/livez", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(up, timeout=60, interval=0.2)
        yield web
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
