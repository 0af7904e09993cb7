"""After a PostgreSQL restart the pools reconnect within a second of the server's return.

psycopg_pool's own schedule (1, 2, 4 s … after the first failure) left the web without a
connection for ~6 s after a ~3 s restart in the soak, and requests that waited the pool's
5 s answered 503. The schedule is the library's own ``AttemptWithBackoff``, driven here.
"""

from __future__ import annotations

from itertools import pairwise

from psycopg_pool.base import AttemptWithBackoff


def _attempt_times(count: int) -> list[float]:
    """When a pool's reconnect attempts run, seconds after the first one failed."""
    attempt = AttemptWithBackoff(timeout=300)
    now, times = 0.0, []
    for _ in range(count):
        attempt.update_delay(now)
        now += attempt.delay
        times.append(now)
    return times


def test_a_server_back_within_four_seconds_is_reached_within_a_second() -> None:
    times = _attempt_times(20)
    for tenths in range(5, 41):  # the server is back 0.5 … 4.0 s after the first failure
        back = tenths / 10
        waited = min(t for t in times if t >= back) - back
        # The library's own schedule (1, 3, 7 s): 3.5 s back → 7.0 s, 3.5 s without a pool.
        assert waited < 1.1, (back, times)


def test_a_long_outage_still_backs_off() -> None:
    times = [t for t in _attempt_times(40) if t <= 60]
    gaps = [b - a for a, b in pairwise(times)]
    assert all(later >= earlier for earlier, later in pairwise(gaps))
    assert len(times) < 30  # not hammering a server that is down
