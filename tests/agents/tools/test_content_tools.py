"""content_ideas, keyword_research, hashtags and viral_score: measured numbers come from
agents/analytics, the model only proposes words, and its failures are handled."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agents.analytics.hashtags import hashtag_stats
from agents.analytics.keywords import keyword_metrics
from agents.analytics.seo import seo_score
from agents.analytics.viral import combine_with_model, viral_features
from agents.guard.interface import BudgetExceededError
from agents.sample_data import SAMPLE_NOW, InMemoryAgentData
from tests.agents.conftest import RecordingGuard, make_context
from tests.agents.tools.support import run_tool, scripted_context
from tests.fakes.openai_server import OpenAIServer, Reply


def idea(title: str, **overrides: Any) -> dict[str, Any]:
    return {
        "title": title,
        "hook": "You have been doing it wrong.",
        "main_content": "Three fixes, tested.",
        "cta": "Subscribe for part two.",
        "tags": ["espresso", "home barista"],
        **overrides,
    }


def ideas_reply(*titles: str) -> Reply:
    return Reply(text=json.dumps({"ideas": [idea(t) for t in titles]}))


# -- content_ideas ------------------------------------------------------------------------


async def test_content_ideas_gives_exactly_three_scored_concepts(
    openai_server: OpenAIServer,
) -> None:
    reply = ideas_reply("Espresso at home: 5 fixes", "Espresso grinder guide", "Latte art", "4th")
    context = scripted_context(openai_server, [reply])

    out = await run_tool("content_ideas", {"topic": "espresso"}, context)

    assert out["fallback"] is False and out["fallback_reason"] is None
    assert [c["title"] for c in out["concepts"]] == [
        "Espresso at home: 5 fixes",
        "Espresso grinder guide",
        "Latte art",
    ]
    keywords = out["seo_keywords"]
    assert keywords[0] == "espresso" and len(keywords) > 1  # related terms from the corpus
    for concept in out["concepts"]:
        assert concept["seo_score"] == seo_score(title=concept["title"], keywords=keywords)
        assert set(concept["description"]) == {"hook", "main_content", "cta"}
        assert concept["tags"]
    assert len(openai_server.requests) == 1


async def test_content_ideas_retries_once_after_garbage(openai_server: OpenAIServer) -> None:
    context = scripted_context(
        openai_server, [Reply(text="Sure! Here you go."), ideas_reply("A", "B", "C")]
    )

    out = await run_tool("content_ideas", {"topic": "espresso"}, context)

    assert out["fallback"] is False
    assert [c["title"] for c in out["concepts"]] == ["A", "B", "C"]
    assert len(openai_server.requests) == 2


@pytest.mark.parametrize(
    "bad",
    [
        "not json at all",
        '{"ideas": "three"}',
        json.dumps({"ideas": [idea("only one"), idea("only two")]}),
        json.dumps({"ideas": [idea("A"), idea("B"), idea("C", tags=[])]}),
        json.dumps({"ideas": [idea("A"), idea("B"), idea("C", cta="  ")]}),
    ],
)
async def test_content_ideas_falls_back_after_two_bad_replies(
    openai_server: OpenAIServer, bad: str
) -> None:
    context = scripted_context(openai_server, [Reply(text=bad), Reply(text=bad)])

    out = await run_tool("content_ideas", {"topic": "home espresso"}, context)

    assert out["fallback"] is True
    assert out["fallback_reason"].startswith("attempt 2:")
    assert len(out["concepts"]) == 3
    for concept in out["concepts"]:
        assert concept["title"] and concept["tags"]
        assert all(concept["description"][part] for part in ("hook", "main_content", "cta"))
        assert concept["seo_score"] == seo_score(
            title=concept["title"], keywords=out["seo_keywords"]
        )
    assert len(openai_server.requests) == 2  # one retry, no more


async def test_content_ideas_does_not_hide_a_budget_refusal_behind_a_fallback() -> None:
    context = make_context(guard=RecordingGuard(refuse=True), model_id="test/model")

    with pytest.raises(BudgetExceededError):
        await run_tool("content_ideas", {"topic": "espresso"}, context)


async def test_content_ideas_offline_model_fits_the_shape() -> None:
    out = await run_tool("content_ideas", {"topic": "latte art"}, make_context())

    assert out["fallback"] is False and len(out["concepts"]) == 3


# -- keyword_research ---------------------------------------------------------------------


async def test_keywords_with_no_channels_say_so_and_how_to_add_them(
    openai_server: OpenAIServer,
) -> None:
    reply = Reply(
        text=json.dumps({"primary": ["budget japan"], "long_tail": ["japan on a budget"]})
    )
    context = scripted_context(openai_server, [reply], data=InMemoryAgentData([]))

    out = await run_tool("keyword_research", {"topic": "Budget travel Japan"}, context)

    assert out["videos_analyzed"] == 0
    assert "no channels yet" in out["corpus_note"] and "Channels page" in out["corpus_note"]
    listed = out["primary"] + out["long_tail"]
    assert {k["keyword"] for k in listed} == {
        "budget travel japan",
        "budget japan",
        "japan on a budget",
    }
    for keyword in listed:
        for metric in ("demand_proxy", "competition", "relevance"):
            assert keyword[metric]["value"] is None
            assert keyword[metric]["reason"] == "the corpus is empty"
            assert keyword[metric]["source"]
            assert keyword[metric]["sample"]["videos"] == 0
        assert keyword["youtube"]["status"] == "not sampled"
    assert out["trending"] == [] and out["related_topics"] == []
    assert out["youtube"]["available"] is False and out["youtube"]["units_spent"] == 0


async def test_keyword_numbers_are_measured_never_taken_from_the_model(
    openai_server: OpenAIServer,
) -> None:
    reply = Reply(
        text=json.dumps(
            {
                "primary": ["grinder", "espresso"],
                "long_tail": ["espresso machine under $300", 42],
                "demand_proxy": 999999,
                "competition": 1,
            }
        )
    )
    context = scripted_context(openai_server, [reply])
    data = InMemoryAgentData()
    corpus = await data.corpus_videos("espresso")
    roles = {c.channel_id: c.role for c in (await data.workspace()).channels}

    out = await run_tool("keyword_research", {"topic": "espresso"}, context)

    everything = out["primary"] + out["long_tail"] + out["trending"] + out["related_topics"]
    assert "999999" not in json.dumps(out)
    assert "search_volume" not in json.dumps(out)  # the views proxy is not called searches
    assert {k["keyword"] for k in out["primary"]} == {"espresso", "grinder"}
    assert out["primary"][0]["proposed_by"] in ("topic", "model")
    for keyword in out["primary"] + out["long_tail"] + out["related_topics"]:
        expected = keyword_metrics(
            term=keyword["keyword"],
            videos=corpus,
            as_of=SAMPLE_NOW,
            source="sample corpus",
            roles=roles,
        )
        for name in ("demand_proxy", "competition", "relevance"):
            figure = getattr(expected, name)
            assert keyword[name]["value"] == figure.value
            assert keyword[name]["reason"] == figure.reason
            assert keyword[name]["sample"] == figure.sample.model_dump()
            assert keyword[name]["source"] == expected.source
    # The espresso videos all come from one channel: no competition, said plainly.
    assert out["primary"][0]["competition"]["value"] is None
    assert "at least 3" in out["primary"][0]["competition"]["reason"]
    assert "competitor channels" in out["corpus_note"]
    assert out["related_topics"] and all(
        k["proposed_by"] == "corpus" for k in out["related_topics"]
    )
    assert all(k["demand_proxy"]["value"] is not None for k in out["trending"])
    assert all("last 90 days" in k["demand_proxy"]["source"] for k in out["trending"])
    assert everything and out["model_candidates_note"] is None
    # This data layer cannot search YouTube: every keyword says so.
    assert {k["youtube"]["status"] for k in everything} == {"not sampled"}
    assert out["youtube"]["available"] is False and out["youtube"]["note"]


async def test_keywords_without_the_model_still_measure_the_topic(
    openai_server: OpenAIServer,
) -> None:
    context = scripted_context(openai_server, [Reply(status=400, error_message="bad request")])

    out = await run_tool("keyword_research", {"topic": "espresso"}, context)

    assert out["model_candidates_note"]
    assert out["primary"][0]["keyword"] == "espresso"
    assert out["primary"][0]["demand_proxy"]["value"] is not None


# -- hashtags -----------------------------------------------------------------------------


async def test_hashtags_are_measured_then_suggested_and_marked(
    openai_server: OpenAIServer,
) -> None:
    reply = Reply(text=json.dumps({"hashtags": ["#Espresso", "#crema", "not a tag!", "#crema"]}))
    context = scripted_context(openai_server, [reply])
    corpus = await InMemoryAgentData().corpus_videos("espresso")

    out = await run_tool(
        "hashtags", {"topic": "espresso", "text": "#CREMA time #crema, #crema"}, context
    )

    stats = hashtag_stats(corpus)
    measured = [h for h in out["hashtags"] if h["found_in"] == "videos"]
    assert [(h["tag"], h["usage_count"], h["average_views"]) for h in measured] == [
        (f"#{s.tag}", s.count, s.average_views) for s in stats[:10]
    ]
    assert all(h["suggested"] is False and h["source"] for h in measured)
    from_text = [h for h in out["hashtags"] if h["found_in"] == "text"]
    assert [(h["tag"], h["usage_count"]) for h in from_text] == [("#crema", 3)]
    suggested = [h for h in out["hashtags"] if h["suggested"]]
    # #Espresso is already measured and #crema was in the text: nothing new was suggested.
    assert suggested == []
    assert out["suggestions_note"] == "the model suggested no new hashtag"


async def test_suggested_hashtags_carry_no_numbers() -> None:
    out = await run_tool("hashtags", {"topic": "latte art", "platform": "shorts"}, make_context())

    suggested = [h for h in out["hashtags"] if h["suggested"]]
    assert suggested and out["hashtags"][-1]["suggested"] is True
    for tag in suggested:
        assert tag["found_in"] == "model"
        assert tag["usage_count"] is tag["average_views"] is tag["source"] is None
        assert tag["average_engagement_rate"] is None and tag["video_ids"] == []
    measured = [h for h in out["hashtags"] if not h["suggested"]]
    assert measured and all(h["usage_count"] >= 1 for h in measured)


async def test_hashtags_survive_a_failing_model(openai_server: OpenAIServer) -> None:
    context = scripted_context(openai_server, [Reply(text="Use #espresso and #homebarista.")])

    out = await run_tool("hashtags", {"topic": "espresso"}, context)

    assert not any(h["suggested"] for h in out["hashtags"])
    assert out["suggestions_note"] == "The model did not return JSON."


# -- viral_score --------------------------------------------------------------------------

SCRIPT = (
    "Why does your espresso taste sour? I was making this mistake for 3 years. "
    "One day I changed one thing and it was incredible! Comment your grind size below."
)


async def test_viral_score_blends_a_valid_model_score(openai_server: OpenAIServer) -> None:
    reply = Reply(text=json.dumps({"score": 80, "confidence": 0.6, "assessment": "Strong."}))
    context = scripted_context(openai_server, [reply])

    out = await run_tool("viral_score", {"text": SCRIPT, "platform": "shorts"}, context)

    expected = combine_with_model(viral_features(text=SCRIPT, platform="shorts"), 80, 0.6)
    assert {key: out[key] for key in expected.model_dump(mode="json")} == expected.model_dump(
        mode="json"
    )
    assert out["model_used"] is True and out["model_assessment"] == "Strong."
    assert [i["category"] for i in out["insights"]] == [
        "hook",
        "pacing",
        "emotion",
        "storytelling",
        "cta",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "no json",
        '{"score": 150, "confidence": 0.5}',
        '{"score": "high"}',
        '{"score": 70, "confidence": 3}',
        '{"score": 70.5}',
    ],
)
async def test_viral_score_bad_model_reply_means_features_only(
    openai_server: OpenAIServer, text: str
) -> None:
    context = scripted_context(openai_server, [Reply(text=text)])

    out = await run_tool("viral_score", {"text": SCRIPT}, context)

    expected = viral_features(text=SCRIPT, platform=None).model_dump(mode="json")
    assert {key: out[key] for key in expected} == expected
    assert out["model_used"] is False and out["model_note"]
    assert 0 <= out["score"] <= 100 and 0 <= out["confidence"] <= 1
