"""Budgets and caps the guard enforces, per plan and for the whole service."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

# The name of the share that calls paid from prepaid credits draw on (see global_shares).
CREDITS_SHARE = "credits"


@dataclass(frozen=True, kw_only=True)
class PlanLimits:
    """What one plan may spend and do. ``None`` means "no limit" for that line."""

    client_daily_usd: Decimal | None
    ip_daily_usd: Decimal | None = None
    api_key_daily_usd: Decimal | None = None
    session_usd: Decimal | None = None
    # Worst case of a single call; keeps one huge prompt from eating a day's budget.
    max_call_usd: Decimal | None = None
    # Unsettled reservations per client at once.
    max_concurrent: int | None = None
    # Model ids this plan may use; None = every priced model. Offline models are
    # always allowed: they cost nothing and are how the product keeps working.
    allowed_models: frozenset[str] | None = None
    # Model calls per client per minute (HTTP entry points use ``hit_rate_limit``).
    requests_per_minute: int | None = None


@dataclass(frozen=True, kw_only=True)
class GuardLimits:
    plans: Mapping[str, PlanLimits]
    global_daily_usd: Decimal | None
    # Each plan's share of ``global_daily_usd`` (a fraction, 0 to 1): that plan's callers
    # together spend at most this much of the service's day (a ``global:<plan>`` bucket),
    # so a flood of visitors or fresh sign-ups cannot use up what paying callers need.
    # Calls paid from credits draw on the ``CREDITS_SHARE`` entry. A plan not listed gets
    # no share bucket (only the global one); an unknown plan uses the default plan's.
    global_shares: Mapping[str, Decimal] = field(default_factory=dict)
    # A plan name the guard does not know gets this plan's limits (the strictest one,
    # normally), never "no limits".
    default_plan: str = "anonymous"
    soft_limit_fraction: Decimal = Decimal("0.8")
    # A reservation whose holder never settles is released after this long. Longer than
    # the slowest model call, short enough that a crashed worker does not block a client.
    reservation_ttl_s: float = 600.0
    # Daily counters outlive their day by this much: late settles and archiving read them.
    window_grace_s: int = 3 * 86_400
    # A session budget has no calendar window; its counter lives this long after use.
    session_ttl_s: int = 30 * 86_400
    # Limits while a caller draws on prepaid credits (its own plan's budget is used up):
    # the credits bucket caps the total, this plan the day and the single call.
    credits_plan: PlanLimits | None = None
    # A credits bucket's counters outlive its last use by this long (credits do not expire
    # sooner; the database ledger keeps the lasting record).
    credits_ttl_s: int = 5 * 366 * 86_400

    def plan_limits(self, plan: str) -> PlanLimits:
        found = self.plans.get(plan)
        if found is not None:
            return found
        return self.plans[self.default_plan]
