"""The offline answer for keyword research and hashtags: figures named as what they are,
a missing one as n/a with its reason, the corpus note and the YouTube sample stated."""

from __future__ import annotations

import json
from pathlib import Path

from langchain_core.messages import ToolMessage

from agents.offline_writer import answer_from_tool_results

FIXTURES = Path(__file__).resolve().parents[2] / "frontend" / "tests" / "fixtures"


def answer(name: str, output: dict[str, object]) -> str:
    return answer_from_tool_results([ToolMessage(json.dumps(output), tool_call_id="c1", name=name)])


def test_keyword_answer_names_the_proxy_and_the_sample() -> None:
    text = answer("keyword_research", json.loads((FIXTURES / "keyword-research.json").read_text()))

    assert "search volume" not in text.casefold()
    assert (
        "- `power bi` — 264 views/month per matching video (proxy), competition 64/100, "
        "relevance 100% (26 videos); YouTube: about 218 results (estimate), search "
        "competition 88/100, top results earn 306 views/day"
    ) in text
    assert "YouTube search sampled for power bi, power, power bi for beginners" in text
    assert "306 quota units" in text
    # A keyword without data says n/a and, once, why.
    assert "`how to start power bi` — n/a views/month" in text
    assert "- no video among 26 has 'how to start power bi' in its title or tags" in text


def test_keyword_answer_with_no_channels_says_how_to_add_them() -> None:
    empty = {"value": None, "source": "x", "sample": {"videos": 0, "channels": 0}}
    output = {
        "topic": "budget travel",
        "source": "your imported and fetched channels: 0 videos about the topic",
        "corpus_note": "There is no data to measure keywords on: you have no channels yet.",
        "primary": [
            {
                "keyword": "budget travel",
                "matching_videos": 0,
                "demand_proxy": {**empty, "reason": "the corpus is empty"},
                "competition": {**empty, "reason": "the corpus is empty"},
                "relevance": {**empty, "reason": "the corpus is empty"},
                "youtube": {"status": "not sampled", "reason": "not sampled: no key"},
            }
        ],
        "youtube": {"available": False, "note": "YouTube search is not configured."},
    }

    text = answer("keyword_research", output)

    assert "_There is no data to measure keywords on: you have no channels yet._" in text
    assert "_YouTube search: YouTube search is not configured._" in text
    assert text.count("the corpus is empty") == 1


def test_a_result_stored_before_the_rename_still_reads() -> None:
    legacy = {
        "topic": "espresso",
        "source": "sample corpus",
        "primary": [
            {
                "keyword": "espresso",
                "matching_videos": 9,
                "search_volume": {"value": 20000.0, "source": "s"},
                "competition": {"value": 12.0, "source": "s"},
                "relevance": {"value": 0.5, "source": "s"},
            }
        ],
    }
    assert "`espresso` — 20,000 views/month per matching video (proxy), competition 12/100, " in (
        answer("keyword_research", legacy)
    )


def test_hashtag_answer_gives_counts_and_says_why_averages_are_missing() -> None:
    text = answer("hashtags", json.loads((FIXTURES / "hashtags.json").read_text()))

    assert "#PowerBI — used by 15 videos, 5,600 average views" in text
    assert (
        "#DAX — used by 3 videos on 1 channel(s); only 3 video(s) use it; averages take at least 5"
    ) in text
    assert "#newtag — 1x in your text" in text
