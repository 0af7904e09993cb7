"""The cost guard: reserve a call's worst case before it, settle the real cost after.

The guard turns a call's ``CallMeta`` into the buckets, caps and rate that apply, asks
the ``BudgetStore`` to decide them atomically, and turns refusals into the errors the
HTTP layer answers with (402 budget, 429 rate/concurrency, 503 store unreachable).
"""

from __future__ import annotations

import inspect
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from typing import Any

from agents.guard.buckets import PlannedBucket, plan_buckets, refreshed
from agents.guard.interface import (
    CallMeta,
    CallUsage,
    ModelPrice,
    RateLimitedError,
    Reservation,
)
from agents.guard.limits import GuardLimits, PlanLimits
from agents.guard.messages import budget_refusal, call_cap_refusal, model_refusal
from agents.guard.pricing import actual_micros, micros_to_usd, usd_to_micros, worst_case_micros
from agents.guard.store import (
    BucketUsage,
    BudgetStore,
    ConcurrencySpec,
    RateSpec,
    ReserveResult,
)

logger = logging.getLogger(__name__)

SoftLimitHook = Callable[[str, float, CallMeta], Awaitable[None] | None]

# A client at its concurrency limit waits for one of its own calls to finish; calls
# take seconds, so asking it to come back in one is a fair hint.
CONCURRENCY_RETRY_AFTER_S = 1.0


