"""Where a run's soft-limit warnings go: the run machinery registers a publisher here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from agents.guard import CallMeta

Publisher = Callable[[str, float, CallMeta], Awaitable[None]]
_publishers: list[Publisher] = []


def register(publisher: Publisher) -> None:
    if publisher not in _publishers:
        _publishers.append(publisher)


async def publish(*, bucket: str, used_fraction: float, meta: CallMeta) -> None:
    for publisher in list(_publishers):
        await publisher(bucket, used_fraction, meta)
