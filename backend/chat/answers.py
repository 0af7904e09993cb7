"""The id of a run's answer message."""

from __future__ import annotations

import uuid


def assistant_message_id(run_id: str) -> str:
    """Stable across attempts, so a resumed run's text replaces the interrupted one's; the
    UI stream's ``start`` part carries it, so the client knows the answer by the server's id."""
    return str(uuid.uuid5(uuid.UUID(run_id), "assistant"))
