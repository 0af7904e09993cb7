"""The cost guard every LLM call goes through (see DESIGN.md, "Cost guards")."""

from agents.guard.interface import (
    BudgetExceededError,
    CallMeta,
    CallUsage,
    Guard,
    GuardError,
    GuardUnavailableError,
    ModelPrice,
    RateLimitedError,
    Reservation,
    UnknownModelPriceError,
)

__all__ = [
    "BudgetExceededError",
    "CallMeta",
    "CallUsage",
    "Guard",
    "GuardError",
    "GuardUnavailableError",
    "ModelPrice",
    "RateLimitedError",
    "Reservation",
    "UnknownModelPriceError",
]
