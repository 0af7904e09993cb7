from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest

from backend.clients.models import ApiKey, Client
from backend.clients.services import api_key_create


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "plan", "created_at")
    list_filter = ("kind", "plan")
    readonly_fields = ("id", "created_ip_hash", "created_at")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "plan", "owner", "created_at", "revoked_at")
    list_filter = ("plan",)
    fields = ("name", "plan", "prefix", "owner", "created_at", "revoked_at")
    readonly_fields = ("prefix", "owner", "created_at")
    actions = ["revoke"]

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        key, raw = api_key_create(name=obj.name, plan=obj.plan)
        obj.pk, obj.client_id, obj.prefix = key.pk, key.client_id, key.prefix
        messages.warning(request, f"Copy this API key now; it is shown only once: {raw}")

    @admin.action(description="Revoke selected keys")
    def revoke(self, request: HttpRequest, queryset: Any) -> None:
        from django.utils import timezone

        queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
