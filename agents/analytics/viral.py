"""Transparent virality features of a script, caption or post, and the score they give.

Nothing here is learnt: every feature is a count or a rule a creator can check by
reading the text. Five categories, each scored 0-1, weighted (weights sum to 1):

- **hook (0.30)**: the opening. ``0.30`` if the first sentence has at most 15 words
  (``0.15`` up to 25), ``0.20`` if it is a question, ``0.20`` if the first 12 words hold
  a number, ``0.15`` if they address the viewer (you/your), ``0.15`` if they hold a
  curiosity word (secret, mistake, why, ...).
- **pacing (0.20)**: ``0.6 * length fit + 0.4 * sentence fit``. Length fit is 1 inside
  the platform's word range (``PLATFORM_WORDS``), ``words / low`` below it and
  ``max(0, 1 - (words - high) / high)`` above. Sentence fit is 1 for an average of at
  most 15 words per sentence, falling linearly to 0 at 35.
- **emotion (0.20)**: ``min(1, 0.8 * distinct emotional words / 3 + 0.2 if "!")``.
- **storytelling (0.15)**: ``min(1, distinct story markers / 4)`` (time and turn words,
  first-person past: "one day", "suddenly", "but", "I was", ...).
- **cta (0.15)**: 1 if a call to action (subscribe, comment, link in bio, ...) is in the
  last third of the words, 0.7 if only earlier, 0 if none.

``score = round(100 * sum(weight * category score))``. ``confidence`` says how much text
the features had to work with, not how likely the text is to go viral:
``min(0.9, 0.2 + 0.7 * min(1, words / 100))``, times 0.85 when the platform is unknown,
and 0 for a text without words.

``combine_with_model`` blends in a model's own assessment (see its docstring).
"""

from __future__ import annotations

import math
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict

