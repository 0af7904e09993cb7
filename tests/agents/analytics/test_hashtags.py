from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.analytics.hashtags import extract_hashtags, hashtag_stats
from agents.analytics.keywords import MIN_MATCHING_VIDEOS

from .support import make_video

ascii_tags = st.from_regex(r"[A-Za-z0-9_]{1,20}", fullmatch=True)
unicode_tags = st.text(
    alphabet=st.characters(categories=("Lu", "Ll", "Lo", "Nd")), min_size=1, max_size=12
)
# Plain words never contain '#'; they may hold any other character, punctuation included.
plain_words = st.text(
    alphabet=st.characters(blacklist_characters="#", categories=("L", "N", "P", "S", "Zs")),
    max_size=15,
)
# A separator starts and ends with a non-word character so it neither extends a tag
# nor glues the next '#' to a word.
separators = st.sampled_from([" ", "  ", "\n", ", ", ". ", " (", ") ", " - ", "!\n", " / "])


@given(st.lists(st.tuples(plain_words, separators, ascii_tags | unicode_tags, separators)))
def test_every_generated_hashtag_is_found_in_order(parts) -> None:
    text = ""
    expected = []
    for word, sep_before, tag, sep_after in parts:
        text += word + sep_before + "#" + tag + sep_after
        expected.append(tag)
    assert extract_hashtags(text) == expected


@given(st.lists(plain_words, max_size=10))
def test_no_hashtag_found_where_there_is_no_hash(words: list[str]) -> None:
    assert extract_hashtags(" ".join(words)) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#Python tips #100DaysOfCode", ["Python", "100DaysOfCode"]),
        ("all digits #2024 count", ["2024"]),
        ("no#tag inside words, ##double, # lonely", []),
        ("url https://x.com/page#section and (#ok)", ["ok"]),
        ("#ÜberTipps and #データ分析 and #हिन्दी", ["ÜberTipps", "データ分析", "हिन्दी"]),
        ("#a#b", ["a"]),
        ("#snake_case_tag.", ["snake_case_tag"]),
        ("#Shorts #shorts", ["Shorts", "shorts"]),
    ],
)
def test_examples(text: str, expected: list[str]) -> None:
    assert extract_hashtags(text) == expected


def test_stats_are_case_insensitive_and_count_each_video_once() -> None:
    a = make_video(title="Intro #Python", description="#python #SQL", views=100, likes=10)
    b = make_video(title="Part 2", description="#PYTHON", views=300, likes=0, comments=30)
    more = [
        make_video(title=f"Part {i} #python", views=200, likes=0, comments=0, channel_id="UC_b")
        for i in (3, 4, 5)
    ]
    c = make_video(title="#sql only", views=50, likes=5, comments=0)
    d = make_video(title="nothing here", views=10**6)
    stats = hashtag_stats([a, b, *more, c, d])
    assert [(s.tag, s.count, s.channels) for s in stats] == [("python", 5, 2), ("SQL", 2, 1)]
    python, sql = stats
    # Five videos: the averages are measured.
    assert python.average_views == (100 + 300 + 3 * 200) / 5
    assert python.average_engagement_rate == pytest.approx((11 / 100 + 30 / 300) / 5)
    assert python.video_ids == [a.video_id, b.video_id, *(v.video_id for v in more)]
    assert python.reason is None
    # Two videos: below the minimum, no average (never two videos' numbers as one).
    assert sql.average_views is None and sql.average_engagement_rate is None
    assert sql.reason == "only 2 video(s) use it; averages take at least 5"
    only_titles = hashtag_stats([a, b, c], text_fields=("title",))
    assert {s.tag.casefold(): s.count for s in only_titles} == {"python": 1, "sql": 1}


@given(
    st.lists(st.tuples(st.sampled_from(["#a", "#b", "#a #b", ""]), st.integers(0, 3)), max_size=15)
)
def test_averages_exactly_from_the_minimum(rows: list[tuple[str, int]]) -> None:
    corpus = [make_video(title=t, channel_id=f"UC_{c}") for t, c in rows]
    for stat in hashtag_stats(corpus):
        assert 1 <= stat.channels <= stat.count
        assert (stat.average_views is None) == (stat.count < MIN_MATCHING_VIDEOS)
        assert (stat.reason is None) == (stat.count >= MIN_MATCHING_VIDEOS)


def test_stats_reject_unknown_fields() -> None:
    with pytest.raises(ValueError, match="text_fields"):
        hashtag_stats([], text_fields=("tags",))
