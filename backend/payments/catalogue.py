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


# What a buyer sees before Checkout: Stripe's own amount for each price, read once an hour.
PRICE_DISPLAY_CACHE_S = 3600


def price_display(price: Price) -> dict[str, object] | None:
    """`{unit_amount, currency, interval}` from Stripe, or None when it cannot be read now
    (Checkout still shows the amount; a listing must not fail because Stripe is slow)."""
    import stripe
    import structlog
    from django.core.cache import cache

    from backend.payments.stripe_api import as_dict, stripe_client, stripe_enabled

    if not stripe_enabled():
        return None
    cache_key = f"payments:price-display:{price.price_id}"
    cached = cache.get(cache_key)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    try:
        data = as_dict(stripe_client().v1.prices.retrieve(price.price_id))
    except stripe.StripeError as exc:
        structlog.get_logger(__name__).warning(
            "stripe_price_unreadable", price_id=price.price_id, error=str(exc)
        )
        return None
    recurring = data.get("recurring") or {}
    display: dict[str, object] = {
        "unit_amount": data.get("unit_amount"),
        "currency": data.get("currency"),
        "interval": recurring.get("interval"),
    }
    cache.set(cache_key, display, PRICE_DISPLAY_CACHE_S)
    return display