Category = Literal["hook", "pacing", "emotion", "storytelling", "cta"]
WEIGHTS: dict[Category, float] = {
    "hook": 0.30,
    "pacing": 0.20,
    "emotion": 0.20,
    "storytelling": 0.15,
    "cta": 0.15,
}
# Spoken scripts run about 150 words a minute; captions and posts are read.
PLATFORM_WORDS: dict[str, tuple[int, int]] = {
    "shorts": (30, 160),  # up to a minute of speech
    "youtube": (300, 2500),  # a 2-15 minute video script
    "twitter": (5, 50),
    "instagram": (20, 150),
    "linkedin": (50, 300),
}
GENERIC_WORDS = (20, 400)
PLATFORM_ALIASES = {
    "tiktok": "shorts",
    "youtube_shorts": "shorts",
    "youtube shorts": "shorts",
    "reels": "shorts",
    "instagram_reels": "shorts",
    "x": "twitter",
    "youtube_long": "youtube",
}
HOOK_WORDS = frozenset(
    [
        "secret",
        "secrets",
        "mistake",
        "mistakes",
        "stop",
        "never",
        "nobody",
        "truth",
        "why",
        "how",
        "what",
        "best",
        "worst",
        "don't",
        "dont",
        "before",
        "finally",
        "actually",
        "hidden",
        "wrong",
        "myth",
        "myths",
        "proven",
        "warning",
    ]
)
EMOTION_WORDS = frozenset(
    [
        "amazing",
        "incredible",
        "shocking",
        "shocked",
        "love",
        "hate",
        "fear",
        "afraid",
        "scared",
        "angry",
        "furious",
        "happy",
        "sad",
        "heartbreaking",
        "insane",
        "crazy",
        "unbelievable",
        "beautiful",
        "terrible",
        "awful",
        "hilarious",
        "funny",
        "brilliant",
        "devastating",
        "thrilled",
        "excited",
        "surprising",
        "surprised",
        "frustrating",
        "frustrated",
        "proud",
        "ashamed",
        "painful",
        "powerful",
        "stunning",
        "wild",
        "epic",
    ]
)
STORY_MARKERS = (
    "one day",
    "years ago",
    "last week",
    "last year",
    "i was",
    "i had",
    "we were",
    "i remember",
    "suddenly",
    "then",
    "finally",
    "until",
    "but",
    "however",
    "after",
    "when i",
    "that's when",
    "the moment",
)
CTA_PHRASES = (
    "subscribe",
    "follow",
    "comment",
    "like this",
    "hit like",
    "share",
    "link in bio",
    "link in the description",
    "click",
    "sign up",
    "let me know",
    "save this",
    "turn on notifications",
    "join",
    "download",
)
_WORD = re.compile(r"[\w']+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_NUMBER = re.compile(r"\d")


class Insight(BaseModel):
    model_config = ConfigDict(frozen=True)

    category: Category
    score: float
    weight: float
    message: str
    recommendations: list[str]


class ViralFeatures(BaseModel):
    model_config = ConfigDict(frozen=True)

    word_count: int
    sentence_count: int
    first_sentence_words: int
    average_sentence_words: float
    numbers: int
    questions: int
    exclamations: int
    emotional_words: list[str]
    story_markers: list[str]
    cta_phrases: list[str]


class ViralReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    score: int
    confidence: float
    platform: str | None
    word_range: tuple[int, int]
    features: ViralFeatures
    insights: list[Insight]
    feature_score: int
    model_score: int | None = None
    model_confidence: float | None = None
    method: str


def _phrases_in(text: str, phrases: tuple[str, ...]) -> list[str]:
    return [p for p in phrases if re.search(r"(?<!\w)" + re.escape(p) + r"(?!\w)", text)]


def _platform(platform: str | None) -> tuple[str | None, tuple[int, int], bool]:
    if platform is None or not platform.strip():
        return None, GENERIC_WORDS, False
    key = platform.strip().casefold()
    key = PLATFORM_ALIASES.get(key, key)
    if key in PLATFORM_WORDS:
        return key, PLATFORM_WORDS[key], True
    return platform.strip(), GENERIC_WORDS, False


def _hook(first_sentence: str, opening: list[str]) -> tuple[float, list[str]]:
    words = len(_WORD.findall(first_sentence))
    score = 0.30 if 0 < words <= 15 else 0.15 if 0 < words <= 25 else 0.0
    tips = [] if words <= 15 else ["Cut the first sentence to 15 words or fewer."]
    if first_sentence.rstrip().endswith("?"):
        score += 0.20
    else:
        tips.append("Open with a question the viewer wants answered.")
    if any(_NUMBER.search(w) for w in opening):
        score += 0.20
    else:
        tips.append("Put a concrete number in the first line (a result, a count, a time).")
    lowered = [w.casefold() for w in opening]
    if "you" in lowered or "your" in lowered:
        score += 0.15
    else:
        tips.append("Speak to the viewer directly ('you') in the opening.")
    if HOOK_WORDS.intersection(lowered):
        score += 0.15
    else:
        tips.append("Promise something specific: a mistake, a secret, a why.")
    return min(1.0, score), tips


def _length_fit(words: int, word_range: tuple[int, int]) -> float:
    low, high = word_range
    if words < low:
        return words / low
    if words <= high:
        return 1.0
    return max(0.0, 1 - (words - high) / high)


def viral_features(*, text: str, platform: str | None = None) -> ViralReport:
    """Feature-based virality score of a text for a platform (see module docstring)."""
    platform_name, word_range, known_platform = _platform(platform)
    words = _WORD.findall(text)
    lowered_text = " ".join(text.casefold().split())
    sentences = [s for s in _SENTENCE_END.split(text.strip()) if _WORD.search(s)]
    first_sentence = sentences[0] if sentences else ""
    word_count = len(words)
    average_sentence = word_count / len(sentences) if sentences else 0.0
    emotional = sorted({w.casefold() for w in words} & EMOTION_WORDS)
    markers = _phrases_in(lowered_text, STORY_MARKERS)
    ctas = _phrases_in(lowered_text, CTA_PHRASES)
    late_ctas = _phrases_in(
        " ".join(w.casefold() for w in words[(2 * word_count) // 3 :]), CTA_PHRASES
    )
    features = ViralFeatures(
        word_count=word_count,
        sentence_count=len(sentences),
        first_sentence_words=len(_WORD.findall(first_sentence)),
        average_sentence_words=average_sentence,
        numbers=len(re.findall(r"\d+(?:[.,]\d+)*", text)),
        questions=text.count("?"),
        exclamations=text.count("!"),
        emotional_words=emotional,
        story_markers=markers,
        cta_phrases=ctas,
    )

    hook, hook_tips = _hook(first_sentence, words[:12])
    length_fit = _length_fit(word_count, word_range)
    sentence_fit = max(0.0, min(1.0, 1 - (average_sentence - 15) / 20)) if sentences else 0.0
    pacing = 0.6 * length_fit + 0.4 * sentence_fit
    emotion = min(1.0, 0.8 * len(emotional) / 3 + (0.2 if "!" in text else 0.0))
    story = min(1.0, len(markers) / 4)
    cta = 1.0 if late_ctas else 0.7 if ctas else 0.0
    scores: dict[Category, float] = {
        "hook": hook,
        "pacing": pacing,
        "emotion": emotion,
        "storytelling": story,
        "cta": cta,
    }
    low, high = word_range
    where = platform_name or "an unspecified platform"
    pacing_tips = []
    if word_count < low:
        pacing_tips.append(f"Add substance: {word_count} words, {low}-{high} fit {where}.")
    elif word_count > high:
        pacing_tips.append(f"Trim: {word_count} words, {low}-{high} fit {where}.")
    if average_sentence > 15:
        pacing_tips.append(f"Shorten sentences (now {average_sentence:.0f} words on average).")
    if platform_name is not None and not known_platform:
        pacing_tips.append(
            f"Unknown platform {platform_name!r}; judged against {low}-{high} words. "
            f"Known: {', '.join(sorted(PLATFORM_WORDS))}."
        )
    messages: dict[Category, tuple[str, list[str]]] = {
        "hook": (
            f"Opening of {features.first_sentence_words} words"
            + (", a question" if first_sentence.rstrip().endswith("?") else ""),
            hook_tips,
        ),
        "pacing": (
            f"{word_count} words in {len(sentences)} sentences for {where}",
            pacing_tips,
        ),
        "emotion": (
            f"Emotional words: {', '.join(emotional) or 'none'}",
            []
            if emotion >= 0.8
            else ["Name the feeling: say what was surprising, frustrating or exciting."],
        ),
        "storytelling": (
            f"Story markers: {', '.join(markers) or 'none'}",
            []
            if story >= 0.75
            else ["Tell it as a story: a moment, a turn ('but', 'suddenly'), an outcome."],
        ),
        "cta": (
            f"Calls to action: {', '.join(ctas) or 'none'}",
            []
            if late_ctas
            else ["End with one clear ask (comment, follow, link in the description)."],
        ),
    }
    insights = [
        Insight(
            category=category,
            score=scores[category],
            weight=WEIGHTS[category],
            message=messages[category][0],
            recommendations=messages[category][1],
        )
        for category in WEIGHTS
    ]
    score = round(100 * sum(WEIGHTS[c] * scores[c] for c in WEIGHTS))
    confidence = 0.0
    if word_count:
        confidence = min(0.9, 0.2 + 0.7 * min(1.0, word_count / 100))
        if not known_platform:
            confidence *= 0.85
    return ViralReport(
        score=score,
        confidence=confidence,
        platform=platform_name,
        word_range=word_range,
        features=features,
        insights=insights,
        feature_score=score,
        method="features only (agents/analytics/viral.py)",
    )


def combine_with_model(
    report: ViralReport, model_score: int | None, model_confidence: float | None
) -> ViralReport:
    """Blend a model's assessment into the feature report.

    Without a model score the report is returned unchanged. Otherwise, with ``cf`` the
    feature confidence and ``cm`` the model's (0.5 when it gave none), the model's
    weight is ``w = cm / (cf + cm)`` (0.5 if both are 0) and
    ``score = round((1 - w) * feature_score + w * model_score)``. The blended
    confidence is ``max(cf, cm) * (1 - |feature_score - model_score| / 200)``:
    disagreement between the two lowers it, by at most half.
    """
    if model_score is None:
        return report
    if isinstance(model_score, bool) or not 0 <= model_score <= 100:
        raise ValueError(f"model_score must be an integer 0-100, got {model_score!r}")
    if model_confidence is not None and not (
        math.isfinite(model_confidence) and 0.0 <= model_confidence <= 1.0
    ):
        raise ValueError(f"model_confidence must be within [0, 1], got {model_confidence!r}")
    cf = report.confidence
    cm = 0.5 if model_confidence is None else model_confidence
    weight = 0.5 if cf + cm == 0 else cm / (cf + cm)
    feature_score = report.feature_score
    score = round((1 - weight) * feature_score + weight * model_score)
    confidence = max(cf, cm) * (1 - abs(feature_score - model_score) / 200)
    return report.model_copy(
        update={
            "score": score,
            "confidence": confidence,
            "model_score": int(model_score),
            "model_confidence": model_confidence,
            "method": (
                f"features ({feature_score}, confidence {cf:.2f}) blended with a model "
                f"({model_score}, confidence {cm:.2f}), model weight {weight:.2f}"
            ),
        }
    )


__all__ = [
    "PLATFORM_WORDS",
    "WEIGHTS",
    "Insight",
    "ViralFeatures",
    "ViralReport",
    "combine_with_model",
    "viral_features",
]
