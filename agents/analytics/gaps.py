"""Content gaps: topics where competitors' videos break out and the own channel has nothing.

**Baseline.** Per competitor channel, its *mature* videos are those published at least
``min_age_days`` (7) days before that channel's ``as_of`` (when its statistics were read):
younger videos are still collecting views. The channel's baseline is the median views of
its mature videos. A channel with fewer than ``MIN_CHANNEL_VIDEOS`` (5) mature videos, or
whose median is 0, is *skipped* with the reason: a median of four videos is noise, and
nothing is a multiple of 0. Shorts and long-form share one median (the issue asks for the
channel's median; a Shorts-heavy channel's long videos therefore stand out more easily).

**Outliers.** A competitor's mature video is an outlier when ``views >= min_multiple x``
its channel's median; its *multiple* is ``views / median``. The default 3.0 flags about
the top seventh of a channel: on the six channels of the Pathfinder sample export
(``pathfinder_6ch_video_data.csv``) 3x the median catches 13-16 % of each channel's
uploads, where 2x catches 22-30 % (ordinary spread for log-normal-ish view counts) and
5x 4-9 % (too few to group by topic).

**Topics.** The terms of a video are the unigrams and bigrams of its title and of each of
its tags, tokenised like ``keywords.related_terms``: casefolded ``[\\w']+`` words, edge
apostrophes stripped, words shorter than 3 characters, all-digit words and
``keywords.STOPWORDS`` dropped, and so are ``FILLER_WORDS`` (prepositions, numbers in
words, "new", "every"... that the keyword stopwords keep and that name no topic); a
bigram is two such words adjacent in the same title or tag (never across a dropped word
or a tag boundary). No stemming and no model: "build"
and "builds" are two terms, and whole tags longer than two words are not terms.

**Gaps.** A term is a candidate when at least ``min_proof`` (2) outliers carry it: one
breakout is an anecdote, two are a pattern (the score then rewards several channels). It
is a gap when the own channel does not use it in any video, of any age: no own video has
the term among its terms, none matches it by ``keywords.matches_term`` (whole words in
the title or a tag, what keyword_research counts), and none has it up to a plural "s"
(word by word, so own "builds" covers "build"). Erring this way never tells a creator to
make a video they have already made.

**Score** 0-100 = ``round(100 * (0.35*C + 0.25*M + 0.25*H + 0.15*R))`` with
C = min(1, proof channels / 3) (one channel alone is weak evidence), M = min(1, mean of
log10(multiple) over the proof videos / 2) (a geometric-mean multiple of 100x is full
marks, 10x half), H = proof videos / (competitors' mature videos carrying the term + 2)
(how reliably the topic breaks out rather than being merely common; the +2 keeps a
2-of-2 term at 0.5 below a 9-of-12 one at 0.64), R = mean over the
proof videos of max(0, 1 - age_days / 365) (last year's breakouts count, older fade).
Each gap reports its components so the score can be recomputed.

**Dedupe.** Gaps carried by exactly the same proof videos are one finding: the most
specific term is kept (a bigram over a unigram, then the higher H, then fewer matching
videos, then alphabetical) and the others are listed in ``also_terms``. So a bigram
whose two words are gaps on the same proof set is kept and its words folded into it.

Gaps are ordered by score, then proof count (both descending), then term.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

# ``_WORD`` is the word pattern related_terms tokenises titles with: the same tokens here.
from agents.analytics.keywords import _WORD, STOPWORDS, matches_term
from agents.analytics.stats import median
from agents.analytics.video import Video

MIN_AGE_DAYS = 7
MIN_MULTIPLE = 3.0
MIN_PROOF = 2
MIN_CHANNEL_VIDEOS = 5
CHANNELS_FOR_FULL_MARKS = 3
MULTIPLE_LOG10_FOR_FULL_MARKS = 2.0
RECENCY_DAYS = 365
PROOF_VIDEOS_LISTED = 5
PROOF_IDS_LISTED = 10
HIT_RATE_PRIOR = 2
WEIGHT_CHANNELS = 0.35
WEIGHT_MULTIPLE = 0.25
WEIGHT_HIT_RATE = 0.25
WEIGHT_RECENCY = 0.15

SCORE_FORMULA = (
    "score = round(100 * (0.35*C + 0.25*M + 0.25*H + 0.15*R)); C = min(1, proof channels / 3); "
    "M = min(1, mean(log10(multiple of the channel median)) over the proof videos / 2); "
    "H = proof videos / (competitors' mature videos with the term + 2); "
    "R = mean over the proof videos of max(0, 1 - age_days / 365)"
)
TOPIC_METHOD = (
    "terms = unigrams and bigrams of each title and tag (casefolded words of 3+ characters, "
    "no stopwords, no all-digit words, no stemming); a gap is a term at least {min_proof} "
    "outlier videos carry and no own video uses (its terms, whole words in title or tags, "
    "or the same words up to a plural 's'); gaps with the same proof videos are merged "
    "into the most specific term"
)
OUTLIER_RULE = (
    "an outlier is a competitor video at least {min_age_days} days old with views >= "
    "{min_multiple:g} x its channel's median views over such videos; channels with fewer "
    "than {min_channel_videos} of them are skipped"
)

_FILLER = """about above after again against also among around back because been before being
    below between both could each even ever every first get gets getting got had has have
    here into just like make makes many much new next now off once one only other over own
    part really same should some still such them their there these they thing things those
    three through two under until upon very want way ways well were while would"""
FILLER_WORDS = frozenset(_FILLER.split())

TermKind = Literal["word", "phrase"]
ChannelStatus = Literal["analysed", "skipped"]


@dataclass(frozen=True, kw_only=True)
class ChannelVideos:
    """One channel's uploads with where and when its statistics were read."""

    channel_id: str
    channel_title: str
    videos: Sequence[Video]
    as_of: datetime
    source: str


