"""Tokenising titles for matching a query (the in-memory corpus uses it)."""

from __future__ import annotations

import re

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
