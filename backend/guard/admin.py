from django.contrib import admin

from backend.guard.models import DailySpendSnapshot, GuardEvent, LlmCall


@admin.register(DailySpendSnapshot)
class DailySpendSnapshotAdmin(admin.ModelAdmin):
    list_display = ("day", "bucket", "spent_usd", "reserved_usd")
    list_filter = ("day",)


@admin.register(LlmCall)
class LlmCallAdmin(admin.ModelAdmin):
    list_display = ("created_at", "model", "feature", "plan", "cost_usd", "is_error")
    list_filter = ("model", "plan", "is_error")


@admin.register(GuardEvent)
class GuardEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "bucket", "client_id")
    list_filter = ("kind",)
