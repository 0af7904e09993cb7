"""The process's cost guard instance (one per event loop): Redis-backed in production,
in-process when embedded.

``agents`` owns the guard's logic (``CostGuard``); the backend supplies the store, the
limits from settings and the hooks (logs and PostHog here, callers' plans and credits
from payments; a run's stream events through the run's own view of the guard).
"""

from __future__ import annotations

import asyncio
import weakref
from decimal import Decimal

import structlog
from django.conf import settings

from agents.guard import CallMeta, CostGuard, CreditsHook, ProfileResolver
from agents.guard.limits import CREDITS_SHARE, GuardLimits, PlanLimits
from agents.guard.store import BudgetStore
from backend.guard.journal import JournaledMemoryStore

logger = structlog.get_logger(__name__)

_memory_store = JournaledMemoryStore()
# redis.asyncio clients belong to the event loop that opened their connections; web
# processes have one loop, Celery tasks one per run, so guards are kept per loop.
_per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[CostGuard, BudgetStore]] = (
    weakref.WeakKeyDictionary()
)


def guard_limits() -> GuardLimits:
    env = settings.ENV
    anon_models = frozenset(env.GUARD_ANON_ALLOWED_MODELS) or None
    return GuardLimits(
        plans={
            "anonymous": PlanLimits(
                client_daily_usd=env.GUARD_ANON_CLIENT_DAILY_USD,
                session_usd=env.GUARD_ANON_SESSION_USD,
                max_call_usd=env.GUARD_ANON_MAX_CALL_USD,
                allowed_models=anon_models,
                ip_daily_usd=env.GUARD_IP_DAILY_USD,
                max_concurrent=env.GUARD_MAX_CONCURRENT_CALLS,
                requests_per_minute=env.GUARD_REQUESTS_PER_MINUTE,
            ),
            "free": PlanLimits(
                client_daily_usd=env.GUARD_KEY_DAILY_USD,
                api_key_daily_usd=env.GUARD_KEY_DAILY_USD,
                max_call_usd=env.GUARD_KEY_MAX_CALL_USD,
                max_concurrent=env.GUARD_MAX_CONCURRENT_CALLS,
                requests_per_minute=env.GUARD_REQUESTS_PER_MINUTE,
            ),
            "paid": PlanLimits(
                client_daily_usd=env.GUARD_PAID_KEY_DAILY_USD,
                api_key_daily_usd=env.GUARD_PAID_KEY_DAILY_USD,
                max_call_usd=env.GUARD_PAID_KEY_MAX_CALL_USD,
                max_concurrent=env.GUARD_MAX_CONCURRENT_CALLS * 4,
                requests_per_minute=env.GUARD_REQUESTS_PER_MINUTE * 5,
            ),
            # Accounts on the Pro subscription (free accounts get the "free" plan).
            "pro": PlanLimits(
                client_daily_usd=env.GUARD_PRO_DAILY_USD,
                max_call_usd=env.GUARD_PRO_MAX_CALL_USD,
                max_concurrent=env.GUARD_MAX_CONCURRENT_CALLS * 4,
                requests_per_minute=env.GUARD_REQUESTS_PER_MINUTE * 5,
            ),
        },
        # Once an account's plan budget is used up, its prepaid credits pay within these.
        credits_plan=PlanLimits(
            client_daily_usd=env.GUARD_CREDITS_DAILY_USD,
            max_call_usd=env.GUARD_CREDITS_MAX_CALL_USD,
            max_concurrent=env.GUARD_MAX_CONCURRENT_CALLS * 4,
            requests_per_minute=env.GUARD_REQUESTS_PER_MINUTE * 5,
        ),
        global_daily_usd=env.GUARD_GLOBAL_DAILY_USD,
        # No one plan's callers can spend the whole service's day (sample.env explains).
        global_shares={
            "anonymous": env.GUARD_GLOBAL_SHARE_ANONYMOUS,
            "free": env.GUARD_GLOBAL_SHARE_FREE,
            "paid": env.GUARD_GLOBAL_SHARE_PAID,
            "pro": env.GUARD_GLOBAL_SHARE_PRO,
            CREDITS_SHARE: env.GUARD_GLOBAL_SHARE_CREDITS,
        },
        soft_limit_fraction=Decimal(env.GUARD_SOFT_LIMIT_FRACTION),
        reservation_ttl_s=float(env.GUARD_RESERVATION_TTL_S),
    )


async def _on_soft_limit(bucket: str, used_fraction: float, meta: CallMeta) -> None:
    from backend.guard import services

    await services.guard_soft_limit_reached(bucket=bucket, used_fraction=used_fraction, meta=meta)


# What the guard asks about a caller at each call (their plan and credits) and where a draw
# on credits is written: the payments app's, registered from its AppConfig.ready() (the
# guard knows no accounts). Without them every caller has its identity's plan.
_profile_resolver: ProfileResolver | None = None
_credits_hook: CreditsHook | None = None


def register_caller_hooks(*, profile_resolver: ProfileResolver, credits_hook: CreditsHook) -> None:
    global _profile_resolver, _credits_hook
    _profile_resolver, _credits_hook = profile_resolver, credits_hook


def _build() -> tuple[CostGuard, BudgetStore]:
    store: BudgetStore
    if settings.REDIS_URL:
        import redis.asyncio as aioredis

        from backend.guard_store.redis_store import RedisBudgetStore

        # Blocking pool: a burst of concurrent calls waits for a connection instead of
        # failing with "Too many connections" (which the guard would report as a 503).
        pool = aioredis.BlockingConnectionPool.from_url(
            settings.REDIS_URL,
            max_connections=50,
            timeout=5,
            socket_connect_timeout=2,
            socket_timeout=2,
        )
        client = aioredis.Redis(connection_pool=pool)
        store = RedisBudgetStore(redis=client, fail_open=settings.ENV.GUARD_FAIL_OPEN)
    else:
        store = _memory_store
    guard = CostGuard(
        store=store,
        limits=guard_limits(),
        soft_limit_hook=_on_soft_limit,
        profile_resolver=_profile_resolver,
        credits_hook=_credits_hook,
    )
    return guard, store


def _for_loop() -> tuple[CostGuard, BudgetStore]:
    loop = asyncio.get_running_loop()
    pair = _per_loop.get(loop)
    if pair is None:
        pair = _per_loop[loop] = _build()
    return pair


def get_guard() -> CostGuard:
    """The guard for the running event loop."""
    return _for_loop()[0]


def get_store() -> BudgetStore:
    """The budget store behind ``get_guard()`` (admin views, archiving)."""
    return _for_loop()[1]


def reset_for_tests() -> None:
    global _memory_store
    _memory_store = JournaledMemoryStore()
    _per_loop.clear()
