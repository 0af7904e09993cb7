from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet

from backend.core.errors import NotFoundError
from backend.tools.models import HistoryEntry


def history_list(
    *, client_id: str, tool: str | None = None, source: str | None = None
) -> QuerySet[HistoryEntry]:
    """The client's tool results, newest first (REST calls and chat tool calls)."""
    entries = HistoryEntry.objects.filter(client_id=client_id)
    if tool:
        entries = entries.filter(tool=tool)
    if source:
        entries = entries.filter(source=source)
    return entries.order_by("-created_at", "-id")


def history_get_for_client(*, entry_id: str | int, client_id: str) -> HistoryEntry:
    """One entry of the client's history; another client's (or a malformed id) is 404."""
    try:
        entry = HistoryEntry.objects.filter(pk=entry_id, client_id=client_id).first()
    except (DjangoValidationError, ValueError, TypeError):
        entry = None
    if entry is None:
        raise NotFoundError("No such history entry.")
    return entry
