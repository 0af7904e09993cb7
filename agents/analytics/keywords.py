"""Keyword metrics measured on a corpus of videos (never invented).

There is no public search-volume API, so every figure is a proxy computed from the
videos given (the client's own and competitor channels, a niche, search results...),
says so, and names the sample it was computed on.

A video *matches* a term when the term (case-insensitive, whitespace-collapsed) occurs
as whole words in its title or in one of its tags. Descriptions are left out: they are
long boilerplate (links, sponsors) and would match almost anything. Only videos
published at or before ``as_of`` count.

- **demand_proxy** = median over matching videos of ``views / months since publish``,
  months = days / 30.4375 with a floor of one month (a week-old video's views are not
  multiplied up). Views follow demand, so this is demand *met by these videos*, not
  searches (it was once mislabelled "search volume").
- **competition** (0-100) = ``100 * min(1, match_share / 0.10) * (1 - HHI)``.
  ``match_share`` is matching videos / corpus videos (a term in a tenth or more of the
  corpus is saturated) and ``HHI`` is the Herfindahl index of the matching videos'
  channels (sum of squared channel shares: 1 when one channel owns the term, near 0
  when many channels share it). ``channel_concentration`` is that HHI and
  ``effective_channels`` is ``1 / HHI``.
- **relevance** (0-1) = the share of the corpus's channels with at least one matching
  video: a term every channel of the niche uses is on-topic for it.

Minimum samples (below them a figure is ``None`` with the reason, never a number that
the sample's size alone decides):

- demand_proxy: at least ``MIN_MATCHING_VIDEOS`` (5) matching videos; a median of fewer
  is one or two videos' luck.
- competition: at least ``MIN_CORPUS_CHANNELS`` (3) channels and ``MIN_CORPUS_VIDEOS``
  (20) videos in the corpus, and ``MIN_MATCHING_VIDEOS`` matching videos. With one
  channel the HHI is 1 and competition 0 by construction; with two it cannot pass 50;
  in a smaller corpus one video moves the match share by more than 5 points.
- relevance: at least ``MIN_CORPUS_CHANNELS`` channels in the corpus (with one channel
  it is 0 or 1 by construction).

Every figure carries its ``sample``: the videos and channels it was computed over
(matching videos for the demand proxy, the corpus for competition and relevance), and,
when the caller names the channels' roles, how many of them are the client's own and
how many competitors.

``related_terms`` lists tags and title words / bigrams that co-occur with the term in
matching videos, with their count, share of matching videos and lift (that share over
their share in the whole corpus).
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from agents.analytics.video import Video

DAYS_PER_MONTH = 30.4375
SATURATED_SHARE = 0.10
MIN_MATCHING_VIDEOS = 5
MIN_CORPUS_CHANNELS = 3
MIN_CORPUS_VIDEOS = 20
DEMAND_PROXY_METHOD = (
    "median over matching videos of views / max(1, months since publish), months = days "
    "/ 30.4375 (views met by existing videos, not searches)"
)
COMPETITION_METHOD = (
    "100 * min(1, share of corpus videos matching / 0.10) * (1 - Herfindahl index of the "
    "matching videos' channels)"
)
RELEVANCE_METHOD = "share of the corpus's channels with at least one matching video"
MINIMUMS = (
    f"demand proxy: at least {MIN_MATCHING_VIDEOS} matching videos; competition: at least "
    f"{MIN_CORPUS_CHANNELS} channels and {MIN_CORPUS_VIDEOS} videos in the corpus and "
    f"{MIN_MATCHING_VIDEOS} matching videos; relevance: at least {MIN_CORPUS_CHANNELS} "
    "channels in the corpus. Below them the figure is null with the reason."
)
Role = Literal["own", "competitor"]
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


class Sample(BaseModel):
    """The videos and channels a figure was computed over; ``own_channels`` and
    ``competitor_channels`` split the channels by role when the roles are known."""

    model_config = ConfigDict(frozen=True)

    videos: int
    channels: int
    own_channels: int | None = None
    competitor_channels: int | None = None


class Figure(BaseModel):
    model_config = ConfigDict(frozen=True)

    value: float | None
    reason: str | None  # why ``value`` is None
    sample: Sample


class KeywordMetrics(BaseModel):
    model_config = ConfigDict(frozen=True)

    term: str
    as_of: datetime
    source: str
    corpus_videos: int
    corpus_channels: int
    matching_videos: int
    matching_channels: int
    demand_proxy: Figure
    competition: Figure
    relevance: Figure
    match_share: float | None
    channel_concentration: float | None
    effective_channels: float | None


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


def sample_of(videos: Sequence[Video], roles: Mapping[str, Role] | None = None) -> Sample:
    channels = {v.channel_id for v in videos}
    if roles is None:
        return Sample(videos=len(videos), channels=len(channels))
    return Sample(
        videos=len(videos),
        channels=len(channels),
        own_channels=sum(1 for c in channels if roles.get(c) == "own"),
        competitor_channels=sum(1 for c in channels if roles.get(c) == "competitor"),
    )


def _channels_short(corpus_channels: int) -> str:
    return (
        f"the corpus has videos from {corpus_channels} channel(s); it takes at least "
        f"{MIN_CORPUS_CHANNELS} (add competitor channels)"
    )


def keyword_metrics(
    *,
    term: str,
    videos: Sequence[Video],
    as_of: datetime,
    source: str = "given videos",
    roles: Mapping[str, Role] | None = None,
) -> KeywordMetrics:
    """Demand proxy, competition and relevance of ``term`` in ``videos``, each ``None``
    with a reason below its minimum sample (module docstring). ``roles`` maps channel
    ids to ``own``/``competitor`` for the samples' role counts."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware (UTC)")
    key = normalise_term(term)
    corpus = [v for v in videos if v.published_at <= as_of]
    corpus_channels = len({v.channel_id for v in corpus})
    matching = [v for v in corpus if matches_term(v, key)]
    per_channel = Counter(v.channel_id for v in matching)
    corpus_sample = sample_of(corpus, roles)
    matching_sample = sample_of(matching, roles)

    no_match: str | None = None
    if not corpus:
        no_match = "the corpus is empty"
    elif not matching:
        no_match = f"no video among {len(corpus)} has {key!r} in its title or tags"
    few_matches = (
        f"only {len(matching)} matching video(s); it takes at least {MIN_MATCHING_VIDEOS}"
        if len(matching) < MIN_MATCHING_VIDEOS
        else None
    )

    demand: float | None = None
    demand_reason = no_match or few_matches
    if demand_reason is None:
        demand = float(
            statistics.median(
                v.views
                / max(1.0, (as_of - v.published_at).total_seconds() / 86_400 / DAYS_PER_MONTH)
                for v in matching
            )
        )

    hhi = sum((n / len(matching)) ** 2 for n in per_channel.values()) if matching else None
    match_share = len(matching) / len(corpus) if matching else None
    competition: float | None = None
    competition_reason = no_match
    if competition_reason is None and corpus_channels < MIN_CORPUS_CHANNELS:
        competition_reason = _channels_short(corpus_channels)
    if competition_reason is None and len(corpus) < MIN_CORPUS_VIDEOS:
        competition_reason = (
            f"the corpus has {len(corpus)} videos; it takes at least {MIN_CORPUS_VIDEOS}"
        )
    competition_reason = competition_reason or few_matches
    if competition_reason is None and hhi is not None and match_share is not None:
        competition = float(round(100 * min(1.0, match_share / SATURATED_SHARE) * (1 - hhi)))

    relevance: float | None = None
    relevance_reason = no_match
    if relevance_reason is None and corpus_channels < MIN_CORPUS_CHANNELS:
        relevance_reason = _channels_short(corpus_channels)
    if relevance_reason is None:
        relevance = len(per_channel) / corpus_channels

    return KeywordMetrics(
        term=key,
        as_of=as_of,
        source=f"{source}: {len(corpus)} videos from {corpus_channels} channel(s)",
        corpus_videos=len(corpus),
        corpus_channels=corpus_channels,
        matching_videos=len(matching),
        matching_channels=len(per_channel),
        demand_proxy=Figure(value=demand, reason=demand_reason, sample=matching_sample),
        competition=Figure(value=competition, reason=competition_reason, sample=corpus_sample),
        relevance=Figure(value=relevance, reason=relevance_reason, sample=corpus_sample),
        match_share=match_share,
        channel_concentration=hhi,
        effective_channels=1 / hhi if hhi else None,
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
    "COMPETITION_METHOD",
    "DEMAND_PROXY_METHOD",
    "MINIMUMS",
    "MIN_CORPUS_CHANNELS",
    "MIN_CORPUS_VIDEOS",
    "MIN_MATCHING_VIDEOS",
    "RELEVANCE_METHOD",
    "Figure",
    "KeywordMetrics",
    "RelatedTerm",
    "Sample",
    "keyword_metrics",
    "matches_term",
    "normalise_term",
    "related_terms",
    "sample_of",
]
