"""What each kind of run does once claimed: ``chat`` drives the agent graph."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from backend.core.errors import InternalError
from backend.runs.executor import RunContext

Driver = Callable[[RunContext], Awaitable[dict[str, Any] | None]]


def driver_for(kind: str) -> Driver:
    if kind == "chat":
        from backend.runs.chat_driver import drive_chat

        return drive_chat
    if kind == "factoid":
        from backend.runs.factoid_driver import drive_factoid

        return drive_factoid
    if kind == "channel_fetch":
        from backend.channels.fetch import drive_channel_fetch

        return drive_channel_fetch
    raise InternalError(f"No driver for runs of kind {kind!r}.")
