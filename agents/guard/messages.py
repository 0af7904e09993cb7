"""Refusal messages: say which limit was hit and how to get more."""

from __future__ import annotations

from decimal import Decimal

from agents.guard.interface import BudgetExceededError, CallMeta
from agents.guard.pricing import micros_to_usd
from agents.guard.store import BucketSpec

UPGRADE = "use an API key or upgrade your plan"

_BUDGET_WORDING: dict[str, tuple[str, str]] = {
    "global": (
        "The service's daily AI budget is used up",
        "It resets at midnight UTC.",
    ),
    "global_plan": (
        "The {plan} plan's share of the service's daily AI budget is used up",
        f"It resets at midnight UTC; {UPGRADE} (or verify your account's email) to keep going.",
    ),
    "client": (
        "Your daily AI budget is used up",
        f"It resets at midnight UTC; {UPGRADE} for a larger daily budget.",
    ),
    "ip": (
        "The daily AI budget for your network is used up",
        f"It resets at midnight UTC; {UPGRADE} for a budget of your own.",
    ),
    "api_key": (
        "This API key's daily AI budget is used up",
        "It resets at midnight UTC; upgrade the key's plan for a larger daily budget.",
    ),
    "session": (
        "This chat session's AI budget is used up",
        f"Start a new session, or {UPGRADE} for larger sessions.",
    ),
    "credits": (
        "Your prepaid credits are used up",
        "Buy more credits, or wait for your plan's daily budget to reset at midnight UTC.",
    ),
}


def _usd(amount: Decimal) -> str:
    return f"{amount:.6f}"


def budget_refusal(
    *, kind: str, spec: BucketSpec, used: int, meta: CallMeta
) -> BudgetExceededError:
    headline, advice = _BUDGET_WORDING.get(kind, ("An AI budget is used up", f"Please {UPGRADE}."))
    if kind == "global_plan":
        headline = headline.format(plan=meta.plan)
    limit = spec.limit or 0
    details: dict[str, object] = {
        "bucket": kind,
        "plan": meta.plan,
        "limit_usd": _usd(micros_to_usd(limit)),
        "remaining_usd": _usd(micros_to_usd(max(0, limit - used))),
    }
    if spec.window is not None:
        details["window"] = spec.window
    return BudgetExceededError(f"{headline}. {advice}", details=details)


def call_cap_refusal(
    *, worst_case_usd: Decimal, cap_usd: Decimal, plan: str
) -> BudgetExceededError:
    return BudgetExceededError(
        f"This request could cost up to ${_usd(worst_case_usd)}, above the "
        f"${_usd(cap_usd)} per-call limit of the {plan} plan. Shorten the request, or "
        f"{UPGRADE}.",
        details={
            "bucket": "max_call",
            "plan": plan,
            "limit_usd": _usd(cap_usd),
            "remaining_usd": _usd(cap_usd),
            "worst_case_usd": _usd(worst_case_usd),
        },
    )


def model_refusal(*, model_id: str, plan: str) -> BudgetExceededError:
    return BudgetExceededError(
        f"The model {model_id} is not available on the {plan} plan; {UPGRADE} to use it.",
        details={"bucket": "model", "plan": plan, "model": model_id},
    )
