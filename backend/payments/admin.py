import uuid
from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from backend.payments.models import CheckoutSession, CreditEntry, StripeEvent, Subscription


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    list_display = ("received_at", "event_id", "type", "status", "account", "attempts")
    list_filter = ("status", "type")
    search_fields = ("event_id",)
    readonly_fields = [f.name for f in StripeEvent._meta.fields]
    actions = ["process_again"]

    @admin.action(description="Process again (failed or received events)")
    def process_again(self, request: HttpRequest, queryset: Any) -> None:
        from backend.payments.services.fulfilment.entry_points import stripe_event_process

        for event in queryset.filter(status__in=[StripeEvent.Status.FAILED, "received"]):
            stripe_event_process(event_pk=event.pk)


@admin.register(CheckoutSession)
class CheckoutSessionAdmin(admin.ModelAdmin):
    list_display = ("created_at", "account", "price_key", "mode", "status", "payment_status")
    list_filter = ("mode", "status", "payment_status")
    search_fields = ("stripe_session_id", "payment_intent_id", "account__user__email")
    readonly_fields = [f.name for f in CheckoutSession._meta.fields]


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ("stripe_subscription_id", "account", "status", "revoked", "current_period_end")
    list_filter = ("status", "revoked")
    search_fields = ("stripe_subscription_id", "account__user__email")


@admin.register(CreditEntry)
class CreditEntryAdmin(admin.ModelAdmin):
    """The ledger is append-only: staff add adjustments, never edit entries."""

    list_display = ("created_at", "account", "kind", "amount_usd", "reference")
    list_filter = ("kind",)
    search_fields = ("account__user__email", "reference")
    fields = ("account", "kind", "amount_usd", "reference", "note")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None:
            return self.fields
        return ("kind", "reference")

    def save_model(self, request: HttpRequest, obj: CreditEntry, form: Any, change: bool) -> None:
        if change:
            return
        obj.kind = CreditEntry.Kind.ADJUSTMENT
        obj.reference = f"admin:{uuid.uuid4().hex}"
        super().save_model(request, obj, form, change)
