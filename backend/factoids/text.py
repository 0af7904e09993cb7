"""Factoid text: plain-text sanitising, the normalised form behind the duplicate hash, and
the near-duplicate test. Pure functions, no Django."""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from difflib import SequenceMatcher

MAX_FACTOID_CHARS = 280
SIMILARITY_THRESHOLD = 0.9

_BLOCKS = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_IMAGE_OR_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_FENCE = re.compile(r"```[a-zA-Z0-9_-]*")
_LINE_MARKERS = re.compile(r"(?m)^\s{0,3}(?:#{1,6}\s+|>\s*|[-*+]\s+|\d+[.)]\s+)")
_EMPHASIS = re.compile(r"(\*{1,3}|_{2,3}|~~|`+)")
_UNDERSCORE_EMPHASIS = re.compile(r"(?<!\w)_(\S(?:.*?\S)?)_(?!\w)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SPACE = re.compile(r"\s+")
_QUOTES = {'"': '"', "'": "'", "\u201c": "\u201d", "\u2018": "\u2019"}
_PUNCTUATION = re.compile(r"[^\w\s]")


def sanitise(raw: str, *, max_chars: int = MAX_FACTOID_CHARS) -> str:
    """Plain text: no HTML or markdown, one line of single spaces, at most ``max_chars``."""
    text = _BLOCKS.sub(" ", raw)
    text = _TAG.sub(" ", text)
    text = html.unescape(text)
    text = _TAG.sub(" ", text)  # tags that were entity-escaped (&lt;b&gt;)
    text = _IMAGE_OR_LINK.sub(r"\1", text)
    text = _FENCE.sub(" ", text)
    text = _LINE_MARKERS.sub("", text)
    text = _EMPHASIS.sub("", text)
    text = _UNDERSCORE_EMPHASIS.sub(r"\1", text)
    text = _CONTROL.sub(" ", text)
    text = _SPACE.sub(" ", text).strip()
    text = _strip_wrapping_quotes(text)
    return cap(text, max_chars=max_chars)


def _strip_wrapping_quotes(text: str) -> str:
    while len(text) >= 2 and _QUOTES.get(text[0]) == text[-1]:
        text = text[1:-1].strip()
    return text


def cap(text: str, *, max_chars: int = MAX_FACTOID_CHARS) -> str:
    """Cut at a word boundary and mark the cut with an ellipsis."""
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-") + "…"


def streamable(partial: str, *, max_chars: int = MAX_FACTOID_CHARS) -> str:
    """What of a half-written reply can be shown already: sanitised, with a trailing
    unfinished tag, link or entity held back until it is complete."""
    for opener, closer in (("<", ">"), ("[", ")"), ("&", ";")):
        start = partial.rfind(opener)
        if start != -1 and closer not in partial[start:]:
            partial = partial[:start]
    return sanitise(partial.rstrip("*_`~#"), max_chars=10 * max_chars)[: max_chars - 1]


def normalise(text: str) -> str:
    """Case, accents, punctuation and spacing removed: what makes two factoids the same."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _SPACE.sub(" ", _PUNCTUATION.sub(" ", folded)).strip()


def text_hash(text: str) -> str:
    return hashlib.sha256(normalise(text).encode()).hexdigest()


def similarity(a: str, b: str) -> float:
    return SequenceMatcher(None, normalise(a), normalise(b), autojunk=False).ratio()


def is_near_duplicate(a: str, b: str, *, threshold: float = SIMILARITY_THRESHOLD) -> bool:
    return text_hash(a) == text_hash(b) or similarity(a, b) >= threshold


def normalise_subject(subject: str) -> str:
    """Subjects are stored lower-case with single spaces, so filters and duplicates match."""
    return _SPACE.sub(" ", subject).strip().lower()
