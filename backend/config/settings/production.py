"""Production: refuses to start without its secrets and services."""

from urllib.parse import urlsplit

from backend.config.env import SettingsError
from backend.config.settings.base import *  # noqa: F403
from backend.config.settings.base import ENV

_REQUIRED = {
    "SECRET_KEY": ENV.SECRET_KEY,
    "DATABASE_URL": ENV.DATABASE_URL,
    "REDIS_URL": ENV.REDIS_URL,
    # Links in mail (verification, password reset) and payment returns: never built from
    # a request's Host header, which a caller can forge.
    "PUBLIC_URL": ENV.PUBLIC_URL,
}
_missing = [name for name, value in _REQUIRED.items() if not value]
if _missing:
    raise SettingsError(
        "Production settings need these environment variables: " + ", ".join(_missing)
    )
if ENV.SECRET_KEY and len(ENV.SECRET_KEY) < 32:
    raise SettingsError("SECRET_KEY must be at least 32 characters in production")
_public = urlsplit(ENV.PUBLIC_URL or "")
if ENV.PUBLIC_URL and (_public.scheme not in ("http", "https") or not _public.netloc):
    raise SettingsError("PUBLIC_URL must be an absolute http(s) URL, e.g. https://app.example.com")

DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
# HSTS on responses to HTTPS requests (the proxy's X-Forwarded-Proto says which are).
SECURE_HSTS_SECONDS = ENV.SECURE_HSTS_SECONDS
SECURE_HSTS_INCLUDE_SUBDOMAINS = ENV.SECURE_HSTS_INCLUDE_SUBDOMAINS
SECURE_HSTS_PRELOAD = ENV.SECURE_HSTS_PRELOAD
if ENV.SECURE_HSTS_PRELOAD and not (
    ENV.SECURE_HSTS_INCLUDE_SUBDOMAINS and ENV.SECURE_HSTS_SECONDS >= 31_536_000
):
    raise SettingsError(
        "SECURE_HSTS_PRELOAD needs SECURE_HSTS_INCLUDE_SUBDOMAINS=true and "
        "SECURE_HSTS_SECONDS of at least 31536000 (what browsers' preload lists require)"
    )
