"""Sanitising, the duplicate hash and the near-duplicate test."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from backend.factoids.text import (
    MAX_FACTOID_CHARS,
    is_near_duplicate,
    normalise,
    sanitise,
    similarity,
    streamable,
    text_hash,
)


def test_html_is_stripped_and_entities_decoded():
    raw = '<p>Saturn <b>could</b> float&nbsp;in water &amp; <a href="x">so</a> on</p>'
    assert sanitise(raw) == "Saturn could float in water & so on"


def test_scripts_and_escaped_tags_are_removed_with_their_content():
    assert sanitise("Mars<script>alert(1)</script> is red") == "Mars is red"
    assert sanitise("&lt;i&gt;Venus&lt;/i&gt; spins backwards") == "Venus spins backwards"


def test_markdown_is_stripped():
    raw = "## Fact\n\n**Octopuses** have _three_ hearts, see [this](https://example.com) `now`"
    assert sanitise(raw) == "Fact Octopuses have three hearts, see this now"
    assert sanitise("- one\n- two\n> quoted") == "one two quoted"
    assert sanitise("snake_case_name stays") == "snake_case_name stays"


def test_whitespace_collapses_and_wrapping_quotes_go():
    assert sanitise('  "The   Moon\n\n\tdrifts\x07 away"  ') == "The Moon drifts away"


def test_long_text_is_capped_at_a_word_with_an_ellipsis():
    text = sanitise("word " * 100)
    assert len(text) <= MAX_FACTOID_CHARS
    assert text.endswith("word…")
    assert sanitise("x" * 500).endswith("…") and len(sanitise("x" * 500)) == MAX_FACTOID_CHARS


@given(st.text(max_size=1200))
def test_sanitised_text_is_always_plain_one_line_and_capped(raw):
    text = sanitise(raw)
    assert len(text) <= MAX_FACTOID_CHARS
    assert not re.search(r"<[^>]*>", text)
    assert "\n" not in text and "  " not in text
    assert text == text.strip()


def test_streamable_holds_back_unfinished_markup():
    assert streamable("Saturn <b") == "Saturn"
    assert streamable("Saturn <b>could") == "Saturn could"
    assert streamable("See [the ring") == "See"
    assert streamable("Fish &am") == "Fish"


def test_hash_ignores_case_punctuation_accents_and_spacing():
    assert normalise("  Café, au LAIT!  ") == "cafe au lait"
    assert text_hash("The Sun is a star.") == text_hash("the sun   is a STAR")
    assert text_hash("The Sun is a star.") != text_hash("The Sun is a planet.")


def test_near_duplicates_at_ninety_percent_similarity():
    a = "Light from the Sun takes about eight minutes to reach Earth."
    b = "Light from the Sun takes about 8 minutes to reach the Earth."
    assert similarity(a, b) >= 0.9
    assert is_near_duplicate(a, b)
    assert not is_near_duplicate(a, "Jupiter has the shortest day of all the planets.")
