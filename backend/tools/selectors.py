from django.db.models import QuerySet

from backend.tools.models import HistoryEntry


def history_list(*, client_id: str, tool: str | None = None) -> QuerySet[HistoryEntry]:
    entries = HistoryEntry.objects.filter(client_id=client_id)
    if tool:
        entries = entries.filter(tool=tool)
    return entries.order_by("-created_at", "-id")
