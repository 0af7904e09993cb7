"""The cost guard every LLM call goes through (see DESIGN.md, "Cost guards")."""

from agents.guard.cost_guard import CostGuard, CreditsHook, ProfileResolver, SoftLimitHook
from agents.guard.interface import (
    BudgetExceededError,
    CallerProfile,
    CallMeta,
    CallUsage,
    Guard,
    GuardError,
    GuardUnavailableError,
    ModelPrice,
    RateLimitedError,
    Reservation,
    SettleDeferredError,
    UnknownModelPriceError,
)
from agents.guard.limits import GuardLimits, PlanLimits
from agents.guard.memory_store import MemoryBudgetStore
from agents.guard.store import BudgetStore

__all__ = [
    "BudgetExceededError",
    "BudgetStore",
    "CallMeta",
    "CallUsage",
    "CallerProfile",
    "CostGuard",
    "CreditsHook",
    "Guard",
    "GuardError",
    "GuardLimits",
    "GuardUnavailableError",
    "MemoryBudgetStore",
    "ModelPrice",
    "PlanLimits",
    "ProfileResolver",
    "RateLimitedError",
    "Reservation",
    "SettleDeferredError",
    "SoftLimitHook",
    "UnknownModelPriceError",
]
