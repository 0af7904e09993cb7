"""The Content-Security-Policy of the chat UI's pages (``backend.core.frontend``).

Scripts run only from the site itself (the export's ``_next/static/`` chunks) and as the
inline scripts Next.js writes into each page (its bootstrap, ``self.__next_f.push(...)``),
each allowed by its sha256: ``npm run build`` records them per page in
``out/csp-hashes.json`` (``frontend/scripts/csp-hashes.mjs``). No ``'unsafe-inline'`` or
``'unsafe-eval'``: the export has no inline styles either (React applies ``style`` props
through the CSSOM, which CSP does not restrict). Images may also come from YouTube's
hosts, the thumbnail bucket's origin (presigned URLs) and ``data:``/``blob:``; connections
and scripts from PostHog when the page sends analytics.

A build without the hashes file (made before it existed), or a page it does not list,
would be broken by a policy without its hashes. Such a page gets the directives that
cannot break it enforced and the whole policy as ``Content-Security-Policy-Report-Only``
(the browser reports, blocks nothing), and a warning says to rebuild — which
``insightstream up`` does by itself (``backend.core.frontend_build``).
"""

from __future__ import annotations

import json
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import structlog
from django.conf import settings

logger = structlog.get_logger(__name__)

HASHES_FILE = "csp-hashes.json"
ENFORCED = "Content-Security-Policy"
REPORT_ONLY = "Content-Security-Policy-Report-Only"
# Video thumbnails and channel avatars in search results and channel data.
YOUTUBE_IMAGE_SOURCES = (
    "https://i.ytimg.com",
    "https://*.ytimg.com",
    "https://img.youtube.com",
    "https://yt3.ggpht.com",
    "https://yt3.googleusercontent.com",
)
# The page without a build: static text with one inline style, no scripts.
NOT_BUILT_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
# Left out of the enforced policy while a page's script hashes are unknown.
_NEED_HASHES = ("default-src", "script-src")
_HASH = re.compile(r"^sha(256|384|512)-[A-Za-z0-9+/]+={0,2}$")
# posthog-js on PostHog Cloud: the API on <region>.i.posthog.com, its remote config and
# lazily loaded extensions on <region>-assets.i.posthog.com.
_POSTHOG_CLOUD = re.compile(r"^https://(app|us|us-assets|eu|eu-assets)(\.i)?\.posthog\.com$")

_warned: set[str] = set()
_warned_lock = threading.Lock()
_storage_origin: tuple[Any, tuple[str, ...]] | None = None


def page_headers(page: Path) -> dict[str, str]:
    """The CSP header(s) for the exported HTML file ``page``."""
    hashes = page_script_hashes(page)
    if hashes is None:
        full = directives(script_hashes=())
        enforced = {name: v for name, v in full.items() if name not in _NEED_HASHES}
        return {ENFORCED: render(enforced), REPORT_ONLY: render(full)}
    return {ENFORCED: render(directives(script_hashes=hashes))}


def not_built_headers() -> dict[str, str]:
    return {ENFORCED: NOT_BUILT_POLICY}


def directives(*, script_hashes: tuple[str, ...] | list[str]) -> dict[str, list[str]]:
    env = settings.ENV
    script = ["'self'", *(f"'{digest}'" for digest in script_hashes)]
    connect = ["'self'"]
    if env.POSTHOG_API_KEY:  # the page loads posthog-js (GET /api/config/ names the key)
        posthog_connect, posthog_script = posthog_sources(env.POSTHOG_HOST)
        connect += posthog_connect
        script += posthog_script
    return {
        "default-src": ["'self'"],
        "script-src": _unique(script),
        "style-src": ["'self'"],
        "img-src": _unique(
            ["'self'", "data:", "blob:", *YOUTUBE_IMAGE_SOURCES, *thumbnail_storage_origins()]
        ),
        "font-src": ["'self'"],
        "connect-src": _unique(connect),
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],  # Stripe Checkout and the portal are redirects, not forms
        "frame-ancestors": ["'none'"],
    }


def render(policy: dict[str, list[str]]) -> str:
    return "; ".join(" ".join([name, *sources]) for name, sources in policy.items())


def posthog_sources(host: str) -> tuple[list[str], list[str]]:
    """(connect-src, script-src) sources posthog-js needs with ``api_host`` = ``host``."""
    origin = _origin(host)
    if origin is None:
        return [], []
    cloud = _POSTHOG_CLOUD.match(origin)
    if cloud is None:  # self-hosted or a reverse proxy: everything from that host
        return [origin], [origin]
    region = "eu" if cloud.group(1).startswith("eu") else "us"
    assets = f"https://{region}-assets.i.posthog.com"
    return [f"https://{region}.i.posthog.com", assets], [assets]


def thumbnail_storage_origins() -> tuple[str, ...]:
    """The origin presigned thumbnail URLs point at, when thumbnails live in a bucket: asked
    of the storage itself (addressing style and endpoint decide it), once per storage."""
    global _storage_origin
    env = settings.ENV
    if not env.THUMBNAIL_S3_BUCKET:
        return ()
    from django.core.files.storage import storages

    files = storages["thumbnails"]
    cached = _storage_origin
    if cached is not None and cached[0] is files:
        return cached[1]
    origins: tuple[str, ...] = ()
    try:
        origin = _origin(files.url("csp-origin-probe.png"))
        origins = (origin,) if origin else ()
    except Exception:  # no credentials to sign with: fall back to the endpoint's origin
        logger.warning("csp_thumbnail_origin_unknown", exc_info=True)
        endpoint = _origin(env.THUMBNAIL_S3_ENDPOINT_URL or "")
        origins = (endpoint,) if endpoint else ()
    _storage_origin = (files, origins)
    return origins


def page_script_hashes(page: Path) -> tuple[str, ...] | None:
    """The build's recorded hashes of ``page``'s inline scripts; None when the build has no
    hashes file or it does not list the page."""
    root = Path(settings.FRONTEND_DIST_DIR).resolve()
    hashes_file = root / HASHES_FILE
    try:
        stat = hashes_file.stat()
        key = page.resolve().relative_to(root).as_posix()
    except (OSError, ValueError):
        _warn_once(str(hashes_file), "csp_hashes_missing", hashes_file=str(hashes_file))
        return None
    pages = _load(str(hashes_file), stat.st_mtime_ns, stat.st_size)
    found = pages.get(key)
    if found is None:
        _warn_once(f"{hashes_file}:{key}", "csp_hashes_missing_page", page=key)
    return found


@lru_cache(maxsize=8)
def _load(path: str, _mtime_ns: int, _size: int) -> dict[str, tuple[str, ...]]:
    try:
        data = json.loads(Path(path).read_text())
        pages = data["pages"]
        return {
            str(name): tuple(str(h) for h in hashes if _HASH.match(str(h)))
            for name, hashes in pages.items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        logger.warning("csp_hashes_unreadable", hashes_file=path, exc_info=True)
        return {}


def _warn_once(key: str, event: str, **fields: Any) -> None:
    with _warned_lock:
        if key in _warned:
            return
        _warned.add(key)
    logger.warning(
        event,
        **fields,
        consequence="the page's Content-Security-Policy is report-only",
        fix="rebuild the chat UI: npm run build in frontend/ (insightstream up does it)",
    )


def _origin(url: str) -> str | None:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1].lower()}"


def _unique(sources: list[str]) -> list[str]:
    return list(dict.fromkeys(sources))
