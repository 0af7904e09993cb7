"""What applying one Stripe event or Checkout Session did."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backend.accounts.models import Account
from backend.payments.models import StripeEvent


@dataclass
class Outcome:
    """What applying one event or session did; analytics go out after the commit."""

    status: str = StripeEvent.Status.PROCESSED
    account: Account | None = None
    note: str = ""
    analytics: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def unmatched(self, what: str) -> Outcome:
        self.status, self.note = StripeEvent.Status.UNMATCHED, f"no account matches {what}"
        return self

    def ignored(self, why: str) -> Outcome:
        self.status, self.note = StripeEvent.Status.IGNORED, why
        return self
