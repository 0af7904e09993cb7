"""ISO-8601 durations as the YouTube Data API sends them (``contentDetails.duration``).

YouTube uses the ``P[nW][nD][T[nH][nM][nS]]`` subset: ``PT15M51S``, ``PT23H32M48S``,
``P1DT2H``, ``P0D``. Years and months are rejected because their length in seconds is
not fixed; fractional values are rejected because YouTube never sends them.

A total of zero seconds (``P0D``, ``PT0S``) is YouTube's placeholder for live streams
and premieres whose length is not known yet, so it parses to ``None`` (unknown), never
to a 0-second video that would be mistaken for a Short.
"""

from __future__ import annotations

import re

_DURATION = re.compile(
    r"P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?",
    re.ASCII,
)
_SECONDS = {"weeks": 604_800, "days": 86_400, "hours": 3_600, "minutes": 60, "seconds": 1}


def parse_duration(value: str) -> int | None:
    """Seconds in an ISO-8601 duration; ``None`` for YouTube's zero placeholder.

    Raises ``ValueError`` (naming the value) for anything else.
    """
    text = value.strip()
    match = _DURATION.fullmatch(text)
    if match is None or text in ("P", "PT") or not any(match.groupdict().values()):
        raise ValueError(
            f"invalid ISO-8601 duration {value!r}: expected e.g. 'PT15M51S' or 'P1DT2H' "
            "(weeks, days, hours, minutes, whole seconds)"
        )
    total = sum(
        int(amount) * _SECONDS[unit] for unit, amount in match.groupdict().items() if amount
    )
    return total or None


def format_duration(seconds: int | None) -> str:
    """The canonical YouTube spelling of a duration (inverse of ``parse_duration``)."""
    if seconds is None:
        return "P0D"
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative, got {seconds}")
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    out = f"P{days}D" if days else "P"
    clock = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M"), (secs, "S")) if n)
    if clock:
        out += "T" + clock
    return out if out != "P" else "P0D"


__all__ = ["format_duration", "parse_duration"]
