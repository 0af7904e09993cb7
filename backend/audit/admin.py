from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from backend.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the trail is append-only, and rows go only by retention."""

    list_display = (
        "created_at",
        "action",
        "actor",
        "account_id",
        "client_id",
        "staff_user_id",
        "target_type",
        "target_id",
        "request_id",
    )
    list_filter = ("action", "actor")
    search_fields = ("=account_id", "=client_id", "=target_id", "=request_id", "=ip_hash")
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in AuditEvent._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
