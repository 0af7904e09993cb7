"""The cost guard: reserve a call's worst case before it, settle the real cost after.

The guard turns a call's ``CallMeta`` into the buckets, caps and rate that apply, asks
the ``BudgetStore`` to decide them atomically, and turns refusals into the errors the
HTTP layer answers with (402 budget, 429 rate/concurrency, 503 store unreachable).

A settle is retried a few times when the store cannot be reached (a Redis blip), and if
it still fails the caller hears ``SettleDeferredError`` with the cost, records the call
as pending, and a periodic job settles it later (``resettle``): an unsettled reservation
would otherwise hold the client's concurrency slot until it expired. ``correct`` moves
the buckets by the difference when an estimated cost turns out to be billed otherwise;
``note_generation`` keeps a call's generation id with its reservation, so that even a
reservation whose holder died can be corrected to what the provider billed.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import inspect
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from typing import Any

from agents.guard.buckets import PlannedBucket, credits_bucket, plan_buckets, refreshed
from agents.guard.interface import (
    BudgetExceededError,
    CallerProfile,
    CallMeta,
    CallUsage,
    GuardUnavailableError,
    ModelPrice,
    RateLimitedError,
    Reservation,
    SettleDeferredError,
)
from agents.guard.limits import CREDITS_SHARE, GuardLimits, PlanLimits
from agents.guard.messages import budget_refusal, call_cap_refusal, model_refusal
from agents.guard.pricing import micros_to_usd, settled_micros, usd_to_micros, worst_case_micros
from agents.guard.settlement import record_buckets, reservation_note
from agents.guard.store import (
    BucketUsage,
    BudgetStore,
    ConcurrencySpec,
    RateSpec,
    ReserveResult,
    SettleResult,
)

logger = logging.getLogger(__name__)

SoftLimitHook = Callable[[str, float, CallMeta], Awaitable[None] | None]
# Looks up the caller's current plan and credits (None: use the meta's plan as it is).
ProfileResolver = Callable[[CallMeta], Awaitable[CallerProfile | None]]
# Told what a call drew from a credits bucket: (meta, credits key, USD, reservation id).
CreditsHook = Callable[[CallMeta, str, Decimal, str], Awaitable[None]]

# A client at its concurrency limit waits for one of its own calls to finish; calls
# take seconds, so asking it to come back in one is a fair hint.
CONCURRENCY_RETRY_AFTER_S = 1.0
# A settle that cannot reach the store is tried again after these pauses (a Redis blip,
# a failover) before the call is handed to the pending-settle sweeper.
SETTLE_RETRY_DELAYS_S = (0.1, 0.4, 1.0)
# The budgets that are the caller's own: crossing their soft limit is the caller's to
# approve (``soft_crossing``); the service's global ones are not.
OWN_BUDGETS = frozenset({"client", "api_key", "session", "ip"})


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Route:
    """How one call is charged: its plan's limits, the amount held and the buckets."""

    meta: CallMeta
    amount: int
    planned: list[PlannedBucket]
    limits: PlanLimits
    credits_key: str | None = None


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
        profile_resolver: ProfileResolver | None = None,
        credits_hook: CreditsHook | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._sleep = sleep
        self._store = store
        self._limits = limits
        self._clock = clock
        self._soft_limit_hooks: tuple[SoftLimitHook, ...] = (
            (soft_limit_hook,) if soft_limit_hook is not None else ()
        )
        self._new_reservation_id = new_reservation_id
        self._profile_resolver = profile_resolver
        self._credits_hook = credits_hook

    def with_soft_limit_hook(self, hook: SoftLimitHook) -> CostGuard:
        """This guard (same store, limits and hooks) for one caller that also wants to hear
        of the soft limits its own calls cross: a run passes its stream's warning sink so,
        with no registry of runs, each warning reaches the run whose call crossed it."""
        view = copy.copy(self)
        view._soft_limit_hooks = (*self._soft_limit_hooks, hook)
        return view

    # -- the Guard protocol ------------------------------------------------------------

    async def reserve(
        self,
        *,
        meta: CallMeta,
        model: ModelPrice,
        prompt_tokens_upper_bound: int,
        max_tokens: int,
        images: int = 0,
    ) -> Reservation:
        meta, routes = await self._routes_now(
            meta=meta,
            model=model,
            prompt_tokens_upper_bound=prompt_tokens_upper_bound,
            max_tokens=max_tokens,
            images=images,
        )
        reservation_id = self._new_reservation_id()
        route: _Route | None = None
        result: ReserveResult | None = None
        for index, candidate in enumerate(routes):
            if isinstance(candidate, BudgetExceededError):
                continue
            route = candidate
            result = await self._store.reserve(
                reservation_id=reservation_id,
                amount=route.amount,
                # A call that costs nothing (offline or self-hosted model) is not held
                # against budgets: an exhausted budget must not stop the free fallback.
                buckets=[p.spec for p in route.planned] if route.amount > 0 else [],
                concurrency=(
                    ConcurrencySpec(
                        key=f"client:{route.meta.client_id}", limit=route.limits.max_concurrent
                    )
                    if route.limits.max_concurrent is not None
                    else None
                ),
                rate=(
                    RateSpec(
                        key=f"calls:client:{route.meta.client_id}",
                        limit=route.limits.requests_per_minute,
                        window_s=60.0,
                    )
                    if route.limits.requests_per_minute is not None
                    else None
                ),
                ttl_s=self._limits.reservation_ttl_s,
                note=reservation_note(meta=route.meta, model=model),
            )
            # The plan's own budget is used up: the caller's credits may still pay (a
            # refusal changes nothing in the store, so trying again is safe).
            if result.ok or not self._credits_may_help(result, route, routes[index + 1 :]):
                break
        if route is None or result is None:
            # No route is admissible (model not on the plan, call above every cap).
            first = routes[0]
            assert isinstance(first, BudgetExceededError)
            raise first
        if not result.ok:
            self._raise_refusal(result=result, planned=route.planned, meta=route.meta)
        if result.degraded:
            logger.error("guard store unreachable; call admitted unchecked (fail_open)")
        await self._notify_soft(result.soft_crossed, planned=route.planned, meta=route.meta)
        return Reservation(
            reservation_id=reservation_id,
            amount_usd=micros_to_usd(route.amount),
            buckets=tuple(p.spec.key for p in route.planned),
            meta=route.meta,
            model=model,
            extra={
                "amount_micros": route.amount,
                "planned": route.planned,
                "credits_key": route.credits_key,
            },
        )

    async def settle(self, reservation: Reservation, usage: CallUsage) -> Decimal:
        """Record the real cost and release the rest of the hold.

        The cost is the provider-reported ``usage.reported_cost_usd`` when present
        (OpenRouter's ``usage.cost``, what is actually billed), else the tokens priced
        at the catalogue price plus each of ``usage.images`` at its per-image price; an
        unreported call (``usage.unreported``) costs the reservation's worst case (see
        ``pricing.settled_micros``). A cost above the reservation is recorded in full:
        the bucket goes over its limit and refuses further calls until its window rolls
        over. If the store cannot be reached after a few tries, raises
        ``SettleDeferredError`` (the caller keeps the settle for ``resettle``).
        """
        amount = int(reservation.extra.get("amount_micros", 0))
        actual = settled_micros(model=reservation.model, usage=usage, reserved_micros=amount)
        planned: list[PlannedBucket] = reservation.extra.get("planned", [])
        result = await self._settle_in_store(
            reservation_id=reservation.reservation_id, actual=actual, planned=planned
        )
        if actual > amount:
            logger.warning(
                "call cost %s USD exceeded its reservation of %s USD (overage recorded)",
                micros_to_usd(actual),
                reservation.amount_usd,
            )
        await self._after_settle(
            result,
            meta=reservation.meta,
            planned=planned,
            credits_key=reservation.extra.get("credits_key"),
            amount=actual,
            charge_id=reservation.reservation_id,
        )
        return micros_to_usd(actual)

    async def resettle(self, *, record: dict[str, Any], actual_micros: int, meta: CallMeta) -> str:
        """Complete a settle that was deferred (``SettleDeferredError``) from its ledger
        record; returns the store's status. Idempotent: a settle that did land after all
        is a "duplicate"; one whose reservation expired meanwhile (and was charged its
        worst case then) records the difference."""
        planned = record_buckets(record)
        result = await self._settle_in_store(
            reservation_id=str(record["reservation_id"]), actual=actual_micros, planned=planned
        )
        await self._after_settle(
            result,
            meta=meta,
            planned=planned,
            credits_key=record.get("credits_key"),
            amount=actual_micros,
            charge_id=str(record["reservation_id"]),
        )
        return result.status

    async def note_generation(self, reservation: Reservation, generation_id: str) -> None:
        """Keep the provider's id for the call with its reservation (once per attempt, as
        soon as the call learns it): if the holder dies and the reservation expires
        unsettled, its ledger row can still be corrected to the billed cost. A free call
        (nothing held, nothing charged at expiry) is not noted. Raises what the store
        raises; the caller treats it as best effort."""
        if int(reservation.extra.get("amount_micros", 0)) <= 0:
            return
        await self._store.note_generation(
            reservation_id=reservation.reservation_id, generation_id=generation_id
        )

    async def correct(self, *, record: dict[str, Any], delta_micros: int, meta: CallMeta) -> str:
        """Move a settled call's buckets by ``delta_micros`` (the billed cost less what was
        recorded: negative when an estimate was too high). Idempotent per reservation.

        For a reservation nobody settled (``unsettled_record``: it expired, charged its
        worst case by the store) this is its late settle, at the billed cost: the store
        records the difference to its expiry charge in the buckets it held then, and a
        settle by its holder, should it still come, changes nothing after it."""
        if record.get("unsettled"):
            return await self._correct_unsettled(
                record=record, delta_micros=delta_micros, meta=meta
            )
        planned = record_buckets(record)
        correction_id = f"correct:{record['reservation_id']}"
        result = await self._settle_in_store(
            reservation_id=correction_id, actual=delta_micros, planned=planned
        )
        await self._after_settle(
            result,
            meta=meta,
            planned=planned,
            # A negative amount is a refund of part of the draw (the hook may ignore it).
            credits_key=record.get("credits_key"),
            amount=delta_micros,
            charge_id=correction_id,
        )
        return result.status

    async def _correct_unsettled(
        self, *, record: dict[str, Any], delta_micros: int, meta: CallMeta
    ) -> str:
        billed = int(record.get("amount_micros", 0)) + delta_micros
        result = await self._settle_in_store(
            reservation_id=str(record["reservation_id"]), actual=billed, planned=()
        )
        if result.status == "settled":
            # Never expected (the ledger waits for the reservation to end): it was live,
            # and this settled it at its billed cost.
            logger.warning("reservation %s was corrected while live", record["reservation_id"])
        await self._notify_soft(result.soft_crossed, planned=(), meta=meta)
        return result.status

    async def _settle_in_store(
        self, *, reservation_id: str, actual: int, planned: Sequence[PlannedBucket]
    ) -> SettleResult:
        now = self._clock()
        fallback = [refreshed(p.spec, now=now, limits=self._limits) for p in planned]
        failure: GuardUnavailableError | None = None
        for delay in (*SETTLE_RETRY_DELAYS_S, None):
            try:
                result = await self._store.settle(
                    reservation_id=reservation_id, actual=actual, fallback=fallback
                )
            except GuardUnavailableError as exc:
                failure = exc
            else:
                if result.status != "degraded":
                    return result
                failure = None  # a fail-open store that recorded nothing
            if delay is None:
                break
            await self._sleep(delay)
        raise SettleDeferredError(
            "The budget store could not record this call's cost; it is kept to be settled "
            "when the store is back.",
            cost_usd=micros_to_usd(actual),
            details={"reservation_id": reservation_id},
        ) from failure

    async def _after_settle(
        self,
        result: SettleResult,
        *,
        meta: CallMeta,
        planned: Sequence[PlannedBucket],
        credits_key: str | None,
        amount: int,
        charge_id: str,
    ) -> None:
        if result.status == "duplicate":
            logger.warning("reservation %s settled twice", charge_id)
        elif result.status == "late":
            logger.warning(
                "reservation %s settled after it expired; the difference to its expiry "
                "charge is recorded",
                charge_id,
            )
        await self._notify_soft(result.soft_crossed, planned=planned, meta=meta)
        if credits_key and self._credits_hook is not None and result.status != "duplicate":
            try:
                await self._credits_hook(meta, credits_key, micros_to_usd(amount), charge_id)
            except Exception:
                # The store already holds the draw; the ledger hook failing must not fail
                # the call (it is logged, and the draw stays counted in the store).
                logger.exception("credits hook failed for %s", charge_id)

    # -- pre-flight and HTTP rate limits -------------------------------------------

    async def check(
        self,
        *,
        meta: CallMeta,
        model: ModelPrice,
        prompt_tokens_upper_bound: int,
        max_tokens: int,
        images: int = 0,
    ) -> Decimal | None:
        """Refuse (402) now if one call's worst case no longer fits; reserves nothing.

        For HTTP entry points, so they answer before enqueuing work that would fail.
        Returns the smallest remaining budget across the limited buckets (None if none
        is limited). Racing callers can still pass together; ``reserve`` is the gate.
        """
        meta, routes = await self._routes_now(
            meta=meta,
            model=model,
            prompt_tokens_upper_bound=prompt_tokens_upper_bound,
            max_tokens=max_tokens,
            images=images,
        )
        first_refusal: BudgetExceededError | None = None
        for route in routes:
            if isinstance(route, BudgetExceededError):
                first_refusal = first_refusal or route
                continue
            try:
                return await self._remaining(route)
            except BudgetExceededError as exc:
                first_refusal = first_refusal or exc
        assert first_refusal is not None
        raise first_refusal

    async def soft_crossing(
        self,
        *,
        meta: CallMeta,
        model: ModelPrice,
        prompt_tokens_upper_bound: int,
        max_tokens: int,
        calls: int = 1,
        images: int = 0,
    ) -> dict[str, Any] | None:
        """Would ``calls`` such calls at their worst case take one of the caller's own
        budgets (client, API key, session, IP) past its soft limit? The first such bucket as
        ``{bucket, used_usd, soft_limit_usd, limit_usd}``, or ``None``. Reserves nothing; a
        call that would not fit at all is left for ``reserve`` to refuse."""
        meta, routes = await self._routes_now(
            meta=meta,
            model=model,
            prompt_tokens_upper_bound=prompt_tokens_upper_bound,
            max_tokens=max_tokens,
            images=images,
        )
        route = next((r for r in routes if isinstance(r, _Route)), None)
        if route is None or route.amount <= 0:
            return None
        own = [p for p in route.planned if p.kind in OWN_BUDGETS and p.spec.soft_limit]
        if not own:
            return None
        usage = await self._store.usage([p.spec.key for p in own])
        amount = route.amount * max(1, calls)
        if any(
            p.spec.limit is not None and usage[p.spec.key].used + route.amount > p.spec.limit
            for p in own
        ):
            return None  # it does not fit at all: the reservation refuses it, nothing to ask
        for p in own:
            soft = p.spec.soft_limit
            assert soft is not None
            used = usage[p.spec.key].used
            if used <= soft < used + amount:
                return {
                    "bucket": p.kind,
                    "used_usd": float(micros_to_usd(used)),
                    "soft_limit_usd": float(micros_to_usd(soft)),
                    "limit_usd": float(micros_to_usd(p.spec.limit or 0)),
                }
        return None

    async def _remaining(self, route: _Route) -> Decimal | None:
        limited = [p for p in route.planned if p.spec.limit is not None]
        usage = await self._store.usage([p.spec.key for p in limited])
        smallest: int | None = None
        for p in limited:
            assert p.spec.limit is not None
            used = usage[p.spec.key].used
            remaining = p.spec.limit - used
            if route.amount > 0 and used + route.amount > p.spec.limit:
                raise budget_refusal(kind=p.kind, spec=p.spec, used=used, meta=route.meta)
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

    async def _profiled(self, meta: CallMeta) -> tuple[CallMeta, CallerProfile | None]:
        """The caller's current plan and credits, looked up now (anonymous callers have none)."""
        if self._profile_resolver is None or meta.plan == self._limits.default_plan:
            return meta, None
        profile = await self._profile_resolver(meta)
        if profile is None:
            return meta, None
        if profile.plan != meta.plan:
            meta = dataclasses.replace(meta, plan=profile.plan)
        return meta, profile

    async def _routes_now(
        self,
        *,
        meta: CallMeta,
        model: ModelPrice,
        prompt_tokens_upper_bound: int,
        max_tokens: int,
        images: int = 0,
    ) -> tuple[CallMeta, list[_Route | BudgetExceededError]]:
        """The caller's meta with its current plan, and the ways its call may be paid."""
        meta, profile = await self._profiled(meta)
        routes = self._routes(
            meta=meta,
            profile=profile,
            model=model,
            prompt_tokens_upper_bound=prompt_tokens_upper_bound,
            max_tokens=max_tokens,
            images=images,
        )
        return meta, routes

    def _routes(
        self,
        *,
        meta: CallMeta,
        profile: CallerProfile | None,
        model: ModelPrice,
        prompt_tokens_upper_bound: int,
        max_tokens: int,
        images: int = 0,
    ) -> list[_Route | BudgetExceededError]:
        """The ways this call may be paid, in order: the plan's own budget, then credits.

        An inadmissible way (model not on the plan, worst case above its per-call cap)
        is kept as its refusal, so the first refusal is what the caller hears when no
        way is open.
        """
        now = self._clock()
        routes: list[_Route | BudgetExceededError] = []
        plan = self._limits.plan_limits(meta.plan)
        try:
            amount = self._admissible_amount(
                meta=meta,
                plan=plan,
                model=model,
                prompt_tokens_upper_bound=prompt_tokens_upper_bound,
                max_tokens=max_tokens,
                images=images,
            )
            planned = plan_buckets(meta=meta, plan=plan, limits=self._limits, now=now)
            routes.append(_Route(meta=meta, amount=amount, planned=planned, limits=plan))
        except BudgetExceededError as exc:
            routes.append(exc)
        credit_plan = self._limits.credits_plan
        if (
            profile is not None
            and profile.credits_key
            and profile.credits_usd > 0
            and credit_plan is not None
            and not model.offline
        ):
            try:
                amount = self._admissible_amount(
                    meta=meta,
                    plan=credit_plan,
                    model=model,
                    prompt_tokens_upper_bound=prompt_tokens_upper_bound,
                    max_tokens=max_tokens,
                    images=images,
                )
            except BudgetExceededError as exc:
                routes.append(exc)
            else:
                planned = [
                    *plan_buckets(
                        meta=meta,
                        plan=credit_plan,
                        limits=self._limits,
                        now=now,
                        share=CREDITS_SHARE,  # paid for: not the plan's own share
                    ),
                    credits_bucket(
                        key=profile.credits_key,
                        credits_usd=profile.credits_usd,
                        limits=self._limits,
                    ),
                ]
                routes.append(
                    _Route(
                        meta=meta,
                        amount=amount,
                        planned=planned,
                        limits=credit_plan,
                        credits_key=profile.credits_key,
                    )
                )
        return routes

    @staticmethod
    def _credits_may_help(
        result: ReserveResult, route: _Route, later: Sequence[_Route | BudgetExceededError]
    ) -> bool:
        """A plan route refused for its own budget (not the service's) with credits to try."""
        if result.failure != "budget" or route.credits_key is not None:
            return False
        failed = next((p for p in route.planned if p.spec.key == result.failed_bucket), None)
        if failed is None or failed.kind == "global":
            return False
        return any(isinstance(r, _Route) and r.credits_key for r in later)

    def _admissible_amount(
        self,
        *,
        meta: CallMeta,
        plan: PlanLimits,
        model: ModelPrice,
        prompt_tokens_upper_bound: int,
        max_tokens: int,
        images: int = 0,
    ) -> int:
        """The call's worst case in micro-dollars, after the plan's per-call checks."""
        if (
            not model.offline
            and plan.allowed_models is not None
            and model.model_id not in plan.allowed_models
        ):
            raise model_refusal(model_id=model.model_id, plan=meta.plan)
        amount = worst_case_micros(
            model=model,
            prompt_tokens_upper_bound=prompt_tokens_upper_bound,
            max_tokens=max_tokens,
            images=images,
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
        if not crossed or not self._soft_limit_hooks:
            return
        kinds = {p.spec.key: p.kind for p in planned}
        for usage in crossed:
            if not usage.limit:
                continue
            fraction = usage.used / usage.limit
            for hook in self._soft_limit_hooks:
                try:
                    outcome: Any = hook(kinds.get(usage.key, usage.key), fraction, meta)
                    if inspect.isawaitable(outcome):
                        await outcome
                except Exception:
                    # A warning channel failing must never fail the call it warns about.
                    logger.exception("soft-limit hook failed for bucket %s", usage.key)
