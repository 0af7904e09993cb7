from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from backend.accounts.models import Account, AttachedClient, PosthogDeletionRequest, RevokedToken


class AccountInline(admin.StackedInline):
    model = Account
    can_delete = False
    fields = ("plan", "client", "stripe_customer_id", "email_verified_at", "created_at")
    readonly_fields = ("client", "stripe_customer_id", "created_at")


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class AccountUserAdmin(UserAdmin):
    inlines = [AccountInline]
    list_display = ("email", "username", "is_active", "is_staff", "date_joined", "last_login")
    search_fields = ("email", "username")


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("user", "plan", "email_verified_at", "stripe_customer_id", "created_at")
    list_filter = ("plan",)
    search_fields = ("user__email", "stripe_customer_id", "client__id")
    readonly_fields = ("id", "user", "client", "created_at")
    fields = (
        "id",
        "user",
        "client",
        "plan",
        "stripe_customer_id",
        "email_verified_at",
        "created_at",
    )


@admin.register(AttachedClient)
class AttachedClientAdmin(admin.ModelAdmin):
    list_display = ("client_id", "account", "attached_at")
    readonly_fields = ("account", "client_id", "attached_at", "moved")


@admin.register(RevokedToken)
class RevokedTokenAdmin(admin.ModelAdmin):
    list_display = ("kind", "value", "expires_at")
    list_filter = ("kind",)


@admin.register(PosthogDeletionRequest)
class PosthogDeletionRequestAdmin(admin.ModelAdmin):
    list_display = (
        "account_id",
        "status",
        "attempts",
        "requested_at",
        "processed_at",
        "next_attempt_at",
        "last_error",
    )
    list_filter = ("status",)
    readonly_fields = (
        "account_id",
        "distinct_ids",
        "requested_at",
        "status",
        "attempts",
        "last_error",
        "next_attempt_at",
        "processed_at",
    )
    actions = ["send_again"]

    @admin.action(description="Send again (requests not yet sent, with a full set of attempts)")
    def send_again(self, request, queryset):
        from backend.accounts.services.posthog_deletion import posthog_deletion_retry

        for deletion in queryset.exclude(status=PosthogDeletionRequest.Status.SENT):
            posthog_deletion_retry(request=deletion)
