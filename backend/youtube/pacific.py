"""YouTube's quota day: it resets at midnight Pacific time (America/Los_Angeles).

Both the daily key quota and the per-client search cap are counted per Pacific day, so
a key marked exhausted becomes usable exactly when YouTube resets its quota.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

PACIFIC = ZoneInfo("America/Los_Angeles")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def pacific_day(now: datetime) -> date:
    """The Pacific calendar day ``now`` (timezone-aware) falls on."""
    return _aware(now).astimezone(PACIFIC).date()


def next_pacific_midnight(now: datetime) -> datetime:
    """The first Pacific midnight strictly after ``now``, as an aware UTC datetime.

    Built from the calendar date (not ``now + 24h``) so days of 23 or 25 hours around
    daylight-saving changes end at the real midnight.
    """
    tomorrow = pacific_day(now) + timedelta(days=1)
    midnight = datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=PACIFIC)
    return midnight.astimezone(UTC)


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("the clock must return timezone-aware datetimes")
    return now


__all__ = ["PACIFIC", "Clock", "next_pacific_midnight", "pacific_day", "utc_now"]