class CompetitorBaseline(BaseModel):
    """A competitor channel's median, or why it was skipped (``median_views`` None)."""

    model_config = ConfigDict(frozen=True)

    channel_id: str
    channel_title: str
    source: str
    as_of: datetime
    videos: int
    mature_videos: int
    median_views: float | None
    outliers: int
    status: ChannelStatus
    skip_reason: str | None


class OwnChannel(BaseModel):
    model_config = ConfigDict(frozen=True)

    channel_id: str
    channel_title: str
    source: str
    videos: int
    terms: int


class ProofVideo(BaseModel):
    model_config = ConfigDict(frozen=True)

    video_id: str
    title: str
    channel_id: str
    channel_title: str
    published_at: datetime
    age_days: float
    views: int
    channel_median_views: float
    multiple: float
    url: str


class ScoreComponents(BaseModel):
    model_config = ConfigDict(frozen=True)

    channels: float
    multiple: float
    hit_rate: float
    recency: float


class Gap(BaseModel):
    model_config = ConfigDict(frozen=True)

    topic: str
    kind: TermKind
    score: int
    score_components: ScoreComponents
    proof_count: int
    proof_channels: int
    proof_channel_titles: list[str]
    matching_videos: int
    hit_rate: float
    geometric_mean_multiple: float
    also_terms: list[str]
    sample: str
    proof_video_ids: list[str]
    proof_videos: list[ProofVideo]


class GapReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    min_multiple: float
    min_age_days: int
    min_proof: int
    min_channel_videos: int
    outlier_rule: str
    topic_method: str
    score_formula: str
    own: OwnChannel
    competitors: list[CompetitorBaseline]
    channels_analysed: int
    channels_skipped: int
    mature_videos: int
    outlier_videos: int
    base_outlier_rate: float | None
    candidate_topics: int
    covered_by_own: int
    gaps_found: int
    gaps_listed: int
    gaps: list[Gap]
    reason: str | None


