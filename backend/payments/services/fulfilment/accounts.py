"""Which account a Stripe object is about, its lock, and its plan from its subscriptions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backend.accounts.models import Account, AccountPlan
from backend.audit.actions import AuditAction
from backend.audit.models import AuditEvent
from backend.audit.services import audit_record
from backend.payments.models import Subscription
from backend.payments.services.fulfilment.outcome import Outcome


def id_of(value: Any) -> str:
    """An expandable field: an id string, or the expanded object's id."""
    if isinstance(value, Mapping):
        return str(value.get("id") or "")
    return str(value or "")


def _account_by_id(account_id: Any) -> Account | None:
    if not account_id:
        return None
    try:
        return Account.objects.filter(pk=str(account_id)).first()
    except (ValueError, TypeError, Exception):
        return None


def account_for(obj: Mapping[str, Any], *extra_ids: Any) -> Account | None:
    metadata = obj.get("metadata") or {}
    for candidate in (metadata.get("account_id"), obj.get("client_reference_id"), *extra_ids):
        account = _account_by_id(candidate)
        if account is not None:
            return account
    customer = id_of(obj.get("customer"))
    if customer:
        return Account.objects.filter(stripe_customer_id=customer).first()
    return None


def lock_account(account: Account) -> None:
    # Plan and ledger changes for one account happen one at a time.
    Account.objects.select_for_update().filter(pk=account.pk).first()


def plan_recompute(account: Account, outcome: Outcome, *, reason: str) -> None:
    live = any(s.is_live for s in Subscription.objects.filter(account=account))
    new = AccountPlan.PRO if live else AccountPlan.FREE
    old = Account.objects.filter(pk=account.pk).values_list("plan", flat=True).first()
    if old != new:
        Account.objects.filter(pk=account.pk).update(plan=new)
        account.plan = new
        audit_record(
            action=AuditAction.PLAN_CHANGED,
            actor=AuditEvent.Actor.SYSTEM,
            account_id=account.id,
            metadata={"from": old, "to": new, "reason": reason},
        )
        outcome.analytics.append(
            ("plan_changed", str(account.client_id), {"from": old, "to": new, "reason": reason})
        )
