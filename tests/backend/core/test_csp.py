"""The chat UI's Content-Security-Policy: inline scripts allowed by the hashes the build
recorded per page (frontend/scripts/csp-hashes.mjs), no 'unsafe-inline', images from
YouTube and the thumbnail bucket, PostHog only when analytics are on; report-only when a
build has no hashes; never on the API's JSON."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.test import Client
from structlog.testing import capture_logs

from backend.config.settings.base import thumbnail_storage
from backend.core import csp
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.django_db

HASH_SCRIPT = REPO_ROOT / "frontend" / "scripts" / "csp-hashes.mjs"
BOOTSTRAP = "(self.__next_f=self.__next_f||[]).push([0])"
FLIGHT = 'self.__next_f.push([1,"0:{\\"P\\":null,\\"b\\":\\"café ☕\\"}\\n"])'
CHAT_ONLY = 'self.__next_f.push([1,"chat"])'
NOT_FOUND = 'self.__next_f.push([1,"404"])'


def sha256(script: str) -> str:
    """What a browser computes for an inline script: its text, UTF-8, base64 of sha256."""
    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()


def page(*scripts: str) -> str:
    inline = "".join(f"<script>{body}</script>" for body in scripts)
    return (
        '<!DOCTYPE html><html><head><script src="/_next/static/chunks/app.js" async=""></script>'
        f"</head><body><div>app</div>{inline}</body></html>"
    )


@pytest.fixture
def export(tmp_path, settings, env):
    """A tiny export with per-page hashes; no PostHog key, thumbnails on disk."""
    out = tmp_path / "out"
    (out / "account").mkdir(parents=True)
    (out / "index.html").write_text(page(BOOTSTRAP, FLIGHT))
    (out / "chat.html").write_text(page(BOOTSTRAP, CHAT_ONLY))
    (out / "account" / "verify-email.html").write_text(page(BOOTSTRAP))
    (out / "404.html").write_text(page(BOOTSTRAP, NOT_FOUND))
    write_hashes(out)
    settings.FRONTEND_DIST_DIR = out
    env(POSTHOG_API_KEY=None, THUMBNAIL_S3_BUCKET=None)
    return out


def write_hashes(out: Path, skip: tuple[str, ...] = ()) -> None:
    pages = {}
    for html in sorted(out.rglob("*.html")):
        name = html.relative_to(out).as_posix()
        if name in skip:
            continue
        bodies = re.findall(r"<script>(.*?)</script>", html.read_text(), re.S)
        pages[name] = [sha256(body) for body in bodies]
    (out / "csp-hashes.json").write_text(
        json.dumps({"version": 1, "algorithm": "sha256", "pages": pages})
    )


def policy(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def test_a_page_allows_exactly_its_own_inline_scripts(client: Client, export):
    response = client.get("/")
    assert "Content-Security-Policy-Report-Only" not in response.headers
    sent = policy(response["Content-Security-Policy"])
    assert sent["script-src"] == ["'self'", f"'{sha256(BOOTSTRAP)}'", f"'{sha256(FLIGHT)}'"]
    assert sent == {
        "default-src": ["'self'"],
        "script-src": sent["script-src"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:", *csp.YOUTUBE_IMAGE_SOURCES],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]

    chat = policy(client.get("/chat?session=x")["Content-Security-Policy"])["script-src"]
    assert chat == ["'self'", f"'{sha256(BOOTSTRAP)}'", f"'{sha256(CHAT_ONLY)}'"]
    nested = policy(client.get("/account/verify-email")["Content-Security-Policy"])
    assert nested["script-src"] == ["'self'", f"'{sha256(BOOTSTRAP)}'"]


def test_the_export_404_page_has_its_own_hashes(client: Client, export):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    sources = policy(response["Content-Security-Policy"])["script-src"]
    assert sources == ["'self'", f"'{sha256(BOOTSTRAP)}'", f"'{sha256(NOT_FOUND)}'"]


def test_the_apis_json_carries_no_policy(client: Client, export):
    for path in ("/api/config/", "/livez", "/api/nope/"):
        response = client.get(path)
        assert response["Content-Type"].startswith("application/json"), path
        assert "Content-Security-Policy" not in response.headers, path
        assert "Content-Security-Policy-Report-Only" not in response.headers, path


def test_a_build_without_hashes_reports_instead_of_breaking_the_page(client: Client, export):
    (export / "csp-hashes.json").unlink()
    csp._warned.clear()
    with capture_logs() as logs:
        response = client.get("/")
        client.get("/")
    enforced = policy(response["Content-Security-Policy"])
    # What cannot break the page stays enforced; scripts are only reported.
    assert "script-src" not in enforced and "default-src" not in enforced
    assert enforced["frame-ancestors"] == ["'none'"] and enforced["object-src"] == ["'none'"]
    assert enforced["base-uri"] == ["'self'"] and enforced["form-action"] == ["'self'"]
    reported = policy(response["Content-Security-Policy-Report-Only"])
    assert reported["script-src"] == ["'self'"] and reported["default-src"] == ["'self'"]
    warnings = [e for e in logs if e["event"] == "csp_hashes_missing"]
    assert len(warnings) == 1 and "npm run build" in warnings[0]["fix"]


def test_a_page_the_hashes_do_not_list_reports_too(client: Client, export):
    write_hashes(export, skip=("chat.html",))
    assert "Content-Security-Policy-Report-Only" not in client.get("/").headers
    chat = client.get("/chat")
    assert "script-src" not in policy(chat["Content-Security-Policy"])
    assert "Content-Security-Policy-Report-Only" in chat.headers


def test_a_rebuild_is_picked_up_without_a_restart(client: Client, export):
    (export / "index.html").write_text(page("self.__next_f.push([9])"))
    write_hashes(export)
    sources = policy(client.get("/")["Content-Security-Policy"])["script-src"]
    assert sources == ["'self'", f"'{sha256('self.__next_f.push([9])')}'"]


def test_without_a_build_the_explanation_page_is_locked_down(client: Client, settings, tmp_path):
    settings.FRONTEND_DIST_DIR = tmp_path / "missing"
    sent = policy(client.get("/")["Content-Security-Policy"])
    assert sent["default-src"] == ["'none'"] and sent["frame-ancestors"] == ["'none'"]


@pytest.mark.parametrize(
    ("host", "connect", "script"),
    [
        (
            "https://us.i.posthog.com",
            ["https://us.i.posthog.com", "https://us-assets.i.posthog.com"],
            ["https://us-assets.i.posthog.com"],
        ),
        (
            "https://eu.i.posthog.com/",
            ["https://eu.i.posthog.com", "https://eu-assets.i.posthog.com"],
            ["https://eu-assets.i.posthog.com"],
        ),
        ("https://ph.example.com/ingest", ["https://ph.example.com"], ["https://ph.example.com"]),
    ],
)
def test_posthog_is_allowed_when_the_page_sends_analytics(
    client: Client, export, env, host, connect, script
):
    env(POSTHOG_API_KEY="phc_test", POSTHOG_HOST=host)
    sent = policy(client.get("/")["Content-Security-Policy"])
    assert sent["connect-src"] == ["'self'", *connect]
    assert sent["script-src"][-len(script) :] == script
    assert sent["script-src"][0] == "'self'"


@pytest.mark.parametrize(
    ("style", "origin"),
    [
        ("auto", "https://acct.r2.cloudflarestorage.com"),
        ("virtual", "https://thumbs.acct.r2.cloudflarestorage.com"),
    ],
)
def test_images_may_come_from_the_thumbnail_bucket(
    client: Client, export, settings, env, style, origin
):
    env(
        THUMBNAIL_S3_BUCKET="thumbs",
        THUMBNAIL_S3_ENDPOINT_URL="https://acct.r2.cloudflarestorage.com",
        THUMBNAIL_S3_REGION="auto",
        THUMBNAIL_S3_ADDRESSING_STYLE=style,
        THUMBNAIL_S3_ACCESS_KEY_ID="AKIA-test",
        THUMBNAIL_S3_SECRET_ACCESS_KEY="secret-test",
    )
    settings.STORAGES = {**settings.STORAGES, "thumbnails": thumbnail_storage(settings.ENV)}
    sent = policy(client.get("/")["Content-Security-Policy"])
    assert sent["img-src"][-1] == origin
    assert sent["connect-src"] == ["'self'"]


def test_exported_pages_served_as_files_carry_the_policy_too(settings, export):
    add_headers = settings.WHITENOISE_ADD_HEADERS_FUNCTION
    headers: dict[str, str] = {}
    add_headers(headers, str(export / "chat.html"), "/chat.html")
    assert f"'{sha256(CHAT_ONLY)}'" in headers["Content-Security-Policy"]
    script: dict[str, str] = {}
    add_headers(script, str(export / "chat.js"), "/_next/static/chunks/chat.js")
    assert script == {}


@pytest.fixture
def node() -> str:
    found = shutil.which("node")
    if found is None:
        pytest.skip("Node.js not installed")
    return found


def test_the_build_step_records_what_the_browser_hashes(client: Client, export, node):
    """The real script over the fake export: its hashes are the browser's, and the backend
    sends them."""
    (export / "csp-hashes.json").unlink()
    (export / "chat.html").write_text(
        page(BOOTSTRAP, 'self.__next_f.push([1,"<\\/script> ☕ \\u003c"])', "")
        + '<script type="application/json" src="/x.json"></script>'
    )
    subprocess.run([node, str(HASH_SCRIPT), str(export)], check=True, capture_output=True)
    written = json.loads((export / "csp-hashes.json").read_text())
    assert written["version"] == 1 and written["algorithm"] == "sha256"
    assert written["pages"]["chat.html"] == [
        sha256(BOOTSTRAP),
        sha256('self.__next_f.push([1,"<\\/script> ☕ \\u003c"])'),
        sha256(""),
    ]
    assert written["pages"]["account/verify-email.html"] == [sha256(BOOTSTRAP)]
    assert set(written["pages"]) == {
        "index.html",
        "chat.html",
        "404.html",
        "account/verify-email.html",
    }
    sources = policy(client.get("/chat")["Content-Security-Policy"])["script-src"]
    assert sources[1:] == [f"'{digest}'" for digest in written["pages"]["chat.html"]]
    check = [node, str(HASH_SCRIPT), "--check", str(export)]
    assert subprocess.run(check, capture_output=True).returncode == 0
    (export / "index.html").write_text(page("changed()"))
    assert subprocess.run(check, capture_output=True).returncode == 1