def _usable(word: str) -> str:
    if len(word) < 3 or word.isdigit() or word in STOPWORDS or word in FILLER_WORDS:
        return ""
    return word


def text_terms(text: str) -> set[str]:
    """The unigrams and bigrams of one title or tag (see the module docstring)."""
    words = [_usable(w.strip("'")) for w in _WORD.findall(text.casefold())]
    terms = {w for w in words if w}
    terms.update(f"{a} {b}" for a, b in itertools.pairwise(words) if a and b)
    return terms


def video_terms(video: Video) -> frozenset[str]:
    """A video's terms: those of its title and of each of its tags."""
    terms: set[str] = set()
    for text in (video.title, *video.tags):
        terms |= text_terms(text)
    return frozenset(terms)


def _singular(term: str) -> str:
    return " ".join(
        w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w
        for w in term.split()
    )


class OwnCoverage:
    """What the own channel has covered: ``uses(term)`` is the module docstring's rule."""

    def __init__(self, videos: Sequence[Video]) -> None:
        self.videos = list(videos)
        self.terms: frozenset[str] = frozenset().union(*(video_terms(v) for v in self.videos))
        self._singulars = frozenset(_singular(t) for t in self.terms)
        # matches_term runs only where the words occur at all (a cheap substring check).
        self._text = "\n".join(
            " ".join(text.casefold().split()) for v in self.videos for text in (v.title, *v.tags)
        )

    def uses(self, term: str) -> bool:
        if term in self.terms or _singular(term) in self._singulars:
            return True
        if term not in self._text:
            return False
        return any(matches_term(video, term) for video in self.videos)


def youtube_url(video_id: str) -> str:
    return f"https://www.youtube.com/watch?v={video_id}"


def _age_days(video: Video, as_of: datetime) -> float:
    return (as_of - video.published_at).total_seconds() / 86_400


@dataclass(frozen=True)
class _Outlier:
    video: Video
    channel: ChannelVideos
    median: float
    multiple: float
    age_days: float


def _baseline(
    channel: ChannelVideos, *, min_age_days: int, min_multiple: float, min_channel_videos: int
) -> tuple[CompetitorBaseline, list[Video], list[_Outlier]]:
    cutoff = channel.as_of - timedelta(days=min_age_days)
    mature = [v for v in channel.videos if v.published_at <= cutoff]
    base = CompetitorBaseline(
        channel_id=channel.channel_id,
        channel_title=channel.channel_title,
        source=channel.source,
        as_of=channel.as_of,
        videos=len(channel.videos),
        mature_videos=len(mature),
        median_views=None,
        outliers=0,
        status="skipped",
        skip_reason=None,
    )
    if len(mature) < min_channel_videos:
        reason = (
            f"{len(mature)} video(s) at least {min_age_days} days old of {len(channel.videos)}; "
            f"a median needs at least {min_channel_videos}"
        )
        return base.model_copy(update={"skip_reason": reason}), [], []
    middle = median([float(v.views) for v in mature])
    assert middle is not None  # mature is non-empty here
    if middle <= 0:
        reason = f"median views of its {len(mature)} mature videos is 0"
        return base.model_copy(update={"skip_reason": reason}), [], []
    outliers = [
        _Outlier(
            video=v,
            channel=channel,
            median=middle,
            multiple=v.views / middle,
            age_days=_age_days(v, channel.as_of),
        )
        for v in mature
        if v.views >= min_multiple * middle
    ]
    analysed = base.model_copy(
        update={"median_views": middle, "outliers": len(outliers), "status": "analysed"}
    )
    return analysed, mature, outliers


