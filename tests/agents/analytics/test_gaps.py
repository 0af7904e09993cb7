"""competitor_gaps: baselines, outliers, topics, the own channel's coverage and the score."""

from __future__ import annotations

import math
import random
import statistics
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.analytics.csv_import import UploadsImport, load_uploads_csv
from agents.analytics.gaps import (
    ChannelVideos,
    Gap,
    GapReport,
    competitor_gaps,
    text_terms,
    video_terms,
)
from agents.analytics.keywords import matches_term
from agents.analytics.video import Video
from tests.conftest import SHARED_DATA

from .support import AS_OF, make_video

PATHFINDER = SHARED_DATA / "youtube" / "channel_uploads" / "pathfinder_6ch_video_data.csv"
PATHFINDER_AS_OF = datetime(2023, 6, 15, tzinfo=UTC)  # two days after the last upload


def channel(
    channel_id: str, videos: list[Video], *, as_of: datetime = AS_OF, title: str | None = None
) -> ChannelVideos:
    return ChannelVideos(
        channel_id=channel_id,
        channel_title=title or channel_id.removeprefix("UC_"),
        videos=videos,
        as_of=as_of,
        source="test videos",
    )


def steady(channel_id: str, count: int, *, views: int = 1000, title: str = "Daily vlog"):
    return [
        make_video(channel_id=channel_id, title=f"{title} {i}", views=views, age_days=10 + i)
        for i in range(count)
    ]


def test_terms_are_unigrams_and_bigrams_of_title_and_each_tag() -> None:
    # Stopwords, digits and filler words go, and no bigram spans a dropped word.
    assert text_terms("The 5 BEST Kingmaker builds, ever!") == {
        "best",
        "kingmaker",
        "best kingmaker",
        "builds",
        "kingmaker builds",
    }
    video = make_video(title="Fighter guide", tags=("pathfinder 2e", "tier list"))
    # "2e" is too short; no bigram spans the title and a tag or two tags.
    assert video_terms(video) == {
        "fighter",
        "guide",
        "fighter guide",
        "pathfinder",
        "tier",
        "list",
        "tier list",
    }
    assert "guide pathfinder" not in video_terms(video)


def test_an_outlier_beats_its_own_channels_median_by_the_multiple() -> None:
    big = [
        *steady("UC_big", 9, views=100_000),
        make_video(channel_id="UC_big", title="Kingmaker builds tier list", views=300_000),
        make_video(channel_id="UC_big", title="Kingmaker builds ranked", views=299_999),
    ]
    small = [
        *steady("UC_small", 9, views=1_000),
        make_video(channel_id="UC_small", title="Kingmaker builds for beginners", views=3_000),
    ]
    own = channel("UC_own", steady("UC_own", 3, title="Espresso"))
    report = competitor_gaps(
        own=own, competitors=[channel("UC_big", big), channel("UC_small", small)]
    )

    medians = {b.channel_id: b.median_views for b in report.competitors}
    assert medians == {"UC_big": 100_000, "UC_small": 1_000}
    assert report.outlier_videos == 2  # 299,999 < 3 x 100,000; 3,000 = 3 x 1,000 counts
    top = report.gaps[0]
    assert top.topic == "kingmaker builds"
    assert sorted(top.also_terms) == ["builds", "kingmaker"]  # same proof set: folded in
    assert {p.channel_id for p in top.proof_videos} == {"UC_big", "UC_small"}
    assert [p.multiple for p in top.proof_videos] == [3.0, 3.0]
    assert top.proof_videos[0].url.startswith("https://www.youtube.com/watch?v=")
    assert top.matching_videos == 3 and top.proof_count == 2
    assert "2 outlier(s) among 3" in top.sample and "2 of 2 analysed" in top.sample


