"""`insightstream up` builds the chat UI only when its export is missing or stale."""

import os
import time
from pathlib import Path

import pytest

from backend.core.frontend_build import build_reason, ensure_built


def _frontend(tmp_path: Path) -> Path:
    root = tmp_path / "frontend"
    (root / "app").mkdir(parents=True)
    (root / "package.json").write_text("{}")
    (root / "package-lock.json").write_text("{}")
    (root / "app" / "page.tsx").write_text("export default 1")
    return root


def _touch_later(path: Path, seconds: float) -> None:
    stamp = time.time() + seconds
    os.utime(path, (stamp, stamp))


def _fake_node(tmp_path: Path, monkeypatch, node_version: str = "v20.20.2") -> Path:
    """`node` and `npm` scripts on PATH; npm logs its calls and writes a build."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "npm.log"
    (bin_dir / "node").write_text(f"#!/bin/sh\necho {node_version}\n")
    (bin_dir / "npm").write_text(
        "#!/bin/sh\n"
        f'echo "$* telemetry=$NEXT_TELEMETRY_DISABLED" >> {log}\n'
        'if [ "$1" = ci ]; then mkdir -p node_modules; touch node_modules/.package-lock.json; fi\n'
        'if [ "$1" = run ]; then mkdir -p out && echo built > out/index.html'
        " && echo {} > out/csp-hashes.json; fi\n"
    )
    for script in bin_dir.iterdir():
        script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log


def test_reasons(tmp_path):
    frontend = _frontend(tmp_path)
    assert build_reason(frontend) == "no build yet"
    (frontend / "out").mkdir()
    (frontend / "out" / "index.html").write_text("x")
    _touch_later(frontend / "out" / "index.html", 10)
    # A build from before the CSP hashes: rebuilt, or its pages' policy stays report-only.
    assert build_reason(frontend) == "the build has no CSP hashes (out/csp-hashes.json)"
    (frontend / "out" / "csp-hashes.json").write_text("{}")
    assert build_reason(frontend) is None
    # Generated trees never count as sources.
    (frontend / "node_modules").mkdir()
    (frontend / "node_modules" / "x.js").write_text("x")
    _touch_later(frontend / "node_modules" / "x.js", 60)
    assert build_reason(frontend) is None
    # Nor do files the type check and the build write beside the sources.
    for generated in ("tsconfig.tsbuildinfo", "next-env.d.ts"):
        (frontend / generated).write_text("x")
        _touch_later(frontend / generated, 60)
    assert build_reason(frontend) is None
    _touch_later(frontend / "app" / "page.tsx", 60)
    assert build_reason(frontend) == "app/page.tsx changed"


def test_installs_then_builds_once(tmp_path, monkeypatch):
    frontend = _frontend(tmp_path)
    log = _fake_node(tmp_path, monkeypatch)
    lines: list[str] = []
    assert ensure_built(frontend, say=lines.append)
    assert log.read_text().splitlines() == [
        "ci --no-audit --no-fund telemetry=1",
        "run build telemetry=1",
    ]
    _touch_later(frontend / "out" / "index.html", 10)
    assert ensure_built(frontend, say=lines.append)
    assert len(log.read_text().splitlines()) == 2  # current: nothing ran


def test_without_node_it_says_why_and_serves_the_api_only(tmp_path, monkeypatch):
    frontend = _frontend(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    lines: list[str] = []
    assert ensure_built(frontend, say=lines.append) is False
    assert lines == [
        "Chat UI not built (no build yet): Node.js is not installed; serving the API only."
    ]


def test_without_node_an_existing_build_is_served_as_it_is(tmp_path, monkeypatch):
    frontend = _frontend(tmp_path)
    (frontend / "out").mkdir()
    (frontend / "out" / "index.html").write_text("x")
    _touch_later(frontend / "out" / "index.html", 10)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    lines: list[str] = []
    assert ensure_built(frontend, say=lines.append) is True
    assert lines == [
        "Chat UI not rebuilt (the build has no CSP hashes (out/csp-hashes.json)): Node.js is "
        "not installed; serving the existing build."
    ]


def test_old_node_is_named(tmp_path, monkeypatch):
    frontend = _frontend(tmp_path)
    _fake_node(tmp_path, monkeypatch, node_version="v18.19.0")
    lines: list[str] = []
    assert ensure_built(frontend, say=lines.append) is False
    assert "Node.js 20+ is needed, found v18.19.0" in lines[0]


def test_no_frontend_no_build(tmp_path):
    assert ensure_built(tmp_path, say=pytest.fail) is False