def _proof(outlier: _Outlier) -> ProofVideo:
    video = outlier.video
    return ProofVideo(
        video_id=video.video_id,
        title=video.title,
        channel_id=outlier.channel.channel_id,
        channel_title=outlier.channel.channel_title,
        published_at=video.published_at,
        age_days=outlier.age_days,
        views=video.views,
        channel_median_views=outlier.median,
        multiple=outlier.multiple,
        url=youtube_url(video.video_id),
    )


def _score(proofs: Sequence[_Outlier], *, matching: int) -> tuple[int, ScoreComponents]:
    ordered = sorted(proofs, key=lambda o: o.video.video_id)  # sums independent of input order
    channels = len({o.channel.channel_id for o in ordered})
    log_mean = math.fsum(math.log10(o.multiple) for o in ordered) / len(ordered)
    components = ScoreComponents(
        channels=min(1.0, channels / CHANNELS_FOR_FULL_MARKS),
        multiple=min(1.0, max(0.0, log_mean / MULTIPLE_LOG10_FOR_FULL_MARKS)),
        hit_rate=len(ordered) / (matching + HIT_RATE_PRIOR),
        recency=math.fsum(max(0.0, 1 - o.age_days / RECENCY_DAYS) for o in ordered) / len(ordered),
    )
    total = (
        WEIGHT_CHANNELS * components.channels
        + WEIGHT_MULTIPLE * components.multiple
        + WEIGHT_HIT_RATE * components.hit_rate
        + WEIGHT_RECENCY * components.recency
    )
    return max(0, min(100, round(100 * total))), components


def _gap(term: str, proofs: Sequence[_Outlier], *, matching: int, channels_analysed: int) -> Gap:
    score, components = _score(proofs, matching=matching)
    ranked = sorted(proofs, key=lambda o: (-o.multiple, o.video.video_id))
    titles = sorted({o.channel.channel_title for o in proofs}, key=str.casefold)
    channels = len({o.channel.channel_id for o in proofs})
    log_mean = math.fsum(math.log10(o.multiple) for o in ranked) / len(ranked)
    return Gap(
        topic=term,
        kind="phrase" if " " in term else "word",
        score=score,
        score_components=components,
        proof_count=len(proofs),
        proof_channels=channels,
        proof_channel_titles=titles,
        matching_videos=matching,
        hit_rate=len(proofs) / matching,
        geometric_mean_multiple=10**log_mean,
        also_terms=[],
        sample=(
            f"{len(proofs)} outlier(s) among {matching} mature competitor video(s) with "
            f"{term!r}, from {channels} of {channels_analysed} analysed competitor channel(s)"
        ),
        proof_video_ids=[o.video.video_id for o in ranked[:PROOF_IDS_LISTED]],
        proof_videos=[_proof(o) for o in ranked[:PROOF_VIDEOS_LISTED]],
    )


def _specificity(gap: Gap) -> tuple[bool, float, int, str]:
    return (gap.kind != "phrase", -gap.hit_rate, gap.matching_videos, gap.topic)


def _merge_same_proofs(gaps: Iterable[Gap], proof_sets: dict[str, frozenset[str]]) -> list[Gap]:
    groups: dict[frozenset[str], list[Gap]] = defaultdict(list)
    for gap in gaps:
        groups[proof_sets[gap.topic]].append(gap)
    merged = []
    for members in groups.values():
        members.sort(key=_specificity)
        kept, *others = members
        merged.append(kept.model_copy(update={"also_terms": sorted(g.topic for g in others)}))
    return merged