class CostGuard:
    """Implements ``agents.guard.interface.Guard`` over any ``BudgetStore``."""

    def __init__(
        self,
        *,
        store: BudgetStore,
        limits: GuardLimits,
        clock: Callable[[], float] = time.time,
        soft_limit_hook: SoftLimitHook | None = None,
        new_reservation_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._store = store
        self._limits = limits
        self._clock = clock
        self._soft_limit_hook = soft_limit_hook
        self._new_reservation_id = new_reservation_id

    # -- the Guard protocol ------------------------------------------------------------

    async def reserve(
        self, *, meta: CallMeta, model: ModelPrice, prompt_tokens_upper_bound: int, max_tokens: int
    ) -> Reservation:
        plan = self._limits.plan_limits(meta.plan)
        amount = self._admissible_amount(
            meta=meta,
            plan=plan,
            model=model,
            prompt_tokens_upper_bound=prompt_tokens_upper_bound,
            max_tokens=max_tokens,
        )
        planned = plan_buckets(meta=meta, plan=plan, limits=self._limits, now=self._clock())
        reservation_id = self._new_reservation_id()
        result = await self._store.reserve(
            reservation_id=reservation_id,
            amount=amount,
            # A call that costs nothing (offline or self-hosted model) is not held against
            # budgets: an exhausted budget must not stop the free fallback.
            buckets=[p.spec for p in planned] if amount > 0 else [],
            concurrency=(
                ConcurrencySpec(key=f"client:{meta.client_id}", limit=plan.max_concurrent)
                if plan.max_concurrent is not None
                else None
            ),
            rate=(
                RateSpec(
                    key=f"calls:client:{meta.client_id}",
                    limit=plan.requests_per_minute,
                    window_s=60.0,
                )
                if plan.requests_per_minute is not None
                else None
            ),
            ttl_s=self._limits.reservation_ttl_s,
        )
        if not result.ok:
            self._raise_refusal(result=result, planned=planned, meta=meta)
        if result.degraded:
            logger.error("guard store unreachable; call admitted unchecked (fail_open)")
        await self._notify_soft(result.soft_crossed, planned=planned, meta=meta)
        return Reservation(
            reservation_id=reservation_id,
            amount_usd=micros_to_usd(amount),
            buckets=tuple(p.spec.key for p in planned),
            meta=meta,
            model=model,
            extra={"amount_micros": amount, "planned": planned},
        )

    async def settle(self, reservation: Reservation, usage: CallUsage) -> Decimal:
        """Record the real cost and release the rest of the hold.

        The cost is the provider-reported ``usage.reported_cost_usd`` when present
        (OpenRouter's ``usage.cost``, what is actually billed), else the tokens priced
        at the catalogue price. A cost above the reservation is recorded in full: the
        bucket goes over its limit and refuses further calls until its window rolls over.
        Raises GuardUnavailableError if the store cannot be reached (the hold then
        expires on its own after ``reservation_ttl_s``).
        """
        actual = actual_micros(model=reservation.model, usage=usage)
        planned: list[PlannedBucket] = reservation.extra.get("planned", [])
        now = self._clock()
        fallback = [refreshed(p.spec, now=now, limits=self._limits) for p in planned]
        result = await self._store.settle(
            reservation_id=reservation.reservation_id, actual=actual, fallback=fallback
        )
        if result.status == "duplicate":
            logger.warning("reservation %s settled twice", reservation.reservation_id)
        elif result.status == "late":
            logger.warning(
                "reservation %s settled after it expired; cost recorded, hold already freed",
                reservation.reservation_id,
            )
        if actual > reservation.extra.get("amount_micros", actual):
            logger.warning(
                "call cost %s USD exceeded its reservation of %s USD (overage recorded)",
                micros_to_usd(actual),
                reservation.amount_usd,
            )
        await self._notify_soft(result.soft_crossed, planned=planned, meta=reservation.meta)
        return micros_to_usd(actual)

    # -- pre-flight and HTTP rate limits -------------------------------------------

    async def check(
        self, *, meta: CallMeta, model: ModelPrice, prompt_tokens_upper_bound: int, max_tokens: int
    ) -> Decimal | None:
        """Refuse (402) now if one call's worst case no longer fits; reserves nothing.

        For HTTP entry points, so they answer before enqueuing work that would fail.
        Returns the smallest remaining budget across the limited buckets (None if none
        is limited). Racing callers can still pass together; ``reserve`` is the gate.
        """
        plan = self._limits.plan_limits(meta.plan)
        amount = self._admissible_amount(
            meta=meta,
            plan=plan,
            model=model,
            prompt_tokens_upper_bound=prompt_tokens_upper_bound,
            max_tokens=max_tokens,
        )
        planned = plan_buckets(meta=meta, plan=plan, limits=self._limits, now=self._clock())
        limited = [p for p in planned if p.spec.limit is not None]
        usage = await self._store.usage([p.spec.key for p in limited])
        smallest: int | None = None
        for p in limited:
            assert p.spec.limit is not None
            used = usage[p.spec.key].used
            remaining = p.spec.limit - used
            if amount > 0 and used + amount > p.spec.limit:
                raise budget_refusal(kind=p.kind, spec=p.spec, used=used, meta=meta)
            smallest = remaining if smallest is None else min(smallest, remaining)
        return None if smallest is None else micros_to_usd(max(0, smallest))

    async def hit_rate_limit(self, *, key: str, limit_per_minute: int) -> None:
        """Take one request token for ``key`` (e.g. ``ip:<hash>``); 429 when none is left."""
        allowed, retry_after_s = await self._store.rate_hit(
            key=f"http:{key}", limit=limit_per_minute, window_s=60.0
        )
        if not allowed:
            raise RateLimitedError(
                f"Too many requests: the limit is {limit_per_minute} per minute. "
                "Retry later, or use an API key or upgrade your plan for a higher limit.",
                retry_after_s=retry_after_s,
                details={"limit_per_minute": limit_per_minute, "retry_after_s": retry_after_s},
            )

    # -- helpers -----------------------------------------------------------------------

    def _admissible_amount(
        self,
        *,
        meta: CallMeta,
        plan: PlanLimits,
        model: ModelPrice,
        prompt_tokens_upper_bound: int,
        max_tokens: int,
    ) -> int:
        """The call's worst case in micro-dollars, after the plan's per-call checks."""
        if (
            not model.offline
            and plan.allowed_models is not None
            and model.model_id not in plan.allowed_models
        ):
            raise model_refusal(model_id=model.model_id, plan=meta.plan)
        amount = worst_case_micros(
            model=model, prompt_tokens_upper_bound=prompt_tokens_upper_bound, max_tokens=max_tokens
        )
        if plan.max_call_usd is not None and amount > usd_to_micros(plan.max_call_usd):
            raise call_cap_refusal(
                worst_case_usd=micros_to_usd(amount), cap_usd=plan.max_call_usd, plan=meta.plan
            )
        return amount

    def _raise_refusal(
        self, *, result: ReserveResult, planned: Sequence[PlannedBucket], meta: CallMeta
    ) -> None:
        if result.failure == "rate":
            raise RateLimitedError(
                f"Too many model calls: your plan allows {result.limit} per minute. "
                "Retry later, or use an API key or upgrade your plan for a higher limit.",
                retry_after_s=result.retry_after_s,
                details={"bucket": "rate", "limit_per_minute": result.limit},
            )
        if result.failure == "concurrency":
            raise RateLimitedError(
                f"Too many model calls at once: your plan allows {result.limit} in flight. "
                "Retry when one finishes, or use an API key or upgrade your plan.",
                retry_after_s=CONCURRENCY_RETRY_AFTER_S,
                details={"bucket": "concurrency", "limit": result.limit},
            )
        by_key: dict[str, PlannedBucket] = {p.spec.key: p for p in planned}
        failed = by_key[result.failed_bucket or ""]
        raise budget_refusal(kind=failed.kind, spec=failed.spec, used=result.used, meta=meta)

    async def _notify_soft(
        self, crossed: Sequence[BucketUsage], *, planned: Sequence[PlannedBucket], meta: CallMeta
    ) -> None:
        if not crossed or self._soft_limit_hook is None:
            return
        kinds = {p.spec.key: p.kind for p in planned}
        for usage in crossed:
            if not usage.limit:
                continue
            fraction = usage.used / usage.limit
            try:
                outcome: Any = self._soft_limit_hook(
                    kinds.get(usage.key, usage.key), fraction, meta
                )
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception:
                # A warning channel failing must never fail the call it warns about.
                logger.exception("soft-limit hook failed for bucket %s", usage.key)
