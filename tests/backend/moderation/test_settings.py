from __future__ import annotations

import pytest

from backend.config.env import SettingsError, load_settings


def test_the_defaults_fail_closed_with_the_rule_list() -> None:
    env = load_settings()
    assert env.MODERATION_URL is None and env.MODERATION_FAIL_OPEN is False
    assert env.MODERATION_MODEL == "omni-moderation-latest"
    assert env.MODERATION_BLOCK_CATEGORIES == [] and env.MODERATION_THRESHOLDS == {}


def test_lists_and_thresholds_are_read_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("MODERATION_BLOCK_CATEGORIES", "sexual/minors, violence")
    monkeypatch.setenv("MODERATION_THRESHOLDS", "violence=0.8, sexual=0.5")
    monkeypatch.setenv("MODERATION_URL", "")
    env = load_settings()
    assert env.MODERATION_BLOCK_CATEGORIES == ["sexual/minors", "violence"]
    assert env.MODERATION_THRESHOLDS == {"violence": 0.8, "sexual": 0.5}
    assert env.MODERATION_URL is None
    monkeypatch.setenv("MODERATION_THRESHOLDS", '{"violence": 0.7}')
    assert load_settings().MODERATION_THRESHOLDS == {"violence": 0.7}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MODERATION_THRESHOLDS", "violence"),
        ("MODERATION_THRESHOLDS", "violence=2"),
        ("MODERATION_THRESHOLDS", "violence=high"),
        ("MODERATION_URL", "ftp://mod.example"),
        ("MODERATION_TIMEOUT_S", "0"),
    ],
)
def test_a_bad_value_names_the_setting(monkeypatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        load_settings()