def competitor_gaps(
    *,
    own: ChannelVideos,
    competitors: Sequence[ChannelVideos],
    min_multiple: float = MIN_MULTIPLE,
    min_age_days: int = MIN_AGE_DAYS,
    min_proof: int = MIN_PROOF,
    min_channel_videos: int = MIN_CHANNEL_VIDEOS,
    limit: int = 10,
) -> GapReport:
    """Topics competitors' outlier videos share that the own channel has not covered."""
    if min_multiple < 1:
        raise ValueError("min_multiple must be at least 1 (an outlier beats the median)")
    if min_age_days < 0 or min_proof < 1 or min_channel_videos < 1 or limit < 0:
        raise ValueError("min_age_days >= 0, min_proof >= 1, min_channel_videos >= 1, limit >= 0")
    for channel in (own, *competitors):
        if channel.as_of.tzinfo is None:
            raise ValueError("as_of must be timezone-aware (UTC)")
    baselines: list[CompetitorBaseline] = []
    mature: list[Video] = []
    outliers: list[_Outlier] = []
    for channel in competitors:
        baseline, channel_mature, channel_outliers = _baseline(
            channel,
            min_age_days=min_age_days,
            min_multiple=min_multiple,
            min_channel_videos=min_channel_videos,
        )
        baselines.append(baseline)
        mature += channel_mature
        outliers += channel_outliers
    baselines.sort(key=lambda b: (b.channel_title.casefold(), b.channel_id))
    analysed = sum(b.status == "analysed" for b in baselines)

    carried: dict[str, list[_Outlier]] = defaultdict(list)
    for outlier in outliers:
        for term in video_terms(outlier.video):
            carried[term].append(outlier)
    candidates = {term: found for term, found in carried.items() if len(found) >= min_proof}
    coverage = OwnCoverage(own.videos)
    open_terms = {term: found for term, found in candidates.items() if not coverage.uses(term)}
    matching: dict[str, int] = dict.fromkeys(open_terms, 0)
    for video in mature:
        for term in video_terms(video) & open_terms.keys():
            matching[term] += 1
    gaps = [
        _gap(term, found, matching=matching[term], channels_analysed=analysed)
        for term, found in open_terms.items()
    ]
    proof_sets = {
        term: frozenset(o.video.video_id for o in found) for term, found in open_terms.items()
    }
    gaps = _merge_same_proofs(gaps, proof_sets)
    gaps.sort(key=lambda g: (-g.score, -g.proof_count, g.topic))

    reason = None
    if not competitors:
        reason = "no competitor channel was given"
    elif not analysed:
        reason = "every competitor channel was skipped (see competitors[].skip_reason)"
    elif not outliers:
        reason = f"no competitor video reached {min_multiple:g}x its channel's median"
    elif not candidates:
        reason = f"no term is carried by at least {min_proof} outlier videos"
    elif not gaps:
        reason = (
            f"the own channel already uses every term that {min_proof}+ outliers carry "
            f"({len(candidates)} term(s))"
        )
    listed = gaps[:limit]
    return GapReport(
        min_multiple=min_multiple,
        min_age_days=min_age_days,
        min_proof=min_proof,
        min_channel_videos=min_channel_videos,
        outlier_rule=OUTLIER_RULE.format(
            min_age_days=min_age_days,
            min_multiple=min_multiple,
            min_channel_videos=min_channel_videos,
        ),
        topic_method=TOPIC_METHOD.format(min_proof=min_proof),
        score_formula=SCORE_FORMULA,
        own=OwnChannel(
            channel_id=own.channel_id,
            channel_title=own.channel_title,
            source=own.source,
            videos=len(own.videos),
            terms=len(coverage.terms),
        ),
        competitors=baselines,
        channels_analysed=analysed,
        channels_skipped=len(baselines) - analysed,
        mature_videos=len(mature),
        outlier_videos=len(outliers),
        base_outlier_rate=len(outliers) / len(mature) if mature else None,
        candidate_topics=len(candidates),
        covered_by_own=len(candidates) - len(open_terms),
        gaps_found=len(gaps),
        gaps_listed=len(listed),
        gaps=listed,
        reason=reason,
    )


__all__ = [
    "ChannelVideos",
    "CompetitorBaseline",
    "Gap",
    "GapReport",
    "OwnChannel",
    "OwnCoverage",
    "ProofVideo",
    "ScoreComponents",
    "competitor_gaps",
    "text_terms",
    "video_terms",
]
