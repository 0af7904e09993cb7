from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError

from backend.core.errors import NotFoundError
from backend.runs.models import Run


def run_get_for_client(*, run_id: str, client_id: str) -> Run:
    """The run if it belongs to the client; otherwise 404, as if it did not exist."""
    try:
        run = Run.objects.filter(pk=run_id, client_id=client_id).first()
    except (DjangoValidationError, ValueError):
        run = None
    if run is None:
        raise NotFoundError("No such run.")
    return run


def session_runs_from(*, session_id: str, ordinal: int) -> list[tuple[int, str]]:
    return [
        (row_ordinal, str(run_id))
        for row_ordinal, run_id in Run.objects.filter(session_id=session_id, ordinal__gte=ordinal)
        .order_by("ordinal")
        .values_list("ordinal", "id")
    ]
