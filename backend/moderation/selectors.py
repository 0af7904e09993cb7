from __future__ import annotations

from typing import TypedDict

from backend.moderation import counters


class ModerationCounts(TypedDict):
    rejected: dict[str, int]  # category → texts refused for it (each text once per category)
    unavailable: int  # checks the moderation service could not answer (fail-closed or open)


def moderation_counts() -> ModerationCounts:
    """Counters since they began (Redis: across processes and restarts; embedded: this
    process), for a metrics collector; monotonic, like Prometheus counters. Raises
    ``redis.RedisError`` when Redis is configured but unreachable (never made-up zeros)."""
    values = counters.read()
    rejected = {
        key.removeprefix(counters.REJECTED_PREFIX): count
        for key, count in sorted(values.items())
        if key.startswith(counters.REJECTED_PREFIX)
    }
    return {"rejected": rejected, "unavailable": values.get(counters.UNAVAILABLE_KEY, 0)}