def test_young_and_thin_channels_are_skipped_or_left_out_with_reasons() -> None:
    fresh = [make_video(channel_id="UC_a", title="Goblin ancestry guide", views=10**6, age_days=3)]
    thin = steady("UC_thin", 4)
    zero = steady("UC_zero", 6, views=0)
    ok = steady("UC_ok", 6) + fresh
    report = competitor_gaps(
        own=channel("UC_own", []),
        competitors=[channel("UC_thin", thin), channel("UC_zero", zero), channel("UC_ok", ok)],
    )
    by_id = {b.channel_id: b for b in report.competitors}
    assert by_id["UC_thin"].status == "skipped" and by_id["UC_thin"].median_views is None
    assert "4 video(s)" in (by_id["UC_thin"].skip_reason or "")
    assert "is 0" in (by_id["UC_zero"].skip_reason or "")
    assert by_id["UC_ok"].status == "analysed"
    assert by_id["UC_ok"].mature_videos == 6  # the 3-day-old breakout is not mature
    assert report.channels_analysed == 1 and report.channels_skipped == 2
    assert report.gaps == [] and "no competitor video reached 3x" in (report.reason or "")

    nobody = competitor_gaps(own=channel("UC_own", []), competitors=[])
    assert nobody.reason == "no competitor channel was given" and nobody.base_outlier_rate is None
    all_thin = competitor_gaps(own=channel("UC_own", []), competitors=[channel("UC_t", thin)])
    assert "every competitor channel was skipped" in (all_thin.reason or "")


def test_the_own_channel_covers_terms_in_any_video_and_up_to_a_plural() -> None:
    comp = [
        *steady("UC_c", 8),
        make_video(channel_id="UC_c", title="Kingmaker builds: the fighter", views=9_000),
        make_video(channel_id="UC_c", title="More kingmaker builds: fighter", views=8_000),
    ]
    own_videos = [
        # A brand-new upload counts: coverage has no age limit.
        make_video(channel_id="UC_own", title="My kingmaker build", age_days=0.5),
        make_video(channel_id="UC_own", title="Misc", tags=("Fighters",)),
    ]
    report = competitor_gaps(own=channel("UC_own", own_videos), competitors=[channel("UC_c", comp)])
    topics = {g.topic for g in report.gaps} | {t for g in report.gaps for t in g.also_terms}
    assert not topics & {"kingmaker", "builds", "kingmaker builds", "fighter"}
    assert report.covered_by_own == 4
    assert report.reason is not None and "already uses every term" in report.reason

    # "Kingmaker's" is one token, but the title has "kingmaker" as a whole word, which is
    # what keyword_research counts as using it.
    possessive = make_video(channel_id="UC_own", title="Kingmaker's secrets")
    report = competitor_gaps(
        own=channel("UC_own", [possessive]), competitors=[channel("UC_c", comp)]
    )
    assert "kingmaker" not in {g.topic for g in report.gaps} | {
        t for g in report.gaps for t in g.also_terms
    }
    assert "kingmaker builds" in {g.topic for g in report.gaps}


def test_one_channel_scores_below_three_channels_with_the_same_evidence() -> None:
    def comp(channel_id: str, topic: str, breakouts: int) -> ChannelVideos:
        videos = steady(channel_id, 8) + [
            make_video(channel_id=channel_id, title=f"{topic} part {i}", views=5_000, age_days=30)
            for i in range(breakouts)
        ]
        return channel(channel_id, videos)

    report = competitor_gaps(
        own=channel("UC_own", []),
        competitors=[
            comp("UC_a", "Solo topic", 3),
            comp("UC_b", "Shared topic", 1),
            comp("UC_c", "Shared topic", 1),
            comp("UC_d", "Shared topic", 1),
        ],
    )
    by_topic = {g.topic: g for g in report.gaps}
    assert by_topic["shared topic"].score > by_topic["solo topic"].score
    assert by_topic["shared topic"].score_components.channels == 1.0
    assert by_topic["solo topic"].score_components.channels == pytest.approx(1 / 3)


def test_invalid_arguments_are_refused() -> None:
    own = channel("UC_own", [])
    with pytest.raises(ValueError, match="min_multiple"):
        competitor_gaps(own=own, competitors=[], min_multiple=0.5)
    with pytest.raises(ValueError, match="min_proof"):
        competitor_gaps(own=own, competitors=[], min_proof=0)
    naive = ChannelVideos(
        channel_id="x", channel_title="x", videos=[], as_of=datetime(2025, 1, 1), source="s"
    )
    with pytest.raises(ValueError, match="timezone"):
        competitor_gaps(own=own, competitors=[naive])


# -- properties --------------------------------------------------------------------------

WORDS = ["goblin", "kingmaker", "kingmaker's", "fighter", "builds", "wizard", "tier", "list"]
title_text = st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(" ".join)


