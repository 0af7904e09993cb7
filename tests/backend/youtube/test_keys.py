"""Key rotation and quota counting, against the fake API's own quota accounting."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.youtube import InMemoryQuotaCounter, KeyManager, UpstreamUnavailable
from backend.youtube.pacific import PACIFIC, next_pacific_midnight, pacific_day
from backend.youtube.quota import key_fingerprint
from tests.backend.youtube.conftest import NEXT_PACIFIC_MIDNIGHT, MakeRig, Rig
from tests.fakes.youtube_server import fake_channel_id

NANA = fake_channel_id("TechWorld with Nana")  # 125 uploads: 1 + 3 + 3 = 7 list calls


def test_quota_exceeded_rotates_to_the_next_key_and_parks_the_first(rig: Rig) -> None:
    rig.server.quota_limits["key-a"] = 4  # runs out during the uploads listing

    _, videos = rig.client.fetch_channel(channel_id=NANA)

    assert len(videos) == 125
    keys_used = [r.key for r in rig.server.requests]
    # 4 answered by key-a, 1 refused (quotaExceeded), the rest repeated/continued on key-b.
    assert keys_used == ["key-a"] * 5 + ["key-b"] * 3
    assert rig.keys.parked_until("key-a") == NEXT_PACIFIC_MIDNIGHT
    assert rig.keys.parked_until("key-b") is None
    assert rig.sleeps == []  # a quota refusal is not a transient error
    # Counted per key and per Pacific day, equal to what the API charged.
    assert rig.keys.units_today("key-a") == rig.server.units_used["key-a"] == 4
    assert rig.keys.units_today("key-b") == rig.server.units_used["key-b"] == 3
    day = pacific_day(rig.clock())
    assert rig.quota.used(key_id=key_fingerprint("key-b"), day=day) == 3
    statuses = {s.key_id: s for s in rig.keys.statuses()}
    assert statuses[key_fingerprint("key-a")].parked_reason == "quotaExceeded"
    assert statuses[key_fingerprint("key-b")].active
    assert "key-a" not in repr(rig.keys.statuses())


def test_parked_key_returns_at_pacific_midnight(rig: Rig) -> None:
    rig.server.fail("dailyLimitExceeded", key="key-a")
    rig.client.channel(channel_id=NANA)
    assert rig.keys.active_key() == "key-b"

    rig.clock.now = NEXT_PACIFIC_MIDNIGHT - timedelta(seconds=1)
    rig.server.fail("quotaExceeded", key="key-b")
    with pytest.raises(UpstreamUnavailable):
        rig.client.channel(channel_id=NANA)

    rig.clock.now = NEXT_PACIFIC_MIDNIGHT
    info = rig.client.channel(channel_id=NANA)
    assert info.channel_id == NANA
    # Both keys are usable again; the active one (key-b) stays active.
    assert rig.server.requests[-1].key == "key-b"
    assert rig.keys.units_today("key-b") == 1  # the new Pacific day starts from zero
    rig.server.fail("quotaExceeded", key="key-b")
    rig.client.channel(channel_id=NANA)
    assert rig.server.requests[-1].key == "key-a"


def test_all_keys_exhausted_is_upstream_unavailable(make_rig: MakeRig) -> None:
    rig = make_rig(keys=("key-a", "key-b", "key-c"))
    for key in ("key-a", "key-b", "key-c"):
        rig.server.quota_limits[key] = 0

    with pytest.raises(UpstreamUnavailable) as caught:
        rig.client.channel(handle="@codebasics")

    assert caught.value.message == "YouTube data is temporarily unavailable; try again later."
    assert caught.value.details["retry_at"] == NEXT_PACIFIC_MIDNIGHT.isoformat()
    assert [r.key for r in rig.server.requests] == ["key-a", "key-b", "key-c"]
    # Later calls fail fast, without asking YouTube again.
    with pytest.raises(UpstreamUnavailable):
        rig.client.most_popular()
    assert len(rig.server.requests) == 3
    assert all(rig.keys.units_today(k) == 0 for k in ("key-a", "key-b", "key-c"))


@pytest.mark.parametrize("failure", ["429", "rateLimitExceeded"])
def test_rate_limit_rotates_but_parks_the_key_only_briefly(rig: Rig, failure: str) -> None:
    rig.server.fail(failure, key="key-a")  # type: ignore[arg-type]

    rig.client.channel(channel_id=NANA)

    assert [r.key for r in rig.server.requests] == ["key-a", "key-b"]
    assert rig.keys.parked_until("key-a") == rig.clock() + timedelta(seconds=60)

    rig.clock.advance(timedelta(seconds=30))
    rig.server.fail("quotaExceeded", key="key-b")
    with pytest.raises(UpstreamUnavailable) as caught:
        rig.client.channel(channel_id=NANA)
    assert caught.value.details["retry_at"] == (rig.clock() + timedelta(seconds=30)).isoformat()

    rig.clock.advance(timedelta(seconds=30))  # the cool-down is over, not the day
    assert rig.client.channel(channel_id=NANA).channel_id == NANA
    assert rig.server.requests[-1].key == "key-a"


def test_no_keys_configured_is_upstream_unavailable(make_rig: MakeRig) -> None:
    rig = make_rig(keys=())
    with pytest.raises(UpstreamUnavailable, match="temporarily unavailable"):
        rig.client.channel(channel_id=NANA)
    assert rig.server.requests == []


def test_duplicate_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="distinct"):
        KeyManager(["k", " k "], InMemoryQuotaCounter())


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    )
)
def test_next_pacific_midnight_is_the_next_local_midnight(now: datetime) -> None:
    midnight = next_pacific_midnight(now)
    local = midnight.astimezone(PACIFIC)

    assert midnight > now
    assert (local.hour, local.minute, local.second) == (0, 0, 0)
    assert local.date() == now.astimezone(PACIFIC).date() + timedelta(days=1)
    # Never more than a (25-hour, DST-end) day away.
    assert midnight - now <= timedelta(hours=25)


def test_pacific_day_follows_daylight_saving() -> None:
    # 2026-03-08 is the spring-forward day: 23 hours long, ends at 07:00 UTC.
    assert next_pacific_midnight(datetime(2026, 3, 8, 9, 0, tzinfo=UTC)) == datetime(
        2026, 3, 9, 7, 0, tzinfo=UTC
    )
    assert pacific_day(datetime(2026, 3, 9, 6, 59, tzinfo=UTC)) == date(2026, 3, 8)
    assert pacific_day(datetime(2026, 3, 9, 7, 0, tzinfo=UTC)) == date(2026, 3, 9)
