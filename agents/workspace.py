"""The creator's workspace: the channels a client has, each ``own`` or ``competitor``.

The backend hands it over through ``AgentData.workspace()``; the agent shows the model a
bounded block of it in the system prompt and every channel tool resolves its ``channel``
argument here, so "mine", a handle, a title or a unique prefix of one all work and an
ambiguous or unknown name comes back as an error listing the candidates.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Role = Literal["own", "competitor"]

# Channels shown to the model in the system prompt; the rest are reachable through the
# ``list_channels`` tool. 50 lines of ~150 characters stay under ~2,000 prompt tokens.
PROMPT_MAX_CHANNELS = 50
# Candidates named in an ambiguous/unknown channel error.
MAX_CANDIDATES_LISTED = 10
# What a request may say instead of naming the primary own channel.
MINE = frozenset({"mine", "me", "my channel", "my own", "own", "myself", "self"})


@dataclass(frozen=True, kw_only=True)
class WorkspaceChannel:
    """One channel of the client. ``channel_id`` is the YouTube id (``UC...``) or, for a CSV
    export without one, the id derived from its title (``title:...``); ``ref`` is the
    backend's own id for it (what its REST paths take)."""

    channel_id: str
    ref: str
    title: str
    display_name: str | None = None
    handle: str | None = None
    role: Role = "competitor"
    primary: bool = False
    video_count: int = 0
    observed_at: datetime | None = None
    source: str = ""

    @property
    def name(self) -> str:
        return self.display_name or self.title

    def summary(self) -> dict[str, object]:
        """The channel as the model reads it (prompt block, ``list_channels``, errors)."""
        return {
            "channel": self.channel_id,
            "name": self.name,
            "title": self.title,
            "handle": self.handle,
            "role": self.role,
            "primary": self.primary,
            "videos": self.video_count,
            "snapshot": self.observed_at.date().isoformat() if self.observed_at else None,
        }


@dataclass(frozen=True, kw_only=True)
class Workspace:
    """The client's channels (own first, primary first); ``total`` counts them all, so a
    reader knows when ``channels`` was cut."""

    channels: tuple[WorkspaceChannel, ...] = ()
    total: int = 0

    @property
    def own(self) -> list[WorkspaceChannel]:
        return [c for c in self.channels if c.role == "own"]

    @property
    def competitors(self) -> list[WorkspaceChannel]:
        return [c for c in self.channels if c.role == "competitor"]

    @property
    def primary(self) -> WorkspaceChannel | None:
        own = self.own
        return next((c for c in own if c.primary), own[0] if own else None)


def ordered(channels: Sequence[WorkspaceChannel]) -> tuple[WorkspaceChannel, ...]:
    """Primary first, then the other own channels, then competitors; by name within."""
    return tuple(
        sorted(channels, key=lambda c: (not c.primary, c.role != "own", c.name.lower(), c.ref))
    )


class ChannelNotResolved(Exception):
    """``code`` is ``NOT_FOUND`` (no such channel) or ``VALIDATION_ERROR`` (ambiguous, or
    "mine" with no own channel); ``candidates`` are what the caller could have meant."""

    def __init__(self, message: str, *, code: str, candidates: Sequence[WorkspaceChannel]) -> None:
        self.code = code
        self.candidates = list(candidates)
        listed = "; ".join(_describe(c) for c in self.candidates[:MAX_CANDIDATES_LISTED])
        more = len(self.candidates) - MAX_CANDIDATES_LISTED
        if listed:
            message = f"{message} Candidates: {listed}" + (
                f" (and {more} more)." if more > 0 else "."
            )
        super().__init__(message)
        self.message = message


def _describe(channel: WorkspaceChannel) -> str:
    handle = f", {channel.handle}" if channel.handle else ""
    flag = " primary" if channel.primary else ""
    return f"{channel.name!r} ({channel.role}{flag}{handle}, channel={channel.channel_id})"


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def _names(channel: WorkspaceChannel) -> list[str]:
    names = [channel.title, channel.display_name or ""]
    if channel.handle:
        names += [channel.handle, channel.handle.lstrip("@")]
    return [_fold(name) for name in names if name]


def resolve_channel(workspace: Workspace, query: str | None) -> WorkspaceChannel:
    """The channel ``query`` names: omitted or "mine" → the primary own channel; else an
    exact id, handle, title or display name (case-insensitive), else a unique prefix of a
    handle, title or display name."""
    channels = list(workspace.channels)
    wanted = _fold(query or "")
    if not wanted or wanted in MINE:
        primary = workspace.primary
        if primary is None:
            raise ChannelNotResolved(
                "No channel is marked as yours: import or add your channel, or mark one as "
                "'own' on the Channels page, or name the channel to analyse.",
                code="VALIDATION_ERROR",
                candidates=channels,
            )
        return primary
    for channel in channels:
        if wanted in (_fold(channel.channel_id), _fold(channel.ref)):
            return channel
    exact = [c for c in channels if wanted in _names(c)]
    if len(exact) == 1:
        return exact[0]
    prefixed = exact or [c for c in channels if any(n.startswith(wanted) for n in _names(c))]
    if len(prefixed) == 1:
        return prefixed[0]
    if prefixed:
        raise ChannelNotResolved(
            f"{query!r} matches {len(prefixed)} channels; name one of them exactly.",
            code="VALIDATION_ERROR",
            candidates=prefixed,
        )
    raise ChannelNotResolved(
        f"No channel in the workspace matches {query!r}.", code="NOT_FOUND", candidates=channels
    )


def prompt_lines(workspace: Workspace, *, limit: int = PROMPT_MAX_CHANNELS) -> list[str]:
    """One JSON object per channel, at most ``limit``; names are the creator's data, so
    the caller wraps the lines in a quoted-data block."""
    return [json.dumps(c.summary(), ensure_ascii=False) for c in workspace.channels[:limit]]
