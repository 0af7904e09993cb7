"""Builders shared by the guard tests (memory and Redis stores)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from agents.guard import CallMeta, GuardLimits, ModelPrice, PlanLimits

# 2026-11-21T12:00:00Z: mid-day, so a test can move within or across the day.
NOON = 1_795_262_400.0
MIDNIGHT_NEXT = 1_795_305_600.0

# $1 per 1,000 input tokens, $2 per 1,000 output tokens: easy mental arithmetic.
PRICED = ModelPrice(
    model_id="test/priced",
    input_per_token=Decimal("0.001"),
    output_per_token=Decimal("0.002"),
)
OFFLINE = ModelPrice(
    model_id="offline",
    input_per_token=Decimal(0),
    output_per_token=Decimal(0),
    offline=True,
)


@dataclass
class FakeClock:
    now: float = NOON

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class HookRecorder:
    calls: list[tuple[str, float, CallMeta]] = field(default_factory=list)

    def __call__(self, bucket: str, used_fraction: float, meta: CallMeta) -> None:
        self.calls.append((bucket, used_fraction, meta))

    @property
    def buckets(self) -> list[str]:
        return [bucket for bucket, _, _ in self.calls]


def limits(
    *,
    client: str | None = "10",
    ip: str | None = None,
    api_key: str | None = None,
    session: str | None = None,
    global_: str | None = "1000",
    max_call: str | None = None,
    max_concurrent: int | None = None,
    allowed: frozenset[str] | None = None,
    rpm: int | None = None,
    ttl_s: float = 600.0,
) -> GuardLimits:
    def usd(value: str | None) -> Decimal | None:
        return None if value is None else Decimal(value)

    plan = PlanLimits(
        client_daily_usd=usd(client),
        ip_daily_usd=usd(ip),
        api_key_daily_usd=usd(api_key),
        session_usd=usd(session),
        max_call_usd=usd(max_call),
        max_concurrent=max_concurrent,
        allowed_models=allowed,
        requests_per_minute=rpm,
    )
    return GuardLimits(
        plans={"anonymous": plan, "pro": plan},
        global_daily_usd=usd(global_),
        reservation_ttl_s=ttl_s,
    )


def meta(client_id: str = "client-1", **kwargs: str) -> CallMeta:
    return CallMeta(client_id=client_id, feature="respond", **kwargs)


def tokens_for(usd: str) -> dict[str, int]:
    """reserve() kwargs whose worst case is exactly ``usd`` on PRICED (input only)."""
    return {"prompt_tokens_upper_bound": int(Decimal(usd) * 1000), "max_tokens": 0}
