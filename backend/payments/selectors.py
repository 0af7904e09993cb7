from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Q, Sum

from backend.accounts.models import Account
from backend.payments.models import CheckoutSession, CreditEntry, Subscription

USD = Decimal("0.000001")


def credit_totals(*, account_id: Any) -> tuple[Decimal, Decimal]:
    """(credited, balance): everything credited less what was taken back, and what is left
    after usage. Both are sums over the ledger."""
    totals = CreditEntry.objects.filter(account_id=account_id).aggregate(
        credited=Sum("amount_usd", filter=~Q(kind=CreditEntry.Kind.USAGE)),
        balance=Sum("amount_usd"),
    )
    credited = Decimal(totals["credited"] or 0).quantize(USD)
    balance = Decimal(totals["balance"] or 0).quantize(USD)
    return credited, balance


def credit_balance(*, account: Account) -> Decimal:
    return credit_totals(account_id=account.id)[1]


def credit_entries(*, account: Account) -> list[CreditEntry]:
    return list(CreditEntry.objects.filter(account=account))


def checkout_session_for_account(*, account: Account, session_id: str) -> CheckoutSession | None:
    return CheckoutSession.objects.filter(account=account, stripe_session_id=session_id).first()


def live_subscription(*, account: Account) -> Subscription | None:
    for subscription in Subscription.objects.filter(account=account).order_by("-state_as_of"):
        if subscription.is_live:
            return subscription
    return None
