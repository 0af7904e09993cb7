"""Runs and their stored events, read-only: a run's state belongs to its claim, lease and
driver. Staff may only ask runs to stop, through the same service as the API's cancel."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from backend.core.admin import ReadOnlyAdmin, ReadOnlyTabularInline
from backend.runs.drivers import registered_kinds
from backend.runs.models import Run, RunEvent


def _uuid(term: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(term.strip())
    except ValueError:
        return None


class KindFilter(admin.SimpleListFilter):
    """The kinds with a registered driver (a plain field filter would scan the table for
    the values it offers)."""

    title = "kind"
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(kind, kind) for kind in registered_kinds()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Run]) -> QuerySet[Run]:
        return queryset.filter(kind=self.value()) if self.value() else queryset


class RunEventInline(ReadOnlyTabularInline):
    model = RunEvent
    fields = ("seq", "type", "attempt", "ts", "data")
    ordering = ("seq",)


@admin.register(Run)
class RunAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "kind",
        "status",
        "client_id",
        "model",
        "attempt",
        "error_code",
        "cost_usd",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", KindFilter, "created_at")
    search_fields = ("=client_id",)
    search_help_text = "A run id, session id or client id (exact)."
    ordering = ("-created_at",)
    readonly_fields = ("session_link", "events_link")
    inlines = (RunEventInline,)
    actions = ("cancel_runs",)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Run], search_term: str
    ) -> tuple[QuerySet[Run], bool]:
        as_uuid = _uuid(search_term)
        if as_uuid is not None:
            return queryset.filter(Q(pk=as_uuid) | Q(session_id=as_uuid)), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="session")
    def session_link(self, run: Run) -> str:
        if run.session_id is None:
            return "-"
        try:
            # By name: the engine knows no kind of run, and imports none of their apps.
            url = reverse("admin:chat_chatsession_change", args=[run.session_id])
        except NoReverseMatch:
            return str(run.session_id)
        return format_html('<a href="{}">{}</a>', url, run.session_id)

    @admin.display(description="stored events")
    def events_link(self, run: Run) -> str:
        url = reverse("admin:runs_runevent_changelist")
        return format_html('<a href="{}?run__id__exact={}">all events of this run</a>', url, run.pk)

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("runs.change_run")

    @admin.action(
        description="Cancel the selected runs that are still going", permissions=["cancel"]
    )
    def cancel_runs(self, request: HttpRequest, queryset: QuerySet[Run]) -> None:
        from backend.runs.services import run_cancel

        going = list(queryset.filter(status__in=Run.ACTIVE))
        for run in going:
            run_cancel(run=run, reason="cancelled by staff")
        self.message_user(request, f"Asked {len(going)} run(s) to stop.")


@admin.register(RunEvent)
class RunEventAdmin(ReadOnlyAdmin):
    list_display = ("run_id", "seq", "type", "attempt", "ts")
    list_filter = ("type",)
    search_fields = ("type",)
    search_help_text = "A run id (exact), or an event type."
    ordering = ("-id",)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[RunEvent], search_term: str
    ) -> tuple[QuerySet[RunEvent], bool]:
        as_uuid = _uuid(search_term)
        if as_uuid is not None:
            return queryset.filter(run_id=as_uuid), False
        return super().get_search_results(request, queryset, search_term)

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).defer("data")