@st.composite
def gen_video(draw: st.DrawFn, channel_id: str) -> Video:
    return make_video(
        channel_id=channel_id,
        title=draw(title_text),
        tags=tuple(draw(st.lists(title_text, max_size=2))),
        # Heavy-tailed views so that outliers occur, including 0.
        views=draw(st.sampled_from([0, 10, 100, 120, 150, 400, 1_000, 5_000, 50_000])),
        age_days=draw(st.floats(0, 800)),
    )


@st.composite
def workspaces(draw: st.DrawFn) -> tuple[ChannelVideos, list[ChannelVideos]]:
    own = channel("UC_own", draw(st.lists(gen_video("UC_own"), max_size=4)))
    competitors = []
    for index in range(draw(st.integers(0, 4))):
        channel_id = f"UC_c{index}"
        videos = draw(st.lists(gen_video(channel_id), max_size=14))
        # Each competitor read at its own moment.
        as_of = AS_OF - timedelta(days=draw(st.integers(0, 60)))
        competitors.append(channel(channel_id, videos, as_of=as_of))
    return own, competitors


multiples = st.sampled_from([1.0, 1.5, 3.0, 5.0])
proofs = st.integers(1, 3)


def _all_gap_terms(gap: Gap) -> list[str]:
    return [gap.topic, *gap.also_terms]


@given(workspaces(), multiples, proofs)
@settings(max_examples=150, deadline=None)
def test_property_scores_proofs_and_coverage(space, min_multiple, min_proof) -> None:
    own, competitors = space
    report = competitor_gaps(
        own=own, competitors=competitors, min_multiple=min_multiple, min_proof=min_proof
    )
    baselines = {b.channel_id: b for b in report.competitors}
    by_channel = {c.channel_id: c for c in competitors}
    for baseline in report.competitors:
        videos = by_channel[baseline.channel_id].videos
        cutoff = baseline.as_of - timedelta(days=7)
        mature = [v.views for v in videos if v.published_at <= cutoff]
        assert baseline.mature_videos == len(mature)
        if len(mature) < 5 or statistics.median(mature) == 0:
            assert baseline.status == "skipped" and baseline.median_views is None
            assert baseline.skip_reason
        else:
            assert baseline.median_views == pytest.approx(statistics.median(mature))
    seen_proof_sets = set()
    for gap in report.gaps:
        assert 0 <= gap.score <= 100
        parts = gap.score_components
        for value in (parts.channels, parts.multiple, parts.hit_rate, parts.recency):
            assert 0.0 <= value <= 1.0
        expected = 0.35 * parts.channels + 0.25 * parts.multiple + 0.25 * parts.hit_rate
        assert gap.score == round(100 * (expected + 0.15 * parts.recency))
        assert min_proof <= gap.proof_count <= gap.matching_videos
        assert gap.matching_videos == sum(
            gap.topic in video_terms(v)
            for c in competitors
            if baselines[c.channel_id].status == "analysed"
            for v in c.videos
            if v.published_at <= c.as_of - timedelta(days=7)
        )
        assert gap.proof_video_ids[: len(gap.proof_videos)] == [
            p.video_id for p in gap.proof_videos
        ]
        proof_set = frozenset(gap.proof_video_ids)
        assert proof_set not in seen_proof_sets  # identical evidence is one gap
        seen_proof_sets.add(proof_set)
        for proof in gap.proof_videos:
            baseline = baselines[proof.channel_id]
            assert baseline.status == "analysed"
            assert proof.channel_median_views == baseline.median_views
            assert proof.views >= min_multiple * proof.channel_median_views
            assert proof.multiple == pytest.approx(proof.views / proof.channel_median_views)
            assert proof.age_days >= 7
            source = next(
                v for v in by_channel[proof.channel_id].videos if v.video_id == proof.video_id
            )
            assert gap.topic in video_terms(source)
        for term in _all_gap_terms(gap):
            for video in own.videos:
                assert term not in video_terms(video)
                assert not matches_term(video, term)
    scores = [(-g.score, -g.proof_count, g.topic) for g in report.gaps]
    assert scores == sorted(scores)


