"""Test settings: the embedded default unless DATABASE_URL / REDIS_URL point at services."""

from backend.config.settings.base import *  # noqa: F403
from backend.config.settings.base import ENV

SECRET_KEY = ENV.SECRET_KEY or "test-secret-key-not-for-production-000000000000"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests enqueue explicitly and wait; periodic jobs are started only by tests that want them.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 30}
