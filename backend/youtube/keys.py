"""Which API key to use next, and which ones are used up.

One key is active; requests use it until YouTube refuses it:

- ``quotaExceeded`` / ``dailyLimitExceeded``: the key's daily quota is gone, so it is
  parked until the next Pacific midnight, when YouTube resets quotas.
- ``rateLimitExceeded`` / HTTP 429: a short-term rate limit, not the daily quota. The
  key is parked for ``rate_limit_cooldown`` (or the server's ``Retry-After``), not for
  the rest of the day, so a burst does not throw away a key's remaining daily quota.

Either way the manager rotates to the next usable key. With none left, ``active_key``
raises ``UpstreamUnavailable``. Parking is per process; another process finds out on
its own first refused request, which costs nothing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from backend.youtube.errors import UpstreamUnavailable
from backend.youtube.pacific import Clock, next_pacific_midnight, pacific_day, utc_now
from backend.youtube.quota import QuotaCounter, key_fingerprint

DEFAULT_RATE_LIMIT_COOLDOWN = timedelta(seconds=60)


@dataclass(frozen=True, kw_only=True)
class KeyStatus:
    key_id: str  # fingerprint, never the key
    active: bool
    units_today: int
    parked_until: datetime | None
    parked_reason: str | None


@dataclass(kw_only=True)
class _Key:
    secret: str
    key_id: str
    parked_until: datetime | None = None
    parked_reason: str | None = None


class KeyManager:
    def __init__(
        self,
        keys: list[str],
        quota: QuotaCounter,
        clock: Clock = utc_now,
        *,
        rate_limit_cooldown: timedelta = DEFAULT_RATE_LIMIT_COOLDOWN,
    ) -> None:
        cleaned = [k.strip() for k in keys if k.strip()]
        if len(set(cleaned)) != len(cleaned):
            raise ValueError("YouTube API keys must be distinct")
        self._keys = [_Key(secret=k, key_id=key_fingerprint(k)) for k in cleaned]
        self._quota = quota
        self._clock = clock
        self._cooldown = rate_limit_cooldown
        self._active = 0
        self._lock = threading.Lock()

    def active_key(self) -> str:
        """The key to use now; rotates past parked keys. Raises ``UpstreamUnavailable``."""
        if not self._keys:
            raise UpstreamUnavailable(details={"reason": "no YouTube API keys configured"})
        now = self._clock()
        with self._lock:
            for step in range(len(self._keys)):
                index = (self._active + step) % len(self._keys)
                key = self._keys[index]
                if key.parked_until is not None and key.parked_until <= now:
                    key.parked_until = key.parked_reason = None
                if key.parked_until is None:
                    self._active = index
                    return key.secret
            soonest = min(k.parked_until for k in self._keys if k.parked_until is not None)
        raise UpstreamUnavailable(
            details={
                "reason": "every YouTube API key is out of quota or rate-limited",
                "retry_at": soonest.isoformat(),
            }
        )

    def mark_exhausted(self, key: str, *, reason: str) -> datetime:
        """The key's daily quota is used up: park it until the next Pacific midnight."""
        return self._park(key, until=next_pacific_midnight(self._clock()), reason=reason)

    def mark_rate_limited(
        self, key: str, *, reason: str, retry_after: timedelta | None = None
    ) -> datetime:
        return self._park(key, until=self._clock() + (retry_after or self._cooldown), reason=reason)

    def record_usage(self, key: str, units: int) -> int:
        """Count ``units`` against the key for today (Pacific); returns today's total."""
        return self._quota.add(
            key_id=key_fingerprint(key), day=pacific_day(self._clock()), units=units
        )

    def units_today(self, key: str) -> int:
        return self._quota.used(key_id=key_fingerprint(key), day=pacific_day(self._clock()))

    def parked_until(self, key: str) -> datetime | None:
        return self._find(key).parked_until

    def statuses(self) -> list[KeyStatus]:
        """For health checks and admin pages: no secrets, only fingerprints."""
        day = pacific_day(self._clock())
        with self._lock:
            keys = [
                (i, k.key_id, k.parked_until, k.parked_reason) for i, k in enumerate(self._keys)
            ]
            active = self._active
        return [
            KeyStatus(
                key_id=key_id,
                active=index == active,
                units_today=self._quota.used(key_id=key_id, day=day),
                parked_until=until,
                parked_reason=reason,
            )
            for index, key_id, until, reason in keys
        ]

    def _park(self, key: str, *, until: datetime, reason: str) -> datetime:
        with self._lock:
            entry = self._find(key)
            if entry.parked_until is None or entry.parked_until < until:
                entry.parked_until, entry.parked_reason = until, reason
            return entry.parked_until

    def _find(self, key: str) -> _Key:
        for entry in self._keys:
            if entry.secret == key:
                return entry
        raise KeyError("not one of this manager's keys")


__all__ = ["KeyManager", "KeyStatus"]
