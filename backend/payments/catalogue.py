"""What can be bought: the price keys from ``STRIPE_PRICES`` (a Pro subscription, credit packs)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from django.conf import settings


@dataclass(frozen=True, kw_only=True)
class Price:
    key: str
    price_id: str
    mode: Literal["payment", "subscription"]
    # The plan a subscription gives, or the credits a pack adds (USD of model spend).
    plan: str | None = None
    credits_usd: Decimal = Decimal(0)


def prices() -> dict[str, Price]:
    found: dict[str, Price] = {}
    for key, entry in settings.ENV.STRIPE_PRICES.items():
        if "plan" in entry:
            found[key] = Price(
                key=key, price_id=entry["price_id"], mode="subscription", plan=entry["plan"]
            )
        else:
            found[key] = Price(
                key=key,
                price_id=entry["price_id"],
                mode="payment",
                credits_usd=Decimal(entry["credits_usd"]),
            )
    return found


def price_get(key: str) -> Price | None:
    return prices().get(key)


def price_by_id(price_id: str | None) -> Price | None:
    return next((p for p in prices().values() if p.price_id == price_id), None)
