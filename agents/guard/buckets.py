"""Which budget buckets a call is held against, and how long their counters live.

Daily buckets carry the UTC date in their key, so a new day simply starts new counters:
no reset job, no lock step at midnight, and yesterday's counters stay readable (for
archiving and late settles) until they expire ``window_grace_s`` after their day ends.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from agents.guard.interface import CallMeta
from agents.guard.limits import GuardLimits, PlanLimits
from agents.guard.pricing import usd_to_micros
from agents.guard.store import BucketSpec


@dataclass(frozen=True, kw_only=True)
class PlannedBucket:
    kind: str  # "global", "global_plan", "client", "ip", "api_key", "session", "credits"
    spec: BucketSpec


def utc_day(now: float) -> str:
    return datetime.fromtimestamp(now, tz=UTC).date().isoformat()


def _day_end(day: str) -> float:
    start = datetime.combine(date.fromisoformat(day), time.min, tzinfo=UTC)
    return (start + timedelta(days=1)).timestamp()


def _ttl_for(*, window: str | None, now: float, limits: GuardLimits) -> int:
    if window is None:
        return limits.session_ttl_s
    # At least a minute, so a settle long after the window still writes a live key.
    return max(60, int(_day_end(window) - now) + limits.window_grace_s)


def _daily(
    kind: str, key: str, limit_usd: Decimal | None, *, day: str, now: float, limits: GuardLimits
) -> PlannedBucket:
    limit = None if limit_usd is None else usd_to_micros(limit_usd)
    return PlannedBucket(
        kind=kind,
        spec=BucketSpec(
            key=f"{key}:day:{day}",
            limit=limit,
            soft_limit=_soft(limit, limits),
            window_ttl_s=_ttl_for(window=day, now=now, limits=limits),
            window=day,
        ),
    )


def _soft(limit: int | None, limits: GuardLimits) -> int | None:
    if limit is None:
        return None
    return int(limit * limits.soft_limit_fraction)


def _share_name(meta: CallMeta, limits: GuardLimits) -> str:
    return meta.plan if meta.plan in limits.plans else limits.default_plan


def _global_share(share: str, *, day: str, now: float, limits: GuardLimits) -> list[PlannedBucket]:
    """The ``global:<share>`` bucket: one plan's callers' part of the service's day."""
    fraction = limits.global_shares.get(share)
    if fraction is None or limits.global_daily_usd is None:
        return []
    limit_usd = limits.global_daily_usd * min(Decimal(1), max(Decimal(0), fraction))
    return [_daily("global_plan", f"global:{share}", limit_usd, day=day, now=now, limits=limits)]


def plan_buckets(
    *,
    meta: CallMeta,
    plan: PlanLimits,
    limits: GuardLimits,
    now: float,
    share: str | None = None,
) -> list[PlannedBucket]:
    """The buckets a call under ``plan`` is held against; ``share`` names its part of the
    global budget (default: the caller's plan; calls paid from credits pass CREDITS_SHARE)."""
    day = utc_day(now)
    planned = [
        _daily("global", "global", limits.global_daily_usd, day=day, now=now, limits=limits),
        *_global_share(share or _share_name(meta, limits), day=day, now=now, limits=limits),
        _daily(
            "client",
            f"client:{meta.client_id}",
            plan.client_daily_usd,
            day=day,
            now=now,
            limits=limits,
        ),
    ]
    if meta.ip_hash:
        planned.append(
            _daily("ip", f"ip:{meta.ip_hash}", plan.ip_daily_usd, day=day, now=now, limits=limits)
        )
    if meta.api_key_id:
        planned.append(
            _daily(
                "api_key",
                f"api_key:{meta.api_key_id}",
                plan.api_key_daily_usd,
                day=day,
                now=now,
                limits=limits,
            )
        )
    if meta.session_id:
        limit = None if plan.session_usd is None else usd_to_micros(plan.session_usd)
        planned.append(
            PlannedBucket(
                kind="session",
                spec=BucketSpec(
                    key=f"session:{meta.session_id}",
                    limit=limit,
                    soft_limit=_soft(limit, limits),
                    window_ttl_s=limits.session_ttl_s,
                ),
            )
        )
    return planned


def refreshed(spec: BucketSpec, *, now: float, limits: GuardLimits) -> BucketSpec:
    """The same bucket with its lifetime recomputed for a write at ``now`` (a settle)."""
    if spec.window is None:
        # Windowless buckets (session, credits) carry their own lifetime.
        return spec
    return dataclasses.replace(
        spec, window_ttl_s=_ttl_for(window=spec.window, now=now, limits=limits)
    )


def credits_bucket(*, key: str, credits_usd: Decimal, limits: GuardLimits) -> PlannedBucket:
    """A caller's prepaid credits: no calendar window, the lifetime total as the limit."""
    limit = usd_to_micros(credits_usd)
    return PlannedBucket(
        kind="credits",
        spec=BucketSpec(
            key=key,
            limit=limit,
            soft_limit=_soft(limit, limits),
            window_ttl_s=limits.credits_ttl_s,
        ),
    )
