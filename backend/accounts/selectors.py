from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError

from backend.accounts.models import Account
from backend.clients.models import ApiKey


def account_get(*, account_id: str) -> Account:
    return Account.objects.select_related("user").get(pk=account_id)


def account_api_keys(*, account: Account) -> list[ApiKey]:
    return list(ApiKey.objects.filter(owner_id=account.user_id).order_by("-created_at"))


def account_api_key_get(*, account: Account, key_id: str) -> ApiKey | None:
    try:
        return ApiKey.objects.filter(owner_id=account.user_id, pk=key_id).first()
    except (ValueError, DjangoValidationError):
        return None


def account_limits(*, account: Account) -> dict[str, Any]:
    """The guard's budgets and rate limits for the account's plan, as the app shows them."""
    from backend.guard.runtime import guard_limits

    limits = guard_limits()
    plan = limits.plan_limits(account.plan)

    def usd(value: Decimal | None) -> str | None:
        return None if value is None else str(value)

    credits_plan = limits.credits_plan
    return {
        "plan": account.plan,
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
