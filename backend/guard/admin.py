"""The guard's records, read-only: the ledger is what budgets, run totals and the spend
reconciliation add up from, and snapshots and events are history."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from backend.core.admin import ReadOnlyAdmin
from backend.guard.models import DailySpendSnapshot, GuardEvent, LlmCall


class PlanFilter(admin.SimpleListFilter):
    """The plans the guard knows (a plain field filter would scan the ledger for them)."""

    title = "plan"
    parameter_name = "plan"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        from backend.guard.instance import guard_limits

        return [(plan, plan) for plan in sorted(guard_limits().plans)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[LlmCall]) -> QuerySet[LlmCall]:
        return queryset.filter(plan=self.value()) if self.value() else queryset


@admin.register(DailySpendSnapshot)
class DailySpendSnapshotAdmin(ReadOnlyAdmin):
    list_display = ("day", "bucket", "spent_usd", "reserved_usd")
    list_filter = ("day",)
    search_fields = ("bucket",)


@admin.register(LlmCall)
class LlmCallAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "model",
        "feature",
        "plan",
        "client_id",
        "run_id",
        "cost_usd",
        "estimated",
        "is_error",
    )
    list_filter = (
        PlanFilter,
        "is_error",
        "estimated",
        "settle_pending",
        "created_at",
    )
    # Indexed columns only: one that is not would turn every search into a scan.
    search_fields = ("=client_id", "=run_id", "=reservation_id")
    search_help_text = "A client id, run id or reservation id (exact)."
    ordering = ("-created_at",)


@admin.register(GuardEvent)
class GuardEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "bucket", "client_id")
    list_filter = ("kind", "created_at")
    search_fields = ("=client_id", "=bucket")
    ordering = ("-created_at",)
