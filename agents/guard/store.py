"""The budget store protocol: atomic counters behind the cost guard.

The guard decides *which* buckets apply and what they may hold; a store only keeps the
numbers and makes each decision atomically, so that many processes racing for one
budget can never over-commit it. Two implementations exist: the in-process
``MemoryBudgetStore`` (embedded mode) and ``backend.guard_store.RedisBudgetStore``.

All amounts are integers in micro-dollars (1 USD = 1,000,000). Integers keep Redis and
Lua arithmetic exact (Lua numbers are doubles: exact up to 2**53 micro-dollars, about
nine billion dollars), and one unit everywhere means no store can round differently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

MICROS_PER_USD = 1_000_000


@dataclass(frozen=True, kw_only=True)
class BucketSpec:
    """One budget a reservation is held against.

    ``limit`` None means "count but never refuse" (the spend is still archived).
    ``soft_limit`` is the level at which the guard wants to hear about it once.
    ``window_ttl_s`` is how long the bucket's counters must outlive this write: the
    rest of its window plus a grace period for late settles and archiving.
    ``window`` names the daily window (a UTC date) so ``snapshot_day`` can find it.
    """

    key: str
    limit: int | None
    window_ttl_s: int
    soft_limit: int | None = None
    window: str | None = None


@dataclass(frozen=True, kw_only=True)
class ConcurrencySpec:
    """At most ``limit`` unsettled reservations may share ``key`` at once."""

    key: str
    limit: int


@dataclass(frozen=True, kw_only=True)
class RateSpec:
    """At most ``limit`` admissions per ``window_s`` seconds (GCRA) for ``key``."""

    key: str
    limit: int
    window_s: float


@dataclass(frozen=True, kw_only=True)
class BucketUsage:
    """A bucket's counters: ``spent`` is settled money, ``held`` is reserved money."""

    key: str
    spent: int
    held: int
    limit: int | None

    @property
    def used(self) -> int:
        return self.spent + self.held


FailureKind = Literal["budget", "concurrency", "rate"]


@dataclass(frozen=True, kw_only=True)
class ReserveResult:
    """Outcome of an all-or-nothing reservation.

    On refusal ``failed_bucket`` is the key that refused (a bucket, concurrency or rate
    key) and ``failure`` says which kind; ``used``/``limit`` describe that key.
    ``soft_crossed`` lists buckets that passed their soft limit for the first time in
    their window with this reservation (the store guarantees "first time" across all
    processes). ``degraded`` is set when a fail-open store admitted without checking.
    """

    ok: bool
    failed_bucket: str | None = None
    failure: FailureKind | None = None
    used: int = 0
    limit: int | None = None
    retry_after_s: float = 0.0
    soft_crossed: tuple[BucketUsage, ...] = ()
    degraded: bool = False


@dataclass(frozen=True, kw_only=True)
class SettleResult:
    """Counters after a settle.

    ``status`` is "settled" for a live reservation, "late" when it had already expired
    (or was never known) so only the actual cost was recorded against ``fallback``
    buckets, and "duplicate" when it was settled before (nothing changed).
    """

    status: Literal["settled", "late", "duplicate", "degraded"]
    buckets: dict[str, BucketUsage] = field(default_factory=dict)
    soft_crossed: tuple[BucketUsage, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ExpiredReservation:
    """A reservation whose holder never settled it (a killed worker, a settle that could
    not reach the store): at expiry its whole amount was recorded as spent, because the
    provider may bill the call although nobody is left to report it. ``note`` is what the
    guard attached at reserve time (who called, for the ledger); ``generation_id`` is the
    provider's id for the call if its holder learnt it (``note_generation``), by which the
    ledger can still learn what the call was billed."""

    reservation_id: str
    amount: int
    note: str
    expired_at: float  # epoch seconds, by the store's clock
    generation_id: str = ""


@dataclass(frozen=True, kw_only=True)
class ActiveReservation:
    reservation_id: str
    amount: int
    bucket_keys: tuple[str, ...]
    concurrency_key: str | None
    expires_at: float  # epoch seconds, by the store's clock


class BudgetStore(Protocol):
    async def reserve(
        self,
        *,
        reservation_id: str,
        amount: int,
        buckets: Sequence[BucketSpec],
        concurrency: ConcurrencySpec | None,
        ttl_s: float,
        rate: RateSpec | None = None,
        note: str = "",
    ) -> ReserveResult:
        """Hold ``amount`` in every bucket, take a concurrency slot and a rate token.

        All or nothing: on refusal nothing changes. Expired reservations are reclaimed
        first, so a holder that died frees its slot at most ``ttl_s`` after reserving;
        its amount is then recorded as *spent* (not given back): the call may have run
        and been billed. ``note`` is kept with the reservation and handed back by
        ``drain_expired`` if it expires.
        """
        ...

    async def settle(
        self, *, reservation_id: str, actual: int, fallback: Sequence[BucketSpec] = ()
    ) -> SettleResult:
        """Release the hold and record ``actual`` as spent. Idempotent.

        ``actual`` is charged to the ``fallback`` buckets (the guard always passes the
        reservation's buckets, with lifetimes recomputed for now), or, when ``fallback``
        is empty, to the buckets the reservation held (those that still exist). If the
        reservation is no longer live the cost is still recorded and nothing is released
        twice: when it expired (and its amount was charged then) only the difference
        ``actual - amount`` is recorded, otherwise (unknown) ``actual``. A settle repeated
        within a day changes nothing (stores remember settled ids that long, not forever).

        A negative ``actual`` under a fresh id is a correction (an estimate that was
        billed lower): it lowers ``spent`` of the buckets that still exist, never below
        zero, and creates none.
        """
        ...

    async def release(
        self, *, reservation_id: str, fallback: Sequence[BucketSpec] = ()
    ) -> SettleResult:
        """Settle with zero cost (the call never happened)."""
        ...

    async def note_generation(self, *, reservation_id: str, generation_id: str) -> None:
        """Keep the provider's ``generation_id`` with a live reservation, to be handed back
        by ``drain_expired`` if it expires. Nothing happens for a reservation that is not
        live (settled, already expired, unknown)."""
        ...

    async def rate_hit(self, *, key: str, limit: int, window_s: float) -> tuple[bool, float]:
        """Take one token; returns (allowed, seconds until the next one would be)."""
        ...

    async def usage(self, keys: Sequence[str]) -> dict[str, BucketUsage]:
        """Current counters of the given buckets (absent buckets read as zero)."""
        ...

    async def snapshot_day(self, day: str) -> dict[str, BucketUsage]:
        """Every bucket of the daily window ``day`` (``YYYY-MM-DD``), for archiving."""
        ...

    async def active_reservations(self) -> list[ActiveReservation]:
        """Live (unexpired, unsettled) reservations."""
        ...

    async def drain_expired(self, *, limit: int = 500) -> list[ExpiredReservation]:
        """Reclaim what has expired, then hand over (and forget) up to ``limit`` of the
        reservations that expired unsettled with an amount, oldest first."""
        ...
