"""Embedded default and development: runs with no services and no keys.

With ``DATABASE_URL`` or ``REDIS_URL`` set it refuses to start without ``SECRET_KEY``;
with neither, a random key is generated once under ``DATA_DIR`` (backend/config/secret_key.py).
"""

from backend.config.secret_key import local_secret_key
from backend.config.settings.base import *  # noqa: F403
from backend.config.settings.base import ENV

DEBUG = ENV.DEBUG
SECRET_KEY = local_secret_key(ENV)
