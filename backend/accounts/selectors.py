from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError

from backend.accounts.models import Account, AccountPlan
from backend.clients.models import ApiKey, Plan


def account_get(*, account_id: str) -> Account:
    return Account.objects.select_related("user").get(pk=account_id)


def account_api_keys(*, account: Account) -> list[ApiKey]:
    return list(ApiKey.objects.filter(owner_id=account.user_id).order_by("-created_at"))


def account_api_key_get(*, account: Account, key_id: str) -> ApiKey | None:
    try:
        return ApiKey.objects.filter(owner_id=account.user_id, pk=key_id).first()
    except (ValueError, DjangoValidationError):
        return None


def budget_plan(*, plan: str, email_verified: bool) -> str:
    """The plan whose budgets the guard applies to an account.

    Signing up costs nothing, so an account on the free plan whose email is not verified
    gets no more than an anonymous visitor (the anonymous plan's budgets, per-IP cap
    included) until it is; a paid plan was vetted by the payment.
    """
    if plan == AccountPlan.FREE and not email_verified:
        return str(Plan.ANONYMOUS)
    return plan


def account_budget_plan(*, account: Account) -> str:
    return budget_plan(plan=account.plan, email_verified=account.email_verified_at is not None)


def account_limits(*, account: Account) -> dict[str, Any]:
    """The guard's budgets and rate limits in force for the account, as the app shows them:
    ``plan`` is the plan whose limits apply, ``until_email_verified`` says they are an
    anonymous visitor's because the address is not verified yet."""
    from backend.guard.instance import guard_limits

    limits = guard_limits()
    in_force = account_budget_plan(account=account)
    plan = limits.plan_limits(in_force)

    def usd(value: Decimal | None) -> str | None:
        return None if value is None else str(value)

    credits_plan = limits.credits_plan
    return {
        "plan": in_force,
        "until_email_verified": in_force != account.plan,
        "daily_usd": usd(plan.client_daily_usd),
        "max_call_usd": usd(plan.max_call_usd),
        "requests_per_minute": plan.requests_per_minute,
        "max_concurrent": plan.max_concurrent,
        "with_credits": None
        if credits_plan is None
        else {
            "daily_usd": usd(credits_plan.client_daily_usd),
            "max_call_usd": usd(credits_plan.max_call_usd),
        },
    }
