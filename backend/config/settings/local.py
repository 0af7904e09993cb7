"""Embedded default and development: runs with no services and no keys."""

from backend.config.settings.base import *  # noqa: F403
from backend.config.settings.base import ENV

DEBUG = ENV.DEBUG
