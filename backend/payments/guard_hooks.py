"""What the cost guard asks the backend at each call: the caller's plan and credits, and
where a draw on credits is written (the ledger).

The credits bucket in the budget store (``credits:<account id>``) is the gate that keeps
racing calls from overdrawing; its limit is everything credited to the account (ledger
entries other than usage). Each settled draw is also written to the ledger as a usage
entry, so the database holds the lasting record; if the store ever lost the bucket's
count, the next lookup puts the ledger's usage back into it before the call is admitted.
"""

from __future__ import annotations

from decimal import Decimal

import structlog
from django.core.exceptions import ValidationError as DjangoValidationError

from agents.guard import CallerProfile, CallMeta
from agents.guard.pricing import usd_to_micros
from backend.core.db import released

logger = structlog.get_logger(__name__)
CREDITS_PREFIX = "credits:"


def credits_key(account_id: object) -> str:
    return f"{CREDITS_PREFIX}{account_id}"


def _lookup(client_id: str) -> tuple[CallerProfile, Decimal] | None:
    """(profile, credits the ledger says were drawn) for the account owning the client."""
    from backend.accounts.models import Account
    from backend.accounts.selectors import budget_plan
    from backend.payments.selectors import credit_totals

    try:
        row = (
            Account.objects.filter(client_id=client_id)
            .values("id", "plan", "email_verified_at")
            .first()
        )
    except (ValueError, DjangoValidationError):
        return None  # not a client id at all (the CLI's "anonymous", say): no account
    if row is None:
        return None
    # An unverified free account is budgeted as an anonymous visitor (accounts.selectors).
    plan = budget_plan(plan=row["plan"], email_verified=row["email_verified_at"] is not None)
    credited, balance = credit_totals(account_id=row["id"])
    if credited <= 0 or balance <= 0:
        return CallerProfile(plan=plan), Decimal(0)
    profile = CallerProfile(plan=plan, credits_key=credits_key(row["id"]), credits_usd=credited)
    return profile, credited - balance


async def caller_profile(meta: CallMeta) -> CallerProfile | None:
    """The account behind the caller's client, with its plan and credits (None: no account)."""
    found = await released(_lookup)(meta.client_id)
    if found is None:
        return None
    profile, ledger_used = found
    if profile.credits_key and ledger_used > 0:
        await _restore_lost_count(profile, ledger_used)
    return profile


async def _restore_lost_count(profile: CallerProfile, ledger_used: Decimal) -> None:
    from agents.guard.buckets import credits_bucket
    from backend.guard.instance import get_store, guard_limits

    assert profile.credits_key is not None
    store = get_store()
    counted = (await store.usage([profile.credits_key]))[profile.credits_key].spent
    missing = usd_to_micros(ledger_used) - counted
    if missing <= 0:
        return
    logger.warning("credits_count_restored", key=profile.credits_key, micros=missing)
    bucket = credits_bucket(
        key=profile.credits_key, credits_usd=profile.credits_usd, limits=guard_limits()
    )
    await store.settle(
        reservation_id=f"credits-restore:{profile.credits_key}:{usd_to_micros(ledger_used)}",
        actual=missing,
        fallback=[bucket.spec],
    )


def _record_draw(key: str, amount_usd: Decimal, reservation_id: str) -> None:
    from backend.payments.models import CreditEntry

    if amount_usd <= 0 or not key.startswith(CREDITS_PREFIX):
        return
    CreditEntry.objects.get_or_create(
        kind=CreditEntry.Kind.USAGE,
        reference=reservation_id,
        defaults={
            "account_id": key.removeprefix(CREDITS_PREFIX),
            "amount_usd": -amount_usd,
        },
    )


async def record_credit_draw(
    meta: CallMeta, key: str, amount_usd: Decimal, reservation_id: str
) -> None:
    await released(_record_draw)(key, amount_usd, reservation_id)
