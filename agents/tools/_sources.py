"""Where the numbers a tool reports come from, and when they were observed.

``AgentData`` (in ``agents.context``) only hands out videos. A data layer that also knows
where its statistics came from and when they were read implements the optional
``DescribesSources`` protocol below; the tools then label every figure with it and
analyse a channel as of its snapshot. Without it the labels stay generic ("stored
channel data", "stored corpus") and a channel is analysed as of ``deps.now()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol, runtime_checkable

from agents.context import AgentData

# The labels a data layer should use (README: imported CSV, YouTube Data API, corpus).
IMPORTED_CSV = "imported CSV"
YOUTUBE_DATA_API = "YouTube Data API"
SAMPLE_CORPUS = "sample corpus"
STORED_CHANNEL_DATA = "stored channel data"
STORED_CORPUS = "stored corpus"


@dataclass(frozen=True, kw_only=True)
class ChannelSnapshot:
    """Where a channel's statistics came from and when they were observed."""

    source: str
    observed_at: datetime | None


@runtime_checkable
class DescribesSources(Protocol):
    """Optional extension of ``AgentData``."""

    corpus_source: str

    async def channel_snapshot(self, channel_id: str) -> ChannelSnapshot | None:
        """Source and observation time of a channel's statistics; None when unknown."""
        ...


async def channel_snapshot(data: AgentData, channel_id: str) -> ChannelSnapshot:
    if isinstance(data, DescribesSources):
        snapshot = await data.channel_snapshot(channel_id)
        if snapshot is not None:
            return snapshot
    return ChannelSnapshot(source=STORED_CHANNEL_DATA, observed_at=None)


def corpus_source(data: AgentData) -> str:
    if isinstance(data, DescribesSources):
        return data.corpus_source
    return STORED_CORPUS


AsOfBasis = Literal["argument", "statistics observed_at", "now"]


def resolve_as_of(
    *, requested: datetime | None, snapshot: ChannelSnapshot, now: datetime
) -> tuple[datetime, AsOfBasis]:
    """The moment to analyse at: the caller's, else when the statistics were observed,
    else now. Naive datetimes are taken as UTC (the analytics require aware ones)."""
    basis: AsOfBasis
    if requested is not None:
        chosen, basis = requested, "argument"
    elif snapshot.observed_at is not None:
        chosen, basis = snapshot.observed_at, "statistics observed_at"
    else:
        chosen, basis = now, "now"
    if chosen.tzinfo is None:
        chosen = chosen.replace(tzinfo=UTC)
    return chosen.astimezone(UTC), basis
