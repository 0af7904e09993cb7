from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from backend.factoids.models import Factoid, FactoidFeedback


@admin.register(Factoid)
class FactoidAdmin(admin.ModelAdmin):
    list_display = (
        "text",
        "subject",
        "model",
        "source",
        "visibility",
        "up",
        "down",
        "hidden",
        "created_at",
    )
    list_filter = ("hidden", "visibility", "source", "subject")
    search_fields = ("text", "subject")
    readonly_fields = ("uuid", "text_hash", "up", "down", "run", "created_at")
    actions = ("hide_factoids", "unhide_factoids")

    @admin.action(description="Hide the selected factoids from the feed")
    def hide_factoids(self, request: HttpRequest, queryset: QuerySet[Factoid]) -> None:
        hidden = queryset.update(hidden=True)
        self.message_user(request, f"{hidden} factoid(s) hidden.")

    @admin.action(description="Show the selected factoids in the feed again")
    def unhide_factoids(self, request: HttpRequest, queryset: QuerySet[Factoid]) -> None:
        shown = queryset.update(hidden=False)
        self.message_user(request, f"{shown} factoid(s) shown again.")


@admin.register(FactoidFeedback)
class FactoidFeedbackAdmin(admin.ModelAdmin):
    list_display = ("factoid", "vote", "text", "client_id", "created_at")
    search_fields = ("text",)
