"""Keyword metrics measured on a corpus of videos (never invented).

There is no public search-volume API, so every figure is a proxy computed from the
videos given (a channel, a niche's channels, search results...) and says so.

A video *matches* a term when the term (case-insensitive, whitespace-collapsed) occurs
as whole words in its title or in one of its tags. Descriptions are left out: they are
long boilerplate (links, sponsors) and would match almost anything. Only videos
published at or before ``as_of`` count.

- **search_volume** = median over matching videos of ``views / months since publish``,
  months = days / 30.4375 with a floor of one month (a week-old video's views are not
  multiplied up). Views follow demand, so this is demand *met by these videos*, not
  searches.
- **competition** (0-100) = ``100 * min(1, match_share / 0.10) * (1 - HHI)``.
  ``match_share`` is matching videos / corpus videos (a term in a tenth or more of the
  corpus is saturated) and ``HHI`` is the Herfindahl index of the matching videos'
  channels (sum of squared channel shares: 1 when one channel owns the term, so
  nobody else competes for it; near 0 when many channels share it).
  ``channel_concentration`` is that HHI and ``effective_channels`` is ``1 / HHI``.
- **relevance** (0-1) = the share of the corpus's channels with at least one matching
  video: a term every channel of the niche uses is on-topic for it.

With no matching video (or an empty corpus) every metric is ``None`` and ``reason``
says why.

``related_terms`` lists tags and title words / bigrams that co-occur with the term in
matching videos, with their count, share of matching videos and lift (that share over
their share in the whole corpus).
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from agents.analytics.video import Video

DAYS_PER_MONTH = 30.4375
SATURATED_SHARE = 0.10
SEARCH_VOLUME_METHOD = (
    "median over matching videos of views / max(1, months since publish), months = days / 30.4375"
)
_WORD = re.compile(r"[\w']+")
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "how",
        "i",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "this",
        "to",
        "vs",
        "was",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
        "my",
        "we",
        "our",
        "can",
        "do",
        "does",
        "not",
        "no",
        "yes",
        "all",
        "any",
        "into",
        "out",
        "up",
        "so",
        "if",
        "than",
        "then",
        "too",
        "very",
        "just",
        "more",
        "most",
    ]
)


class KeywordMetrics(BaseModel):
    model_config = ConfigDict(frozen=True)

    term: str
    as_of: datetime
    source: str
    corpus_videos: int
    corpus_channels: int
    matching_videos: int
    matching_channels: int
    search_volume: float | None
    search_volume_method: str
    competition: int | None
    match_share: float | None
    channel_concentration: float | None
    effective_channels: float | None
    relevance: float | None
    reason: str | None


class RelatedTerm(BaseModel):
    model_config = ConfigDict(frozen=True)

    term: str
    kind: Literal["tag", "title_word", "title_bigram"]
    count: int
    share_of_matches: float
    lift: float


def normalise_term(term: str) -> str:
    key = " ".join(term.casefold().split())
    if not key:
        raise ValueError("term must contain at least one non-space character")
    return key


def _contains(phrase: str, text: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)", text) is not None


def matches_term(video: Video, key: str) -> bool:
    """Whether a video's title or tags hold the normalised term as whole words."""
    if _contains(key, " ".join(video.title.casefold().split())):
        return True
    return any(_contains(key, " ".join(tag.casefold().split())) for tag in video.tags)


def keyword_metrics(
    *, term: str, videos: Sequence[Video], as_of: datetime, source: str = "given videos"
) -> KeywordMetrics:
    """Search-volume proxy, competition and relevance of ``term`` in ``videos``."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware (UTC)")
    key = normalise_term(term)
    corpus = [v for v in videos if v.published_at <= as_of]
    corpus_channels = {v.channel_id for v in corpus}
    matching = [v for v in corpus if matches_term(v, key)]
    base = KeywordMetrics(
        term=key,
        as_of=as_of,
        source=f"{source}: {len(corpus)} videos from {len(corpus_channels)} channel(s)",
        corpus_videos=len(corpus),
        corpus_channels=len(corpus_channels),
        matching_videos=len(matching),
        matching_channels=0,
        search_volume=None,
        search_volume_method=SEARCH_VOLUME_METHOD,
        competition=None,
        match_share=None,
        channel_concentration=None,
        effective_channels=None,
        relevance=None,
        reason=None,
    )
    if not matching:
        reason = (
            "the corpus is empty"
            if not corpus
            else f"no video among {len(corpus)} has {key!r} in its title or tags"
        )
        return base.model_copy(update={"reason": reason})
    monthly = [
        v.views / max(1.0, (as_of - v.published_at).total_seconds() / 86_400 / DAYS_PER_MONTH)
        for v in matching
    ]
    per_channel = Counter(v.channel_id for v in matching)
    hhi = sum((n / len(matching)) ** 2 for n in per_channel.values())
    match_share = len(matching) / len(corpus)
    competition = round(100 * min(1.0, match_share / SATURATED_SHARE) * (1 - hhi))
    return base.model_copy(
        update={
            "matching_channels": len(per_channel),
            "search_volume": float(statistics.median(monthly)),
            "competition": competition,
            "match_share": match_share,
            "channel_concentration": hhi,
            "effective_channels": 1 / hhi,
            "relevance": len(per_channel) / len(corpus_channels),
        }
    )


def _candidates(video: Video, key_words: set[str], key: str) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for tag in video.tags:
        clean = " ".join(tag.casefold().split())
        if clean and clean != key:
            found.add(("tag", clean))
    words = [w.strip("'") for w in _WORD.findall(video.title.casefold())]
    usable = [w if len(w) >= 3 and not w.isdigit() and w not in STOPWORDS else "" for w in words]
    for w in usable:
        if w and w not in key_words:
            found.add(("title_word", w))
    for a, b in itertools.pairwise(usable):
        if a and b and not {a, b} <= key_words:
            found.add(("title_bigram", f"{a} {b}"))
    return found


def related_terms(
    *,
    term: str,
    videos: Sequence[Video],
    as_of: datetime,
    limit: int = 20,
    min_count: int = 2,
) -> list[RelatedTerm]:
    """Tags and title words/bigrams that co-occur with ``term`` (counted once per video).

    Only terms in at least ``min_count`` matching videos; sorted by count, then lift
    (both descending), then term.
    """
    if limit < 1 or min_count < 1:
        raise ValueError("limit and min_count must be >= 1")
    key = normalise_term(term)
    key_words = set(key.split())
    corpus = [v for v in videos if v.published_at <= as_of]
    in_corpus: Counter[tuple[str, str]] = Counter()
    in_matches: Counter[tuple[str, str]] = Counter()
    matches = 0
    for video in corpus:
        found = _candidates(video, key_words, key)
        in_corpus.update(found)
        if matches_term(video, key):
            matches += 1
            in_matches.update(found)
    if not matches:
        return []
    related = [
        RelatedTerm(
            term=text,
            kind=kind,  # type: ignore[arg-type]
            count=count,
            share_of_matches=count / matches,
            lift=(count / matches) / (in_corpus[(kind, text)] / len(corpus)),
        )
        for (kind, text), count in in_matches.items()
        if count >= min_count
    ]
    related.sort(key=lambda r: (-r.count, -r.lift, r.term, r.kind))
    return related[:limit]


__all__ = [
    "KeywordMetrics",
    "RelatedTerm",
    "keyword_metrics",
    "matches_term",
    "normalise_term",
    "related_terms",
]
