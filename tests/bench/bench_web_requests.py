"""Web-process CPU per request for the chat path's requests (no worker running).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/0 \
      uv run python tests/bench/bench_web_requests.py [--requests 200]

Starts `insightstream web` (uvicorn, ASGI) on PostgreSQL + Redis and sends requests one at
a time, reading the web process's CPU time (utime + stime from /proc) around each batch:
the cost of the middleware chain alone (`/livez`), an authenticated read, a session
create, and a session create + message post (the queued runs are cancelled at the end,
so a worker that later takes them ends them at once). Numbers, not assertions.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
CLK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--port", type=int, default=8944)
    opts = parser.parse_args()
    if not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        sys.exit("Set DATABASE_URL and REDIS_URL: this benchmark measures the production path.")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backend.config.settings.local",
        "LOG_LEVEL": "WARNING",
        # With DATABASE_URL/REDIS_URL the local settings need a key of their own.
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only-secret-key-" + "0" * 40,
        "GUARD_REQUESTS_PER_MINUTE": "1000000",
        "CLIENT_MINT_PER_MINUTE": "1000000",
    }
    run = [sys.executable, "-m", "backend.cli"]
    subprocess.run([*run, "manage", "migrate", "--noinput"], cwd=REPO, env=env, check=True)
    web = subprocess.Popen(
        [*run, "web", "--port", str(opts.port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{opts.port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/livez", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        client = httpx.Client(base_url=base)
        token = client.post("/api/clients/").json()["token"]
        headers = {"X-Client-Token": token}

        def session() -> str:
            return client.post("/api/chat/sessions/", json={}, headers=headers).json()["id"]

        run_ids: list[str] = []

        def session_and_message() -> None:
            posted = client.post(
                f"/api/chat/sessions/{session()}/messages/",
                json={"content": "hashtags for a home espresso channel"},
                headers=headers,
            )
            assert posted.status_code == 202, posted.text
            run_ids.append(posted.json()["run_id"])

        cases: list[tuple[str, Callable[[], object]]] = [
            ("GET /livez", lambda: client.get("/livez")),
            ("GET /api/clients/me/", lambda: client.get("/api/clients/me/", headers=headers)),
            ("POST /api/chat/sessions/", session),
            ("POST session + POST message", session_and_message),
        ]
        for name, call in cases:
            for _ in range(10):  # warm-up
                call()
            before, started = cpu_s(web.pid), time.perf_counter()
            for _ in range(opts.requests):
                call()
            cpu_ms = (cpu_s(web.pid) - before) / opts.requests * 1000
            wall_ms = (time.perf_counter() - started) / opts.requests * 1000
            print(f"{name}: web CPU {cpu_ms:.1f} ms/request, wall {wall_ms:.1f} ms")
        for run_id in run_ids:
            client.post(f"/api/runs/{run_id}/cancel/", headers=headers)
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        web.wait(timeout=20)
    print("command: uv run python tests/bench/bench_web_requests.py --requests", opts.requests)


if __name__ == "__main__":
    main()
