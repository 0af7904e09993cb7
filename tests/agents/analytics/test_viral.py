from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.analytics.viral import WEIGHTS, combine_with_model, viral_features

platforms = st.none() | st.sampled_from(["tiktok", "youtube", "x", "LinkedIn", "myspace", ""])
STRONG = (
    "Why do 90% of beginners fail at Python? You are making the same mistake I made. "
    "One day I was stuck for hours, but then I suddenly saw it. Finally it clicked, and "
    "it felt amazing! Comment your worst bug and subscribe for part two."
)


@given(st.text(max_size=400), platforms)
def test_ranges_weights_and_determinism(text: str, platform: str | None) -> None:
    report = viral_features(text=text, platform=platform)
    assert 0 <= report.score <= 100
    assert 0.0 <= report.confidence <= 1.0
    assert [i.category for i in report.insights] == list(WEIGHTS)
    assert math.isclose(sum(i.weight for i in report.insights), 1.0)
    assert all(0.0 <= i.score <= 1.0 for i in report.insights)
    assert report.score == round(100 * sum(i.weight * i.score for i in report.insights))
    assert viral_features(text=text, platform=platform) == report


def test_a_text_with_every_feature_beats_a_flat_one() -> None:
    strong = viral_features(text=STRONG, platform="tiktok")
    flat = viral_features(
        text="This document describes the configuration of the system in general terms.",
        platform="tiktok",
    )
    assert strong.score >= 80
    assert strong.score > flat.score + 40
    features = strong.features
    assert features.questions == 1 and features.exclamations == 1
    assert "amazing" in features.emotional_words
    assert {"subscribe", "comment"} <= set(features.cta_phrases)
    assert {"one day", "suddenly", "finally", "but"} <= set(features.story_markers)
    done = {i.category for i in strong.insights if not i.recommendations}
    assert {"hook", "pacing", "storytelling", "cta"} <= done


def test_empty_text_has_no_confidence_and_unknown_platforms_lower_it() -> None:
    empty = viral_features(text="   ")
    assert (empty.score, empty.confidence) == (0, 0.0)
    known = viral_features(text=STRONG, platform="shorts").confidence
    unknown = viral_features(text=STRONG, platform="myspace")
    assert unknown.confidence == pytest.approx(known * 0.85)
    assert any("Unknown platform" in r for i in unknown.insights for r in i.recommendations)
    assert viral_features(text=STRONG, platform="TikTok").platform == "shorts"


@given(st.text(max_size=200), st.integers(0, 100), st.none() | st.floats(0, 1))
def test_blend_lies_between_the_two_scores(text: str, model: int, conf: float | None) -> None:
    report = viral_features(text=text)
    blended = combine_with_model(report, model, conf)
    low, high = sorted((report.feature_score, model))
    assert low <= blended.score <= high
    assert 0.0 <= blended.confidence <= max(report.confidence, 0.5 if conf is None else conf)
    assert blended.feature_score == report.feature_score
    assert blended.model_score == model


def test_blend_examples_and_validation() -> None:
    report = viral_features(text=STRONG, platform="tiktok")
    assert combine_with_model(report, None, 0.9) is report
    cf = report.confidence
    blended = combine_with_model(report, 40, 0.6)
    w = 0.6 / (cf + 0.6)
    assert blended.score == round((1 - w) * report.score + w * 40)
    assert blended.confidence == pytest.approx(max(cf, 0.6) * (1 - abs(report.score - 40) / 200))
    agreeing = combine_with_model(report, report.score, 0.6)
    assert agreeing.confidence == pytest.approx(max(cf, 0.6))
    for bad_score in (-1, 101):
        with pytest.raises(ValueError, match="model_score"):
            combine_with_model(report, bad_score, 0.5)
    for bad_conf in (1.5, -0.1, float("nan")):
        with pytest.raises(ValueError, match="model_confidence"):
            combine_with_model(report, 50, bad_conf)
