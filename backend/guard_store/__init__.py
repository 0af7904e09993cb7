"""Redis implementation of the cost guard's budget store (plain Python, no Django)."""

from backend.guard_store.redis_store import RedisBudgetStore

__all__ = ["RedisBudgetStore"]
