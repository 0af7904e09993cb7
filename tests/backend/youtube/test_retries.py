"""Transient failures: backoff of 1 s, 2 s, 4 s (injected sleep), then give up."""

from __future__ import annotations

import pytest

from backend.youtube import UpstreamUnavailable, YouTubeApiError
from tests.backend.youtube.conftest import MakeRig, Rig
from tests.fakes.youtube_server import fake_channel_id

NANA = fake_channel_id("TechWorld with Nana")


@pytest.mark.parametrize("failure", ["500", "503", "drop"])
def test_transient_failures_back_off_then_succeed(rig: Rig, failure: str) -> None:
    rig.server.fail(failure, times=3)  # type: ignore[arg-type]

    info = rig.client.channel(channel_id=NANA)

    assert info.channel_id == NANA
    assert rig.sleeps == [1.0, 2.0, 4.0]
    assert len(rig.server.requests_to("channels")) == 4
    # Same key throughout: a server error says nothing about the key's quota.
    assert {r.key for r in rig.server.requests} == {"key-a"}
    assert rig.keys.units_today("key-a") == 1  # only the answered request is counted


def test_gives_up_after_three_retries(rig: Rig) -> None:
    rig.server.fail("500", times=4)

    with pytest.raises(UpstreamUnavailable) as caught:
        rig.client.channel(channel_id=NANA)

    assert str(caught.value) == "YouTube data is temporarily unavailable; try again later."
    assert "backendError" in caught.value.details["reason"]
    assert rig.sleeps == [1.0, 2.0, 4.0]
    assert len(rig.server.requests) == 4
    assert rig.keys.parked_until("key-a") is None


def test_backoff_restarts_for_each_call(rig: Rig) -> None:
    rig.server.fail("500", times=1)
    rig.client.channel(channel_id=NANA)
    rig.server.fail("500", times=2)
    rig.client.channel(channel_id=NANA)

    assert rig.sleeps == [1.0, 1.0, 2.0]


def test_a_rejected_key_is_an_error_not_a_retry(make_rig: MakeRig) -> None:
    rig = make_rig(keys=("not-a-key",))

    with pytest.raises(YouTubeApiError) as caught:
        rig.client.channel(channel_id=NANA)

    assert caught.value.status == 400
    assert caught.value.reason == "keyInvalid"
    assert "not-a-key" not in str(caught.value)
    assert rig.sleeps == []
    assert len(rig.server.requests) == 1
