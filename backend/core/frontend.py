"""The chat UI's pages: the Next.js static export, served on the API's origin.

WhiteNoise (settings.WHITENOISE_ROOT) serves the export's files — scripts, styles, icons.
This view answers the page routes (`/`, `/chat`, `/factoids`, …) with the exported
HTML: `chat` → `chat.html` or `chat/index.html`. Pages are never cached (they name the
current build's hashed assets), set the CSRF cookie the session-cookie API needs, and
carry the Content-Security-Policy of ``backend.core.csp`` (the API's JSON does not).
Without a build, `/` explains how to make one and the API keeps working.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe

from backend.core import csp
from backend.core.errors import NotFoundError

_NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>InsightStream</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto;">
<h1>InsightStream</h1>
<p>The API is running, but the chat interface has not been built. Install Node.js 20+
and restart <code>uv run insightstream up</code> (it builds the interface), or run
<code>npm ci &amp;&amp; npm run build</code> in <code>frontend/</code>.</p>
<ul><li><a href="/api/docs/">API documentation</a></li>
<li><a href="/healthz">Health</a></li></ul>
</body></html>"""


def dist_dir() -> Path:
    return Path(settings.FRONTEND_DIST_DIR)


def is_built() -> bool:
    return (dist_dir() / "index.html").is_file()


def resolve_page(page: str) -> Path | None:
    """The exported HTML file for a page route, or None. Never leaves the export."""
    root = dist_dir().resolve()
    page = page.strip("/")
    if not page:
        candidates = [root / "index.html"]
    elif any(part in ("", ".", "..") for part in page.split("/")):
        return None
    else:
        candidates = [root / f"{page}.html", root / page / "index.html"]
    for candidate in candidates:
        resolved = candidate.resolve()
        if resolved.is_file() and resolved.is_relative_to(root):
            return resolved
    return None


@require_safe
@ensure_csrf_cookie
def page(request: HttpRequest, path: str = "") -> HttpResponse:
    html = "text/html; charset=utf-8"
    if not is_built():
        if path.strip("/"):
            raise NotFoundError("No such page; the chat interface has not been built.")
        response = HttpResponse(_NOT_BUILT, content_type=html)
        policy = csp.not_built_headers()
    else:
        found = resolve_page(path)
        status = 200
        if found is None:
            not_found = dist_dir() / "404.html"
            if not not_found.is_file():
                raise NotFoundError(f"No page at /{path}.")
            found, status = not_found, 404
        # Read whole: pages are small, and a file iterator is synchronous under ASGI.
        response = HttpResponse(found.read_bytes(), content_type=html, status=status)
        response.is_ui_page = True  # type: ignore[attr-defined]  # read by ErrorBodyMiddleware
        policy = csp.page_headers(found)
    for name, value in policy.items():
        response[name] = value
    response["Cache-Control"] = "no-cache"
    return response
