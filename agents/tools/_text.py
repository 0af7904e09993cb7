"""Small text helpers shared by the tools (tokenising titles, picking keywords)."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterable

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "from",
        "how",
        "i",
        "in",
        "is",
        "it",
        "its",
        "my",
        "of",
        "on",
        "or",
        "our",
        "so",
        "that",
        "the",
        "this",
        "to",
        "was",
        "what",
        "when",
        "why",
        "with",
        "you",
        "your",
        "vs",
        "do",
        "does",
        "did",
        "not",
        "no",
        "yes",
        "can",
        "will",
        "just",
        "than",
        "then",
        "into",
        "out",
        "up",
        "about",
        "over",
        "after",
        "before",
        "more",
        "most",
        "very",
        "new",
        "get",
        "got",
        "make",
    ]
)

_WORD = re.compile(r"[a-z0-9][a-z0-9'+-]*")


def words(text: str) -> list[str]:
    return [w.strip("'-") for w in _WORD.findall(text.lower()) if w.strip("'-")]


def content_words(text: str) -> list[str]:
    return [w for w in words(text) if w not in STOPWORDS and len(w) > 1]


def top_phrases(texts: Iterable[str], *, limit: int) -> list[tuple[str, int]]:
    """Most frequent single words and two-word phrases across ``texts``."""
    counts: Counter[str] = Counter()
    for text in texts:
        tokens = content_words(text)
        counts.update(set(tokens))
        counts.update({f"{a} {b}" for a, b in itertools.pairwise(tokens)})
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
