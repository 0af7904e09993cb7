"""Node.js, the frontend's npm dependencies, its build and Chromium, for the suites that need them.

Missing pieces skip those suites with a one-line reason; with ``REQUIRE_FRONTEND=1`` (as in
CI) they fail instead. Dependencies are installed (``npm ci``) and the export is built
when Node is present and they are missing or stale, like ``insightstream up`` does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

from backend.core.frontend_build import ensure_built, node_problem

REPO = Path(__file__).resolve().parents[2]
FRONTEND = REPO / "frontend"
ARTIFACTS = REPO / "test-results"


def _required() -> bool:
    return os.environ.get("REQUIRE_FRONTEND", "").strip() not in ("", "0", "false", "no")


def unavailable(reason: str) -> None:
    if _required():
        pytest.fail(f"REQUIRE_FRONTEND=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@cache
def _prepare() -> str | None:
    problem = node_problem()
    if problem:
        return problem
    try:
        if not ensure_built(FRONTEND, say=lambda line: print(line, flush=True)):
            return "the frontend has no package.json"
    except subprocess.CalledProcessError as exc:
        return f"building the frontend failed: {exc}"
    return None


def require_frontend() -> Path:
    """The frontend directory with dependencies installed and a current build."""
    problem = _prepare()
    if problem:
        unavailable(problem)
    return FRONTEND


def chromium_path() -> str:
    candidates = [os.environ.get("CHROMIUM_PATH", ""), "/usr/bin/chromium"]
    candidates.append(shutil.which("chromium") or "")
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return candidate
    unavailable("Chromium not installed (apt-get install chromium)")
    raise AssertionError("unreachable")


def npm(args: list[str], *, env: dict[str, str] | None = None, timeout: float = 600) -> None:
    """Runs an npm script in frontend/; its output is shown when it fails."""
    result = subprocess.run(
        ["npm", *args],
        cwd=FRONTEND,
        env={**os.environ, "NEXT_TELEMETRY_DISABLED": "1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(
            f"npm {' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}",
            pytrace=False,
        )