@given(workspaces(), st.randoms(use_true_random=False))
@settings(max_examples=100, deadline=None)
def test_property_input_order_does_not_matter(space, rnd: random.Random) -> None:
    own, competitors = space
    shuffled = [
        channel(c.channel_id, rnd.sample(list(c.videos), len(c.videos)), as_of=c.as_of)
        for c in rnd.sample(competitors, len(competitors))
    ]
    own_shuffled = channel(own.channel_id, rnd.sample(list(own.videos), len(own.videos)))
    first = competitor_gaps(own=own, competitors=competitors, min_multiple=1.5)
    second = competitor_gaps(own=own_shuffled, competitors=shuffled, min_multiple=1.5)
    assert first == second


@given(workspaces())
@settings(max_examples=60, deadline=None)
def test_property_limit_only_cuts_the_list(space) -> None:
    own, competitors = space
    full = competitor_gaps(own=own, competitors=competitors, min_multiple=1.5, limit=50)
    cut = competitor_gaps(own=own, competitors=competitors, min_multiple=1.5, limit=2)
    assert cut.gaps == full.gaps[:2]
    assert cut.gaps_found == full.gaps_found and cut.gaps_listed == len(cut.gaps)


# -- the Pathfinder sample export ------------------------------------------------------


@cache
def _pathfinder() -> UploadsImport:
    return load_uploads_csv(path=PATHFINDER)


def _pathfinder_report(own_title: str) -> tuple[GapReport, dict[str, ChannelVideos]]:
    channels = {
        c.channel_title: channel(
            c.channel_id, c.videos, as_of=PATHFINDER_AS_OF, title=c.channel_title
        )
        for c in _pathfinder().channels
    }
    own = channels[own_title]
    competitors = [c for title, c in channels.items() if title != own_title]
    return competitor_gaps(own=own, competitors=competitors), channels


needs_pathfinder = pytest.mark.skipif(
    not PATHFINDER.exists(), reason=f"shared data not found at {PATHFINDER}"
)


@needs_pathfinder
def test_pathfinder_gaps_for_frizz() -> None:
    report, channels = _pathfinder_report("Frizz")
    assert report.own.videos == 217
    assert report.channels_analysed == 5 and report.channels_skipped == 0
    # Medians computed independently over the videos at least 7 days old.
    cutoff = PATHFINDER_AS_OF - timedelta(days=7)
    for baseline in report.competitors:
        views = [
            v.views for v in channels[baseline.channel_title].videos if v.published_at <= cutoff
        ]
        assert baseline.median_views == statistics.median(views)
    rules_lawyer = next(b for b in report.competitors if b.channel_title == "The Rules Lawyer")
    assert (rules_lawyer.mature_videos, rules_lawyer.median_views) == (182, 10480.0)

    # The strongest gap: a fighter class video is a breakout on three channels, and Frizz
    # (217 uploads) has none.
    top = report.gaps[0]
    assert top.topic == "fighter class"
    assert top.proof_channel_titles == ["deadly d8", "Nonat1s", "Team Player Gaming"]
    assert [(p.title, p.views) for p in top.proof_videos] == [
        ("The Fighter Class ft. NoNat1s [Pathfinder 2e Animated]", 11026),
        ("FIGHTER CLASS GUIDE - PATHFINDER 2E", 63581),
        ("5 Tricks Every Pathfinder 2e Fighter NEEDS to Know", 1397),  # its tags say it
    ]
    nonat1s = next(b for b in report.competitors if b.channel_title == "Nonat1s")
    assert top.proof_videos[1].multiple == pytest.approx(63581 / nonat1s.median_views)
    assert not any(matches_term(v, "fighter class") for v in channels["Frizz"].videos)
    assert report.gaps_listed == 10 and report.gaps_found > 10


@needs_pathfinder
def test_pathfinder_every_gap_is_absent_from_the_own_channel() -> None:
    report, channels = _pathfinder_report("Nonat1s")
    own = channels["Nonat1s"].videos
    assert report.gaps
    for gap in report.gaps:
        assert gap.proof_count >= 2
        assert all(p.channel_title != "Nonat1s" for p in gap.proof_videos)
        for term in _all_gap_terms(gap):
            assert not any(matches_term(v, term) or term in video_terms(v) for v in own)
        if gap.proof_count == len(gap.proof_videos):  # every proof listed: recompute
            logs = [math.log10(p.multiple) for p in gap.proof_videos]
            assert gap.geometric_mean_multiple == pytest.approx(10 ** (sum(logs) / len(logs)))
