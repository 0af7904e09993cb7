from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.analytics.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("PT15M51S", 15 * 60 + 51),
        ("PT23H32M48S", 23 * 3600 + 32 * 60 + 48),
        ("P1DT2H", 86_400 + 7_200),
        ("PT5S", 5),
        ("PT1H", 3600),
        ("PT10M8S", 608),
        ("P1W", 604_800),
        ("P2DT0S", 172_800),
        (" PT1M ", 60),
    ],
)
def test_youtube_spellings(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["P0D", "PT0S", "PT0M0S", "P0W"])
def test_zero_is_unknown_not_a_short(text: str) -> None:
    assert parse_duration(text) is None


@pytest.mark.parametrize(
    "text", ["", "P", "PT", "P1DT", "15:51", "PT1.5S", "P1Y", "P1M", "PT-5S", "pt5s", "PT5S5"]
)
def test_invalid_raises_with_the_value_named(text: str) -> None:
    with pytest.raises(ValueError, match="invalid ISO-8601 duration"):
        parse_duration(text)


@given(st.integers(1, 10**8))
def test_round_trip(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


@given(st.integers(0, 40), st.integers(0, 23), st.integers(0, 59), st.integers(0, 59))
def test_parse_matches_component_sum(days: int, hours: int, minutes: int, secs: int) -> None:
    text = f"P{days}DT{hours}H{minutes}M{secs}S"
    total = days * 86_400 + hours * 3600 + minutes * 60 + secs
    assert parse_duration(text) == (total or None)


def test_format_unknown_and_negative() -> None:
    assert format_duration(None) == "P0D"
    assert format_duration(0) == "P0D"
    assert format_duration(3661) == "PT1H1M1S"
    with pytest.raises(ValueError, match="negative"):
        format_duration(-1)
