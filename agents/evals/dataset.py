"""Creator requests with the tools a good agent would call for them.

Written before the offline planner was tuned, phrased the way creators type (typos,
slang, run-on asks, several questions at once). Do not edit cases to fit a planner:
a planner that misses one should score lower.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, kw_only=True)
class EvalCase:
    request: str
    expected_tools: frozenset[str]
    # What a good agent passes: tool → argument → text its value must contain (case and
    # spacing ignored). Only the arguments the request pins down are listed.
    expected_args: dict[str, dict[str, str]] = field(default_factory=dict)


def _case(request: str, *tools: str, args: dict[str, dict[str, str]] | None = None) -> EvalCase:
    return EvalCase(request=request, expected_tools=frozenset(tools), expected_args=args or {})


CASES: tuple[EvalCase, ...] = (
    # content ideas
    _case(
        "give me 5 video ideas for my home espresso channel",
        "content_ideas",
        args={"content_ideas": {"topic": "espresso"}},
    ),
    _case("im stuck, what should i film next? i do budget van life stuff", "content_ideas"),
    _case("Brainstorm a series for a beginner woodworking channel", "content_ideas"),
    _case("need fresh content ideas for sourdough baking shorts", "content_ideas"),
    _case("what kind of videos could I make about urban gardening on a balcony?", "content_ideas"),
    _case("Suggest some video topics for a retro gaming channel pls", "content_ideas"),
    # keyword research
    _case("what keywords should I target for my espresso grinder review", "keyword_research"),
    _case("SEO help: how do people search for beginner calisthenics?", "keyword_research"),
    _case("find me search terms that rank for budget travel japan", "keyword_research"),
    _case(
        "keyword research for a video on mechanical keyboards",
        "keyword_research",
        args={"keyword_research": {"topic": "mechanical keyboard"}},
    ),
    _case(
        "which words should be in my title so people find my vegan meal prep video",
        "keyword_research",
    ),
    # hashtags
    _case("hashtags for my latte art short", "hashtags", args={"hashtags": {"topic": "latte art"}}),
    _case("what # tags should i put on a fly fishing tutorial", "hashtags"),
    _case("Give me some trending hashtags for home workouts", "hashtags"),
    _case("best hashtags to use for a cozy gaming stream highlight?", "hashtags"),
    # factoids
    _case(
        "tell me a fun fact about coffee I can open my video with",
        "factoid",
        args={"factoid": {"topic": "coffee"}},
    ),
    _case("any interesting trivia about sourdough for a short?", "factoid"),
    _case("did you know style fact about mechanical keyboards please", "factoid"),
    _case("I need a surprising stat about van life for my intro", "factoid"),
    # channel outliers
    _case("which of my videos are outliers?", "channel_outliers"),
    _case("analyze my channel, what are my best performing videos", "channel_outliers"),
    _case("why did some of my uploads blow up compared to the rest?", "channel_outliers"),
    _case(
        "show me videos that overperformed on channel UCespresso01",
        "channel_outliers",
        args={"channel_outliers": {"channel": "UCespresso01"}},
    ),
    _case("what are my breakout hits and my flops", "channel_outliers"),
    # upload streak
    _case("am I uploading consistently?", "upload_streak"),
    _case("whats my current upload streak", "upload_streak"),
    _case("how often have I been posting lately? be honest", "upload_streak"),
    _case("check my upload schedule, i think i fell off", "upload_streak"),
    # viral score
    _case('how viral is this title: "I tried every espresso machine under $100"', "viral_score"),
    _case('rate my hook: "you have been making coffee wrong your whole life"', "viral_score"),
    _case(
        'will "10 sourdough mistakes beginners make" go viral?',
        "viral_score",
        args={"viral_score": {"text": "10 sourdough mistakes beginners make"}},
    ),
    _case(
        'score this title for youtube shorts: "the $5 mod that fixed my keyboard"', "viral_score"
    ),
    # several at once
    _case("ideas and hashtags for a home espresso channel", "content_ideas", "hashtags"),
    _case(
        "give me video ideas for vegan meal prep and the keywords to target",
        "content_ideas",
        "keyword_research",
    ),
    _case(
        "analyze my channel's outliers and tell me if I'm uploading consistently",
        "channel_outliers",
        "upload_streak",
    ),
    _case(
        'score my title "I built a desk from one sheet of plywood" and suggest hashtags for it',
        "viral_score",
        "hashtags",
    ),
    _case(
        "I need a fun fact about bees and a few video ideas for my beekeeping channel",
        "factoid",
        "content_ideas",
    ),
    _case(
        "keywords + hashtags for a budget camping gear video",
        "keyword_research",
        "hashtags",
    ),
    _case(
        "look at my channel: which videos beat my average, how regular are my uploads, "
        "and what should I make next?",
        "channel_outliers",
        "upload_streak",
        "content_ideas",
    ),
    # thumbnails (added with the thumbnail tool, before its planner rules were tested here)
    _case(
        'make thumbnails for my video "I tried every espresso machine under $100"',
        "thumbnail",
        args={"thumbnail": {"title": "I tried every espresso machine under $100"}},
    ),
    _case("can you design a thumbnail for my sourdough starter video?", "thumbnail"),
    _case(
        "I need 2 cover image options for “Van life on $500 a month”",
        "thumbnail",
        args={"thumbnail": {"title": "Van life on $500 a month"}},
    ),
    # no tool needed
    _case("hey!"),
    _case("thanks, that was really helpful"),
    _case("what can you do?"),
    _case("who won the world cup in 2018?"),
)
