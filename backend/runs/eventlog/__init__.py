"""A run's event log: Redis Streams in production, in-process when embedded.

Both hand out the same DESIGN.md cursors (a run's ``seq``); broker ids stay inside.
"""

from backend.runs.eventlog.base import TERMINAL_TYPES, Event, EventLog
from backend.runs.eventlog.factory import get_event_log, reset_for_tests

__all__ = ["TERMINAL_TYPES", "Event", "EventLog", "get_event_log", "reset_for_tests"]
