"""Test settings: the embedded default unless DATABASE_URL / REDIS_URL point at services."""

import os
from pathlib import Path

from backend.config.settings.base import *  # noqa: F403
from backend.config.settings.base import ENV

SECRET_KEY = ENV.SECRET_KEY or "test-secret-key-not-for-production-000000000000"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests enqueue explicitly and wait; periodic jobs are started only by tests that want them.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 30}


def _test_redis_url(url: str | None) -> str | None:
    """Tests use their own Redis database (TEST_REDIS_DB, default 15) and may flush it."""
    if not url:
        return None
    import os
    from urllib.parse import urlparse, urlunparse

    parsed = urlparse(url)
    return urlunparse(parsed._replace(path=f"/{os.environ.get('TEST_REDIS_DB', '15')}"))


REDIS_URL = _test_redis_url(ENV.REDIS_URL)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "insightstream-test",
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not shared-cache memory: threads then queue on the busy timeout (WAL) instead
    # of failing with "table is locked", exactly as the embedded default behaves.
    import tempfile

    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(Path(tempfile.gettempdir()) / f"insightstream-test-{os.getpid()}.sqlite3")
    }

# Tests of the UI's pages point FRONTEND_DIST_DIR at an export of their own; the rest see
# no build, whether or not one exists in the checkout (the browser tests make one).
FRONTEND_DIST_DIR = ENV.DATA_DIR / "no-frontend-build"
WHITENOISE_ROOT = None
