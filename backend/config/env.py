"""The one typed settings object, read once from the environment and an optional `.env`.

Django settings modules (``backend.config.settings.*``) translate it into Django's names;
nothing else in the backend reads ``os.environ``. ``sample.env`` documents every field.
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]


def _split_csv(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class AppSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=True
    )

    # --- Django core
    SECRET_KEY: str | None = None
    DEBUG: bool = False
    ALLOWED_HOSTS: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["localhost", "127.0.0.1", "[::1]", "testserver"]
    )
    CSRF_TRUSTED_ORIGINS: Annotated[list[str], NoDecode] = Field(default_factory=list)
    CORS_ALLOWED_ORIGINS: Annotated[list[str], NoDecode] = Field(default_factory=list)
    DATA_DIR: Path = REPO_ROOT / "data"
    FRONTEND_DIST_DIR: Path = REPO_ROOT / "frontend" / "out"
    HOST: str = "127.0.0.1"
    PORT: int = Field(default=8000, ge=1, le=65535)
    PUBLIC_URL: str | None = None
    # HTTP Strict Transport Security on HTTPS responses, production settings only (0: off).
    # includeSubDomains and preload are commitments for the whole domain: opt in.
    SECURE_HSTS_SECONDS: int = Field(default=31_536_000, ge=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS: bool = False
    SECURE_HSTS_PRELOAD: bool = False
    MAX_REQUEST_BODY_BYTES: int = Field(default=10 * 1024 * 1024, ge=1024)
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    LOG_FORMAT: Literal["json", "console"] = "json"
    GRACEFUL_SHUTDOWN_TIMEOUT_S: int = Field(default=5, ge=0)
    # Longer than clients' and proxies' idle keep-alive (httpx 5 s, browsers, load
    # balancers ~60 s), so the client closes an idle connection, never the server just as
    # the client reuses it ("server disconnected" under load).
    HTTP_KEEP_ALIVE_S: int = Field(default=75, ge=1)
    # Streams (SSE) one client may hold open at once, across web processes; 429 beyond.
    SSE_MAX_STREAMS_PER_CLIENT: int = Field(default=20, ge=1)
    # Writes (POST, PUT, PATCH, DELETE) one web process serves at once; the rest wait their
    # turn on the event loop, so reads never queue behind a burst of writes.
    WEB_WRITE_CONCURRENCY: int = Field(default=2, ge=1, le=256)

    # --- Identity
    TRUSTED_PROXIES: Annotated[list[str], NoDecode] = Field(default_factory=list)
    CLIENT_TOKEN_COOKIE: str = "insightstream_client"
    CLIENT_TOKEN_MAX_AGE_DAYS: int = Field(default=365, ge=1)
    CLIENT_MINT_PER_MINUTE: int = Field(default=10, ge=1)

    # --- Cost guards (USD; empty = no limit on that line)
    GUARD_GLOBAL_DAILY_USD: Decimal | None = Decimal("20")
    # Each plan's share of the global budget (0-1): its callers together take at most this.
    GUARD_GLOBAL_SHARE_ANONYMOUS: Decimal = Field(default=Decimal("0.3"), ge=0, le=1)
    GUARD_GLOBAL_SHARE_FREE: Decimal = Field(default=Decimal("0.3"), ge=0, le=1)
    GUARD_GLOBAL_SHARE_PAID: Decimal = Field(default=Decimal("1"), ge=0, le=1)
    GUARD_GLOBAL_SHARE_PRO: Decimal = Field(default=Decimal("1"), ge=0, le=1)
    GUARD_GLOBAL_SHARE_CREDITS: Decimal = Field(default=Decimal("1"), ge=0, le=1)
    GUARD_ANON_CLIENT_DAILY_USD: Decimal | None = Decimal("0.05")
    GUARD_ANON_SESSION_USD: Decimal | None = Decimal("0.05")
    GUARD_IP_DAILY_USD: Decimal | None = Decimal("0.20")
    GUARD_ANON_MAX_CALL_USD: Decimal | None = Decimal("0.02")
    GUARD_ANON_ALLOWED_MODELS: Annotated[list[str], NoDecode] = Field(default_factory=list)
    GUARD_KEY_DAILY_USD: Decimal | None = Decimal("1")
    GUARD_KEY_MAX_CALL_USD: Decimal | None = Decimal("0.10")
    GUARD_PAID_KEY_DAILY_USD: Decimal | None = Decimal("10")
    GUARD_PAID_KEY_MAX_CALL_USD: Decimal | None = Decimal("0.50")
    GUARD_PRO_DAILY_USD: Decimal | None = Decimal("5")
    GUARD_PRO_MAX_CALL_USD: Decimal | None = Decimal("0.50")
    GUARD_CREDITS_DAILY_USD: Decimal | None = Decimal("50")
    GUARD_CREDITS_MAX_CALL_USD: Decimal | None = Decimal("1")
    GUARD_MAX_CONCURRENT_CALLS: int = Field(default=4, ge=1)
    # Inside a run (its 202 already sent), how long a model call waits for a concurrency
    # slot or a rate token before the run fails with RATE_LIMITED.
    GUARD_SLOT_WAIT_S: int = Field(default=120, ge=0)
    GUARD_REQUESTS_PER_MINUTE: int = Field(default=20, ge=1)
    GUARD_SOFT_LIMIT_FRACTION: Decimal = Field(default=Decimal("0.8"), gt=0, le=1)
    GUARD_RESERVATION_TTL_S: int = Field(default=600, ge=1)
    GUARD_FAIL_OPEN: bool = False

    # --- Moderation (backend/moderation, agents/moderation): every text a person sends is
    # checked before it reaches a model. An OpenAI-compatible endpoint when MODERATION_URL
    # (or MODERATION_API_KEY alone: OpenAI's) is set, else the built-in rule list.
    MODERATION_URL: str | None = None  # API base, e.g. https://api.openai.com/v1
    MODERATION_API_KEY: str | None = None
    MODERATION_MODEL: str = "omni-moderation-latest"
    MODERATION_TIMEOUT_S: float = Field(default=3.0, gt=0, le=30)
    # Down or out of time: refuse with 503 MODERATION_UNAVAILABLE, unless this is true.
    MODERATION_FAIL_OPEN: bool = False
    # Categories that refuse a text (empty: every one the checker flags).
    MODERATION_BLOCK_CATEGORIES: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # "category=score,...": refuse at or above that score instead of the endpoint's yes/no.
    MODERATION_THRESHOLDS: Annotated[dict[str, float], NoDecode] = Field(default_factory=dict)

    # --- Accounts
    JWT_ACCESS_TOKEN_MINUTES: int = Field(default=30, ge=1)
    JWT_REFRESH_TOKEN_DAYS: int = Field(default=7, ge=1)
    ACCOUNT_LOGIN_PER_MINUTE: int = Field(default=5, ge=1)
    ACCOUNT_LOGIN_IP_PER_MINUTE: int = Field(default=20, ge=1)
    ACCOUNT_REGISTER_IP_PER_MINUTE: int = Field(default=5, ge=1)
    ACCOUNT_EMAIL_LINK_MAX_AGE_S: int = Field(default=3 * 86_400, ge=60)
    EMAIL_BACKEND: Literal["console", "file", "smtp"] = "console"
    EMAIL_HOST: str = "localhost"
    EMAIL_PORT: int = Field(default=587, ge=1, le=65535)
    EMAIL_HOST_USER: str = ""
    EMAIL_HOST_PASSWORD: str = ""
    EMAIL_USE_TLS: bool = True
    DEFAULT_FROM_EMAIL: str = "InsightStream <no-reply@localhost>"
    # Outbound calls (emails, webhook deliveries) run on their own queue, each attempt
    # bounded as a whole: a target that answers a byte at a time cannot hold a slot.
    EMAIL_TIMEOUT_S: float = Field(default=10.0, gt=0)  # each SMTP network wait
    EMAIL_DEADLINE_S: float = Field(default=30.0, gt=0)  # one whole send
    WEBHOOK_DEADLINE_S: float = Field(default=15.0, gt=0)  # one whole delivery attempt

    # --- Storage and services
    DATABASE_URL: str | None = None
    DB_POOL_MIN_SIZE: int = Field(default=2, ge=0)
    DB_POOL_MAX_SIZE: int = Field(default=20, ge=1)
    # How long a request waits for a pooled connection before it answers 503
    # SERVICE_OVERLOADED (with Retry-After) instead.
    DB_POOL_TIMEOUT_S: float = Field(default=5.0, gt=0)
    SQLITE_BUSY_TIMEOUT_S: float = Field(default=20.0, gt=0)
    REDIS_URL: str | None = None

    # --- Task execution
    TASK_RUNNER: Literal["auto", "celery", "thread"] = "auto"
    TASK_RUNNER_THREADS: int = Field(default=8, ge=1, le=256)
    CELERY_TASK_SOFT_TIME_LIMIT_S: int = Field(default=600, ge=1)
    CELERY_TASK_TIME_LIMIT_S: int = Field(default=660, ge=1)
    CELERY_VISIBILITY_TIMEOUT_S: int = Field(default=3600, ge=1)
    WORKER_HEARTBEAT_INTERVAL_S: int = Field(default=30, ge=1)
    WORKER_HEARTBEAT_MAX_AGE_S: int = Field(default=120, ge=1)
    RUN_DEADLINE_S: int = Field(default=300, ge=5)
    RUN_LEASE_S: int = Field(default=30, ge=2)
    RUN_HEARTBEAT_S: float = Field(default=2.0, gt=0)
    # Runs one worker process holds at once (tasks on its loop; bounded by memory).
    RUN_MAX_IN_FLIGHT: int = Field(default=1000, ge=1)
    # Threads a worker's run loop makes its database calls on (each takes a pooled
    # connection for the call: keep it below DB_POOL_MAX_SIZE).
    RUN_DB_THREADS: int = Field(default=8, ge=1, le=64)
    # A worker shutting down waits this long for its runs, then gives the rest back.
    RUN_DRAIN_S: float = Field(default=10.0, ge=0)
    # Approval before a step (backend.chat.approvals): a tool call whose worst case costs
    # more than this (per client: PUT /api/clients/me/approvals/), or searches YouTube for
    # more quota units than APPROVAL_YOUTUBE_UNITS, waits for the creator's yes.
    APPROVAL_THRESHOLD_USD: float = Field(default=0.05, ge=0)
    APPROVAL_YOUTUBE_UNITS: int = Field(default=250, ge=0)
    # An approval unanswered this long expires; its run ends cancelled.
    APPROVAL_TTL_S: int = Field(default=3600, ge=10)
    RUN_DELTA_COALESCE_MS: int = Field(default=20, ge=0, le=1000)
    RUN_RETENTION_DAYS: int = Field(default=90, ge=1)
    # Audit events (backend/audit) older than this are deleted by a daily job.
    AUDIT_RETENTION_DAYS: int = Field(default=365, ge=1)
    RUN_EVENT_LOG_RETENTION_S: int = Field(default=48 * 3600, ge=24 * 3600)
    # The embedded (in-memory) event log's size caps; finished runs go first beyond them.
    RUN_EVENT_LOG_MAX_EVENTS: int = Field(default=500_000, ge=1000)
    RUN_EVENT_LOG_MAX_BYTES: int = Field(default=256 * 1024 * 1024, ge=1024 * 1024)
    TOOL_OFFLOAD: Literal["auto", "always", "never"] = "auto"

    # --- Models
    OPENROUTER_API_KEY: str | None = None
    OPENROUTER_BASE_URL: str = "https://openrouter.ai/api/v1"
    OPENROUTER_APP_URL: str = "https://github.com/insightstream"
    OPENROUTER_APP_TITLE: str = "InsightStream"
    DEFAULT_MODEL: str | None = None
    # The vision model that tags and critiques an uploaded thumbnail (POST
    # /api/thumbnails/analyse/); unset: DEFAULT_MODEL. The offline model cannot see images,
    # so with it the analysis is the measured features only.
    THUMBNAIL_VISION_MODEL: str | None = None
    # Models to fall back to, by feature, when a model fails (429, 5xx, timeout, a stream
    # cut short): JSON, e.g. {"*": ["openai/gpt-4o-mini", "offline"], "respond": [...]}.
    MODEL_FALLBACKS: dict[str, list[str]] = Field(default_factory=dict)
    DECLARED_MODELS: Annotated[list[dict[str, Any]], NoDecode] = Field(default_factory=list)
    OFFLINE_TOKEN_DELAY_MS: int = Field(default=0, ge=0, le=5000)

    # --- YouTube Data API
    YOUTUBE_API_KEYS: Annotated[list[str], NoDecode] = Field(default_factory=list)
    YOUTUBE_API_BASE_URL: str = "https://www.googleapis.com/youtube/v3"
    YOUTUBE_SEARCH_DAILY_CAP: int = Field(default=20, ge=0)
    YOUTUBE_SEARCH_CACHE_TTL_S: int = Field(default=6 * 3600, ge=0)
    # Channel fetches (POST /api/channels/) a client may start per rolling hour (429 beyond).
    YOUTUBE_CHANNEL_FETCHES_PER_HOUR: int = Field(default=10, ge=1)
    # CSV import (POST /api/channels/import/): the file's size, data rows and channels.
    CSV_IMPORT_MAX_BYTES: int = Field(default=20 * 1024 * 1024, ge=1024)
    CSV_IMPORT_MAX_ROWS: int = Field(default=50_000, ge=1)
    CSV_IMPORT_MAX_CHANNELS: int = Field(default=50, ge=1)
    # keyword_research's YouTube search sample (backend/channels/search_sample.py).
    YOUTUBE_KEYWORD_SAMPLE_SIZE: int = Field(default=3, ge=0, le=10)
    YOUTUBE_KEYWORD_SAMPLE_RESULTS: int = Field(default=25, ge=5, le=50)
    YOUTUBE_KEYWORD_CLIENT_DAILY_CAP: int = Field(default=9, ge=0)
    YOUTUBE_KEYWORD_IP_DAILY_CAP: int = Field(default=30, ge=0)
    YOUTUBE_KEYWORD_GLOBAL_DAILY_CAP: int = Field(default=60, ge=0)
    YOUTUBE_KEYWORD_CACHE_TTL_S: int = Field(default=24 * 3600, ge=1)
    YOUTUBE_KEYWORD_TIME_BUDGET_S: float = Field(default=8.0, gt=0, le=60)
    YOUTUBE_KEYWORD_REQUEST_TIMEOUT_S: float = Field(default=3.0, gt=0, le=30)

    # --- Thumbnails (backend/thumbnails): Replicate first when it has a token, then
    # Pollinations when enabled, then the offline title-card renderer (always).
    REPLICATE_API_TOKEN: str | None = None
    REPLICATE_BASE_URL: str = "https://api.replicate.com"
    REPLICATE_MODEL: str = "black-forest-labs/flux-schnell"
    # USD per image, reserved before the call and settled by the cost guard.
    REPLICATE_PRICE_PER_IMAGE_USD: Decimal = Field(default=Decimal("0.003"), ge=0)
    POLLINATIONS_ENABLED: bool = False
    POLLINATIONS_BASE_URL: str = "https://image.pollinations.ai"
    POLLINATIONS_MODEL: str = "flux"
    # One provider's total time for one image (the fallback starts when it runs out).
    THUMBNAIL_PROVIDER_TIMEOUT_S: float = Field(default=30.0, gt=0, le=300)
    # A signed image URL's lifetime.
    THUMBNAIL_URL_TTL_S: int = Field(default=3600, ge=60)
    # An uploaded thumbnail to analyse (YouTube's own limit for a custom thumbnail: 2 MB).
    THUMBNAIL_UPLOAD_MAX_BYTES: int = Field(default=2 * 1024 * 1024, ge=1024)
    # An upload is compared with the thumbnails of the channel's outlier videos, fetched
    # from the URLs the channel's source gave, only from these hosts (host[:port]).
    THUMBNAIL_REFERENCE_HOSTS: Annotated[list[str], NoDecode] = [
        "i.ytimg.com", "i1.ytimg.com", "i2.ytimg.com", "i3.ytimg.com", "i4.ytimg.com",
        "i9.ytimg.com", "img.youtube.com", "yt3.ggpht.com",
    ]  # fmt: skip
    # Plain http for those hosts (the tests' local image server); https only otherwise.
    THUMBNAIL_REFERENCE_ALLOW_HTTP: bool = False
    THUMBNAIL_REFERENCE_TIMEOUT_S: float = Field(default=5.0, gt=0, le=60)
    # Where the images are kept: files under DATA_DIR/thumbnails unless THUMBNAIL_S3_BUCKET
    # names a bucket on S3 or an S3-compatible service (R2, MinIO: THUMBNAIL_S3_ENDPOINT_URL).
    # Objects stay private; their URLs are presigned for THUMBNAIL_URL_TTL_S, so the
    # endpoint must be one the browser can reach.
    THUMBNAIL_S3_BUCKET: str | None = None
    THUMBNAIL_S3_ENDPOINT_URL: str | None = None  # unset: AWS's own endpoint for the region
    THUMBNAIL_S3_REGION: str | None = None  # R2: "auto"; unset: boto's (AWS_REGION, us-east-1)
    # Both or neither; neither: boto's own credential chain (AWS_* variables, a role).
    THUMBNAIL_S3_ACCESS_KEY_ID: str | None = None
    THUMBNAIL_S3_SECRET_ACCESS_KEY: str | None = None
    # Keys are <prefix>/<client id>/<thumbnail id>.png.
    THUMBNAIL_S3_PREFIX: str = "thumbnails"
    # "path" (bucket in the path) for services without per-bucket host names; "auto":
    # botocore's choice (virtual-hosted on AWS).
    THUMBNAIL_S3_ADDRESSING_STYLE: Literal["auto", "path", "virtual"] = "auto"
    # Each S3 call: connecting and each read wait, and the attempts in all (retries back
    # off), so a hung S3 fails the request instead of holding it.
    THUMBNAIL_S3_CONNECT_TIMEOUT_S: float = Field(default=3.0, gt=0, le=60)
    THUMBNAIL_S3_READ_TIMEOUT_S: float = Field(default=10.0, gt=0, le=120)
    THUMBNAIL_S3_MAX_ATTEMPTS: int = Field(default=3, ge=1, le=10)

    # --- Operations
    # The bearer token GET /metrics (Prometheus) asks for; unset: /metrics answers 404.
    METRICS_TOKEN: str | None = Field(default=None, min_length=16)

    @field_validator("METRICS_TOKEN", mode="before")
    @classmethod
    def _metrics_token(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    # --- Analytics, evaluation, billing
    POSTHOG_API_KEY: str | None = None
    POSTHOG_HOST: str = "https://us.i.posthog.com"
    POSTHOG_PRIVACY_MODE: bool = True
    # PostHog's private API, to delete a deleted account's persons: a personal API key
    # (scope person:write; not the project key above) and the project's id. Without both,
    # deletion requests wait as pending (admin: PostHog deletion requests).
    POSTHOG_PERSONAL_API_KEY: str | None = None
    POSTHOG_PROJECT_ID: str | None = None
    # Unset: PostHog Cloud's app host for POSTHOG_HOST (us.i.posthog.com -> us.posthog.com),
    # else POSTHOG_HOST itself (self-hosted).
    POSTHOG_PRIVATE_API_HOST: str | None = None
    BRAINTRUST_API_KEY: str | None = None
    # Where the Braintrust SDK logs in (its app URL, as BRAINTRUST_APP_URL is to the SDK): a
    # self-hosted Braintrust or a test server; unset = braintrust.dev.
    BRAINTRUST_APP_URL: str | None = None
    # The agent eval's stored runs (`python -m agents.evals` writes them, `manage eval_push
    # --latest` sends the newest); unset = DATA_DIR/evals.
    EVAL_RESULTS_DIR: Path | None = None
    STRIPE_SECRET_KEY: str | None = None
    STRIPE_WEBHOOK_SECRET: str | None = None
    STRIPE_API_BASE: str | None = None
    STRIPE_WEBHOOK_TOLERANCE_S: int = Field(default=300, ge=1)
    # Invalid webhook deliveries (bad signature or body) kept to look at: per hour, and days.
    STRIPE_INVALID_WEBHOOKS_STORED_PER_HOUR: int = Field(default=100, ge=0)
    STRIPE_INVALID_WEBHOOK_RETENTION_DAYS: int = Field(default=7, ge=1)
    STRIPE_PRICES: Annotated[dict[str, dict[str, str]], NoDecode] = Field(default_factory=dict)
    STRIPE_SUCCESS_URL: str | None = None
    STRIPE_CANCEL_URL: str | None = None
    STRIPE_PORTAL_RETURN_URL: str | None = None

    @field_validator(
        "ALLOWED_HOSTS",
        "CSRF_TRUSTED_ORIGINS",
        "CORS_ALLOWED_ORIGINS",
        "TRUSTED_PROXIES",
        "GUARD_ANON_ALLOWED_MODELS",
        "YOUTUBE_API_KEYS",
        "THUMBNAIL_REFERENCE_HOSTS",
        "MODERATION_BLOCK_CATEGORIES",
        mode="before",
    )
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return _split_csv(value)

    @field_validator(
        "GUARD_GLOBAL_DAILY_USD",
        "GUARD_ANON_CLIENT_DAILY_USD",
        "GUARD_ANON_SESSION_USD",
        "GUARD_IP_DAILY_USD",
        "GUARD_ANON_MAX_CALL_USD",
        "GUARD_KEY_DAILY_USD",
        "GUARD_KEY_MAX_CALL_USD",
        "GUARD_PAID_KEY_DAILY_USD",
        "GUARD_PAID_KEY_MAX_CALL_USD",
        "GUARD_PRO_DAILY_USD",
        "GUARD_PRO_MAX_CALL_USD",
        "GUARD_CREDITS_DAILY_USD",
        "GUARD_CREDITS_MAX_CALL_USD",
        mode="before",
    )
    @classmethod
    def _empty_is_unlimited(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        if value is not None and Decimal(str(value)) < 0:
            raise ValueError("must not be negative")
        return value

    @field_validator("DECLARED_MODELS", mode="before")
    @classmethod
    def _declared_models(cls, value: Any) -> Any:
        """JSON list: [{"id": "...", "input_per_million": "0.5", "output_per_million": "1.5"}],
        optionally with "input_per_image" (USD per input image, on top of its tokens)."""
        if isinstance(value, str):
            value = json.loads(value) if value.strip() else []
        if not isinstance(value, list):
            raise ValueError("must be a JSON list of objects")
        for entry in value:
            if not isinstance(entry, dict) or not entry.get("id"):
                raise ValueError("every declared model needs an 'id'")
            for price in ("input_per_million", "output_per_million"):
                if price not in entry:
                    raise ValueError(f"declared model {entry['id']!r} has no {price!r}")
                if Decimal(str(entry[price])) < 0:
                    raise ValueError(f"declared model {entry['id']!r}: {price} is negative")
            if Decimal(str(entry.get("input_per_image", 0))) < 0:
                raise ValueError(f"declared model {entry['id']!r}: input_per_image is negative")
        return value

    @field_validator("MODERATION_THRESHOLDS", mode="before")
    @classmethod
    def _moderation_thresholds(cls, value: Any) -> Any:
        """``violence=0.8,sexual=0.5`` (or a JSON object): each score between 0 and 1."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("{"):
                value = json.loads(text)
            else:
                pairs: dict[str, str] = {}
                for part in filter(None, (p.strip() for p in text.split(","))):
                    name, sep, score = part.partition("=")
                    if not sep or not name.strip():
                        raise ValueError(f"{part!r} is not category=score")
                    pairs[name.strip()] = score.strip()
                value = pairs
        if not isinstance(value, dict):
            raise ValueError("must be category=score pairs")
        thresholds = {str(key): float(item) for key, item in value.items()}
        for category, threshold in thresholds.items():
            if not 0 <= threshold <= 1:
                raise ValueError(f"{category}: the score must be between 0 and 1")
        return thresholds

    @field_validator("MODERATION_URL", "MODERATION_API_KEY", mode="before")
    @classmethod
    def _moderation_unset(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    @field_validator("MODERATION_URL")
    @classmethod
    def _moderation_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// or http://")
        return value

    @field_validator("STRIPE_PRICES", mode="before")
    @classmethod
    def _stripe_prices(cls, value: Any) -> Any:
        """JSON object: price key → {"price_id": "price_...", "plan": "pro"} for the
        subscription, or {"price_id": "price_...", "credits_usd": "10"} for a credit pack."""
        if isinstance(value, str):
            value = json.loads(value) if value.strip() else {}
        if not isinstance(value, dict):
            raise ValueError("must be a JSON object of price key -> price")
        prices: dict[str, dict[str, str]] = {}
        for key, entry in value.items():
            if not isinstance(entry, dict) or not entry.get("price_id"):
                raise ValueError(f"price {key!r} needs a 'price_id'")
            has_plan, has_credits = "plan" in entry, "credits_usd" in entry
            if has_plan == has_credits:
                raise ValueError(f"price {key!r} needs exactly one of 'plan' or 'credits_usd'")
            if has_plan and entry["plan"] != "pro":
                raise ValueError(f"price {key!r}: the only subscription plan is 'pro'")
            if has_credits and Decimal(str(entry["credits_usd"])) <= 0:
                raise ValueError(f"price {key!r}: credits_usd must be positive")
            prices[str(key)] = {name: str(item) for name, item in entry.items()}
        return prices

    @field_validator(
        "THUMBNAIL_S3_BUCKET",
        "THUMBNAIL_S3_ENDPOINT_URL",
        "THUMBNAIL_S3_REGION",
        "THUMBNAIL_S3_ACCESS_KEY_ID",
        "THUMBNAIL_S3_SECRET_ACCESS_KEY",
        "BRAINTRUST_APP_URL",
        "EVAL_RESULTS_DIR",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    @field_validator("THUMBNAIL_S3_ENDPOINT_URL")
    @classmethod
    def _endpoint_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// or http://")
        return value

    @field_validator("THUMBNAIL_S3_PREFIX")
    @classmethod
    def _prefix(cls, value: str) -> str:
        # django-storages refuses a location starting with "/"; a trailing one doubles.
        return value.strip().strip("/")

    @model_validator(mode="after")
    def _s3_key_pair(self) -> AppSettings:
        if bool(self.THUMBNAIL_S3_ACCESS_KEY_ID) != bool(self.THUMBNAIL_S3_SECRET_ACCESS_KEY):
            raise ValueError(
                "THUMBNAIL_S3_ACCESS_KEY_ID and THUMBNAIL_S3_SECRET_ACCESS_KEY go together "
                "(set both, or neither for boto's own credential chain)"
            )
        return self

    @field_validator("DATABASE_URL")
    @classmethod
    def _database_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("postgres://", "postgresql://", "sqlite://")):
            raise ValueError("must start with postgres://, postgresql:// or sqlite://")
        return value or None

    @field_validator("REDIS_URL")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value or None

    @property
    def eval_results_dir(self) -> Path:
        return self.EVAL_RESULTS_DIR or self.DATA_DIR / "evals"

    @property
    def uses_celery(self) -> bool:
        if self.TASK_RUNNER == "auto":
            return self.REDIS_URL is not None
        return self.TASK_RUNNER == "celery"


class SettingsError(RuntimeError):
    """A setting is missing or malformed; the message names the variable."""


def load_settings(**overrides: Any) -> AppSettings:
    try:
        return AppSettings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        raise SettingsError(f"Invalid settings: {problems}") from None


@lru_cache(maxsize=1)
def get_settings() -> AppSettings:
    return load_settings()
