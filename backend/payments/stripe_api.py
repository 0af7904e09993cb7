"""The Stripe client (``StripeClient``; ``STRIPE_API_BASE`` points it elsewhere in tests)
and what its failures mean for our callers."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import stripe
import structlog
from django.conf import settings

from backend.core.errors import (
    ApplicationError,
    NotFoundError,
    UpstreamError,
    UpstreamUnavailableError,
)

logger = structlog.get_logger(__name__)


def billing_disabled(what: str = "STRIPE_SECRET_KEY") -> UpstreamUnavailableError:
    return UpstreamUnavailableError(
        f"Billing is not configured on this server ({what} is not set).",
        details={"service": "stripe", "reason": "not_configured"},
    )


def stripe_enabled() -> bool:
    return bool(settings.ENV.STRIPE_SECRET_KEY)


@lru_cache(maxsize=4)
def _client(api_key: str, api_base: str | None) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base} if api_base else None,
        # The client retries network failures and 409/5xx answers itself, resending the
        # same idempotency key, so a retried create never makes a second object.
        max_network_retries=2,
    )


def stripe_client() -> stripe.StripeClient:
    env = settings.ENV
    if not env.STRIPE_SECRET_KEY:
        raise billing_disabled()
    return _client(env.STRIPE_SECRET_KEY, env.STRIPE_API_BASE)


def as_dict(obj: Any) -> dict[str, Any]:
    if isinstance(obj, dict):
        return obj
    return obj.to_dict(for_json=True)  # type: ignore[no-any-return]


def from_stripe_error(exc: stripe.StripeError) -> ApplicationError:
    """What a failed Stripe call means for the request that made it."""
    status = getattr(exc, "http_status", None)
    logger.warning("stripe_call_failed", http_status=status, error=str(exc)[:300])
    if isinstance(exc, stripe.InvalidRequestError) and status == 404:
        return NotFoundError("Stripe does not know this object.")
    if isinstance(exc, stripe.APIConnectionError) or (status is not None and status >= 500):
        return UpstreamUnavailableError(
            "Stripe cannot be reached right now; try again shortly.",
            details={"service": "stripe"},
        )
    return UpstreamError(
        "Stripe refused the request.", details={"service": "stripe", "status": status}
    )
