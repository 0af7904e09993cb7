"""Chat sessions, their messages and webhook deliveries, read-only: a transcript is a tree
the services keep consistent with its runs and checkpoints (``current_leaf``, ``parent``,
``run_count``), a session is deleted with its runs, event logs and checkpoint thread
(``services.session_delete``), and a webhook's URL is vetted when it is set. The webhook
secret is never shown."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from backend.chat.models import ChatMessage, ChatSession, WebhookDelivery
from backend.core.admin import ReadOnlyAdmin, ReadOnlyTabularInline


def _uuid(term: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(term.strip())
    except ValueError:
        return None


def _runs_link(label: str, **query: Any) -> str:
    url = reverse("admin:runs_run_changelist")
    params = "&".join(f"{name}={value}" for name, value in query.items())
    return format_html('<a href="{}?{}">{}</a>', url, params, label)


class ChatMessageInline(ReadOnlyTabularInline):
    model = ChatMessage
    fields = ("created_at", "role", "content", "run_id", "parent", "stopped")
    ordering = ("created_at",)
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[ChatMessage]:
        return super().get_queryset(request).select_related("parent")


@admin.register(ChatSession)
class ChatSessionAdmin(ReadOnlyAdmin):
    list_display = ("id", "title", "client_id", "model", "run_count", "created_at", "updated_at")
    list_filter = ("created_at", "updated_at")
    search_fields = ("=client_id", "=external_id")
    search_help_text = "A session id, client id or external id (exact)."
    ordering = ("-created_at",)
    exclude = ("webhook_secret",)
    readonly_fields = ("runs",)
    inlines = (ChatMessageInline,)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[ChatSession], search_term: str
    ) -> tuple[QuerySet[ChatSession], bool]:
        as_uuid = _uuid(search_term)
        if as_uuid is not None:
            return queryset.filter(pk=as_uuid), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="runs")
    def runs(self, session: ChatSession) -> str:
        return _runs_link("this session's runs", q=session.pk)


@admin.register(ChatMessage)
class ChatMessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "session", "role", "short_content", "run_id", "stopped", "created_at")
    list_filter = ("role", "stopped", "created_at")
    search_fields = ("=session__client_id",)
    search_help_text = "A message, session or run id, or a client id (exact)."
    ordering = ("-created_at",)
    list_select_related = ("session",)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[ChatMessage], search_term: str
    ) -> tuple[QuerySet[ChatMessage], bool]:
        as_uuid = _uuid(search_term)
        if as_uuid is not None:
            found = Q(pk=as_uuid) | Q(session_id=as_uuid) | Q(run_id=as_uuid)
            return queryset.filter(found), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="content")
    def short_content(self, message: ChatMessage) -> str:
        return message.content[:80]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "session",
        "run_id",
        "url",
        "status",
        "attempts",
        "last_status_code",
        "created_at",
        "delivered_at",
    )
    list_filter = ("status", "created_at")
    search_fields = ("=session__client_id",)
    search_help_text = "A session or run id, or a client id (exact)."
    ordering = ("-id",)
    list_select_related = ("session",)
    readonly_fields = ("run",)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[WebhookDelivery], search_term: str
    ) -> tuple[QuerySet[WebhookDelivery], bool]:
        as_uuid = _uuid(search_term)
        if as_uuid is not None:
            return queryset.filter(Q(session_id=as_uuid) | Q(run_id=as_uuid)), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="run")
    def run(self, delivery: WebhookDelivery) -> str:
        return _runs_link(str(delivery.run_id), q=delivery.run_id)
