"""Builds the chat UI's static export when it is missing or older than its sources.

Used by `insightstream up`; needs no Django. Without Node.js (20+) it says so and the
service starts with the API only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

MIN_NODE_MAJOR = 20
# Everything under these is produced by npm or the build, never a source.
_NOT_SOURCES = {"node_modules", "out", ".next", "tests", "test-results"}
# Files tools write beside the sources (TypeScript's incremental state, Next's type stub).
_GENERATED_SUFFIXES = (".tsbuildinfo",)
_GENERATED_NAMES = {"next-env.d.ts"}


def _source_files(frontend: Path) -> Iterator[Path]:
    for entry in frontend.iterdir():
        if entry.name in _NOT_SOURCES or entry.name.startswith("."):
            continue
        if entry.name in _GENERATED_NAMES or entry.name.endswith(_GENERATED_SUFFIXES):
            continue
        if entry.is_file():
            yield entry
        elif entry.is_dir():
            yield from (path for path in entry.rglob("*") if path.is_file())


def build_reason(frontend: Path) -> str | None:
    """Why the export must be (re)built, or None when it is current."""
    index = frontend / "out" / "index.html"
    if not index.is_file():
        return "no build yet"
    # Without it the pages' Content-Security-Policy cannot allow their inline scripts.
    if not (frontend / "out" / "csp-hashes.json").is_file():
        return "the build has no CSP hashes (out/csp-hashes.json)"
    built_at = index.stat().st_mtime
    newer = next((p for p in _source_files(frontend) if p.stat().st_mtime > built_at), None)
    return f"{newer.relative_to(frontend)} changed" if newer else None


def _dependencies_stale(frontend: Path) -> bool:
    installed = frontend / "node_modules" / ".package-lock.json"
    lock = frontend / "package-lock.json"
    return not installed.is_file() or lock.stat().st_mtime > installed.stat().st_mtime


def node_problem() -> str | None:
    """Why Node.js cannot build the UI here, or None."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "Node.js is not installed"
    version = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False)
    try:
        major = int(version.stdout.strip().lstrip("v").split(".")[0])
    except ValueError:
        return f"cannot read the Node.js version ({version.stdout.strip()!r})"
    if major < MIN_NODE_MAJOR:
        return f"Node.js {MIN_NODE_MAJOR}+ is needed, found {version.stdout.strip()}"
    return None


def ensure_built(frontend: Path, say: Callable[[str], None] = print) -> bool:
    """Builds `frontend/out` if needed. True when a current build exists afterwards."""
    if not (frontend / "package.json").is_file():
        return False
    reason = build_reason(frontend)
    if reason is None:
        return True
    problem = node_problem()
    if problem:
        if (frontend / "out" / "index.html").is_file():
            say(f"Chat UI not rebuilt ({reason}): {problem}; serving the existing build.")
            return True
        say(f"Chat UI not built ({reason}): {problem}; serving the API only.")
        return False
    env = {**os.environ, "NEXT_TELEMETRY_DISABLED": "1"}
    if _dependencies_stale(frontend):
        say("Installing the chat UI's dependencies (npm ci)…")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=frontend, env=env, check=True)
    say(f"Building the chat UI ({reason})…")
    subprocess.run(["npm", "run", "build"], cwd=frontend, env=env, check=True)
    return True
