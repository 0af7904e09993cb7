"""Settings shared by every environment, derived from the typed ``AppSettings``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import dj_database_url

from backend.config.env import AppSettings, get_settings
from backend.config.logging import logging_config

ENV: AppSettings = get_settings()

BASE_DIR = ENV.DATA_DIR.parent
DATA_DIR = ENV.DATA_DIR

# No built-in fallback: each environment module decides (local: settings or a key generated
# under DATA_DIR, refused with services; production: required; tests: a test key).
SECRET_KEY = ENV.SECRET_KEY or ""
DEBUG = ENV.DEBUG
ALLOWED_HOSTS = ENV.ALLOWED_HOSTS
CSRF_TRUSTED_ORIGINS = ENV.CSRF_TRUSTED_ORIGINS

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "backend.core",
    "backend.clients",
    "backend.guard",
    "backend.llm",
    "backend.analytics",
    "backend.runs",
    "backend.chat",
    "backend.channels",
    "backend.tools",
    "backend.factoids",
    "backend.thumbnails",
    "rest_framework_simplejwt.token_blacklist",
    "backend.accounts",
    "backend.payments",
    "backend.ops",
    "backend.audit",
]

MIDDLEWARE = [
    "backend.core.middleware.RequestContextMiddleware",
    "backend.audit.context.AuditContextMiddleware",  # the request an audit event is in
    "backend.core.middleware.BodySizeLimitMiddleware",
    "backend.core.middleware.WriteGateMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    # Django's own below, with their hooks on the event loop (backend/core/loop_middleware.py)
    "backend.core.loop_middleware.SecurityMiddleware",
    "backend.core.middleware.StaticFilesMiddleware",  # WhiteNoise, async too
    "backend.core.loop_middleware.SessionMiddleware",
    "backend.core.loop_middleware.CommonMiddleware",
    "backend.core.loop_middleware.CsrfViewMiddleware",
    "backend.core.loop_middleware.AuthenticationMiddleware",
    "backend.core.loop_middleware.MessageMiddleware",
    "backend.core.loop_middleware.XFrameOptionsMiddleware",
    "backend.core.middleware.ErrorBodyMiddleware",
]

ROOT_URLCONF = "backend.config.urls"
CSRF_FAILURE_VIEW = "backend.core.errors.csrf_failure_view"
ASGI_APPLICATION = "backend.config.asgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]


def database_config(env: AppSettings) -> dict[str, Any]:
    """PostgreSQL with a psycopg pool when DATABASE_URL is set, else SQLite in WAL mode."""
    if env.DATABASE_URL and not env.DATABASE_URL.startswith("sqlite"):
        config: dict[str, Any] = dict(dj_database_url.parse(env.DATABASE_URL, conn_max_age=0))
        # With the pool, Django then checks each connection as it leaves the pool
        # (psycopg_pool's check_connection): after a PostgreSQL restart the dead ones are
        # replaced instead of failing requests and runs.
        config["CONN_HEALTH_CHECKS"] = True
        config["OPTIONS"] = {
            **config.get("OPTIONS", {}),
            # A pool instead of persistent connections: an ASGI server holding many
            # streams must not pin one connection per stream (CONN_MAX_AGE stays 0).
            "pool": {
                "min_size": env.DB_POOL_MIN_SIZE,
                "max_size": env.DB_POOL_MAX_SIZE,
                "timeout": env.DB_POOL_TIMEOUT_S,
            },
        }
        return config
    if env.DATABASE_URL:
        path = urlparse(env.DATABASE_URL).path.lstrip("/") or str(env.DATA_DIR / "db.sqlite3")
    else:
        path = str(env.DATA_DIR / "insightstream.sqlite3")
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        "OPTIONS": {
            # Writers queue on the busy timeout instead of failing with "database is locked".
            "timeout": env.SQLITE_BUSY_TIMEOUT_S,
            "transaction_mode": "IMMEDIATE",
            "init_command": (
                "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;"
            ),
        },
    }


DATABASES = {"default": database_config(ENV)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if ENV.REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": ENV.REDIS_URL,
            "KEY_PREFIX": "insightstream",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

REDIS_URL = ENV.REDIS_URL

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Accounts: JWT access/refresh tokens (rotated, blacklisted after use and on logout).
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=ENV.JWT_ACCESS_TOKEN_MINUTES),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=ENV.JWT_REFRESH_TOKEN_DAYS),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
    # Tokens carry a hash of the password: resetting it ends every login.
    "CHECK_REVOKE_TOKEN": True,
}
# Email verification and password reset links stay valid this long.
PASSWORD_RESET_TIMEOUT = ENV.ACCOUNT_EMAIL_LINK_MAX_AGE_S
EMAIL_BACKEND = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    # SMTP with a deadline on each whole send (backend/core/mail.py).
    "smtp": "backend.core.mail.DeadlineSMTPBackend",
}[ENV.EMAIL_BACKEND]
EMAIL_TIMEOUT = ENV.EMAIL_TIMEOUT_S
EMAIL_DEADLINE_S = ENV.EMAIL_DEADLINE_S
EMAIL_FILE_PATH = DATA_DIR / "mail"
EMAIL_HOST = ENV.EMAIL_HOST
EMAIL_PORT = ENV.EMAIL_PORT
EMAIL_HOST_USER = ENV.EMAIL_HOST_USER
EMAIL_HOST_PASSWORD = ENV.EMAIL_HOST_PASSWORD
EMAIL_USE_TLS = ENV.EMAIL_USE_TLS
DEFAULT_FROM_EMAIL = ENV.DEFAULT_FROM_EMAIL

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"


def thumbnail_storage(env: AppSettings) -> dict[str, Any]:
    """Generated thumbnails, never public media: files under DATA_DIR (served to their owner
    by our signed URLs), or private objects in THUMBNAIL_S3_BUCKET (served by presigned
    URLs that expire with THUMBNAIL_URL_TTL_S; backend.thumbnails.selectors.image_url)."""
    if not env.THUMBNAIL_S3_BUCKET:
        return {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(env.DATA_DIR / "thumbnails")},
        }
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config

    options: dict[str, Any] = {
        "bucket_name": env.THUMBNAIL_S3_BUCKET,
        "location": env.THUMBNAIL_S3_PREFIX,
        "endpoint_url": env.THUMBNAIL_S3_ENDPOINT_URL,
        "region_name": env.THUMBNAIL_S3_REGION,
        # No ACL on the objects: they stay private (and buckets that enforce the owner's
        # ACL refuse uploads that name one).
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": env.THUMBNAIL_URL_TTL_S,
        "file_overwrite": False,
        # Replaces django-storages' own Config, so the signature and addressing style go here.
        "client_config": Config(
            signature_version="s3v4",
            s3={"addressing_style": env.THUMBNAIL_S3_ADDRESSING_STYLE},
            connect_timeout=env.THUMBNAIL_S3_CONNECT_TIMEOUT_S,
            read_timeout=env.THUMBNAIL_S3_READ_TIMEOUT_S,
            retries={"mode": "standard", "total_max_attempts": env.THUMBNAIL_S3_MAX_ATTEMPTS},
        ),
        # An image is one small PUT: no transfer thread pool per upload.
        "transfer_config": TransferConfig(use_threads=False),
    }
    if env.THUMBNAIL_S3_ACCESS_KEY_ID:
        options["access_key"] = env.THUMBNAIL_S3_ACCESS_KEY_ID
        options["secret_key"] = env.THUMBNAIL_S3_SECRET_ACCESS_KEY
    return {"BACKEND": "backend.thumbnails.storage.ThumbnailS3Storage", "OPTIONS": options}


STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "thumbnails": thumbnail_storage(ENV),
}

# The chat UI: a Next.js static export. WhiteNoise serves its files from the site root
# (hashed `_next/static/` assets as immutable); backend.core.frontend serves its pages.
FRONTEND_DIST_DIR = ENV.FRONTEND_DIST_DIR
WHITENOISE_ROOT = FRONTEND_DIST_DIR if FRONTEND_DIST_DIR.is_dir() else None


def _immutable_frontend_asset(path: str, url: str) -> bool:
    # Next.js puts a content hash in every file name under _next/static/.
    return url.startswith("/_next/static/")


WHITENOISE_IMMUTABLE_FILE_TEST = _immutable_frontend_asset


def _frontend_file_headers(headers: Any, path: str, url: str) -> None:
    # An exported page fetched as a file (/chat.html) carries the pages' CSP as well.
    if url.endswith(".html"):
        from backend.core.csp import page_headers

        for name, value in page_headers(Path(path)).items():
            headers[name] = value


WHITENOISE_ADD_HEADERS_FUNCTION = _frontend_file_headers

# Request bodies: 413 above MAX_REQUEST_BODY_BYTES, answered before the body is read;
# Django's own cap on non-file form data is kept below it.
MAX_REQUEST_BODY_BYTES = ENV.MAX_REQUEST_BODY_BYTES
# Paths with a cap of their own (checked before Django reads the body, backend/core/
# body_limit.py): the CSV import takes files up to CSV_IMPORT_MAX_BYTES, plus the
# multipart envelope.
REQUEST_BODY_LIMITS = {
    "/api/channels/import/": ENV.CSV_IMPORT_MAX_BYTES + 64 * 1024,
    "/api/thumbnails/analyse/": ENV.THUMBNAIL_UPLOAD_MAX_BYTES + 64 * 1024,
}
DATA_UPLOAD_MAX_MEMORY_SIZE = ENV.MAX_REQUEST_BODY_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "backend.core.errors.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "backend.clients.authentication.ClientAuthentication",
        "backend.clients.authentication.SessionUserAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["backend.clients.authentication.HasClient"],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "InsightStream API",
    "DESCRIPTION": "AI assistant for video creators: chat runs, creator tools, factoids.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Celery (read by backend.config.celery_app with namespace "CELERY")
CELERY_BROKER_URL = ENV.REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = ENV.REDIS_URL or "cache+memory://"
# One result backend (and Redis pool) per process, not per thread: under ASGI each request
# runs its sync view in a new thread, and building a backend there cost ~1 ms a request.
CELERY_RESULT_BACKEND_THREAD_SAFE = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = ENV.CELERY_TASK_SOFT_TIME_LIMIT_S
CELERY_TASK_TIME_LIMIT = ENV.CELERY_TASK_TIME_LIMIT_S
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": ENV.CELERY_VISIBILITY_TIMEOUT_S}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "backend.runs.tasks.run_execute": {"queue": "default"},
    "backend.runs.tasks.tool_execute": {"queue": "long"},
    # Calls to other people's servers, away from the runs' slots (slow targets wait here).
    "backend.chat.tasks.webhook_deliver": {"queue": "outbound"},
    "backend.accounts.tasks.send_email": {"queue": "outbound"},
    "backend.accounts.tasks.posthog_person_delete": {"queue": "outbound"},
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Beat runs every periodic job once when it starts (then on its interval), as embedded does.
CELERY_BEAT_SCHEDULER = "backend.core.task_runner:RunAtStartScheduler"
# The periodic jobs; in embedded mode the in-process scheduler reads the same table.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "worker-heartbeat": {
        "task": "backend.core.tasks.worker_heartbeat",
        "schedule": float(ENV.WORKER_HEARTBEAT_INTERVAL_S),
    },
    "model-catalogue-refresh": {
        "task": "backend.llm.tasks.catalogue_refresh",
        "schedule": 86_400.0,
    },
    "runs-reap": {
        "task": "backend.runs.tasks.runs_reap",
        "schedule": float(max(5, ENV.RUN_LEASE_S // 2)),
    },
    "runs-prune": {
        "task": "backend.runs.tasks.runs_prune",
        "schedule": 86_400.0,
    },
    # Approvals nobody answered in time: their runs end cancelled.
    "chat-approvals-expire": {
        "task": "backend.chat.tasks.approvals_expire",
        "schedule": 60.0,
    },
    "chat-sessions-prune": {
        "task": "backend.chat.tasks.sessions_prune",
        "schedule": 86_400.0,
    },
    "guard-archive-days": {
        "task": "backend.guard.tasks.archive_finished_days",
        "schedule": 3_600.0,
    },
    # Expired reservations into the ledger, pending settles, estimates to billed costs.
    "guard-reconcile-spend": {
        "task": "backend.guard.tasks.reconcile_spend",
        "schedule": 60.0,
    },
    "accounts-prune-tokens": {
        "task": "backend.accounts.tasks.prune_expired_tokens",
        "schedule": 86_400.0,
    },
    # Deleted accounts' PostHog persons not sent yet (never tried, retry due, lost timer).
    "accounts-posthog-deletions": {
        "task": "backend.accounts.tasks.posthog_deletions_sweep",
        "schedule": 900.0,
    },
    "payments-process-pending": {
        "task": "backend.payments.tasks.process_pending_events",
        "schedule": 300.0,
    },
    "payments-prune-invalid": {
        "task": "backend.payments.tasks.prune_invalid_events",
        "schedule": 86_400.0,
    },
    "audit-prune": {
        "task": "backend.audit.tasks.audit_events_prune",
        "schedule": 86_400.0,
    },
}

CORS_ALLOWED_ORIGINS = ENV.CORS_ALLOWED_ORIGINS
CORS_ALLOW_HEADERS = [
    "accept",
    "authorization",
    "content-type",
    "last-event-id",
    "x-client-token",
    "x-request-id",
    "x-requested-with",
]
CORS_EXPOSE_HEADERS = ["x-request-id", "retry-after", "x-vercel-ai-ui-message-stream"]

RUN_EVENT_LOG_RETENTION_S = ENV.RUN_EVENT_LOG_RETENTION_S
SSE_MAX_STREAMS_PER_CLIENT = ENV.SSE_MAX_STREAMS_PER_CLIENT

TASK_RUNNER = "celery" if ENV.uses_celery else "thread"
TASK_RUNNER_THREADS = ENV.TASK_RUNNER_THREADS
WORKER_HEARTBEAT_MAX_AGE_S = ENV.WORKER_HEARTBEAT_MAX_AGE_S

LOGGING = logging_config(level=ENV.LOG_LEVEL, fmt=ENV.LOG_FORMAT)
