"""Hashtags measured on real text and videos, plus clearly marked model suggestions.

The videos are the corpus the keyword tool uses (the client's own and competitor
channels), with the same minimum sample: averages need at least
``MIN_MATCHING_VIDEOS`` videos using the tag (``agents.analytics.hashtags``). Every
hashtag of a given ``text`` is reported, whatever ``count`` is: ``count`` bounds the
corpus's tags and the model's suggestions, never what the creator wrote.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from agents.analytics.hashtags import extract_hashtags, hashtag_stats
from agents.analytics.keywords import MIN_MATCHING_VIDEOS, Sample, sample_of
from agents.prompts import (
    HASHTAG_SUGGESTIONS_PROMPT,
    HASHTAG_SUGGESTIONS_REQUEST,
    QUOTED_DATA_RULE,
    quoted_data,
)
from agents.tools._corpus import channel_roles, corpus_note
from agents.tools._sources import corpus_source
from agents.tools.base import ToolContext, ToolCost, agent_tool

MAX_VIDEO_IDS = 5
GIVEN_TEXT = "the text given to the tool"
METHODS = {
    "usage_count": "videos in the corpus using the tag in their title or description "
    "(a video counts once), or its occurrences in the given text",
    "average_views": f"mean views of those videos; null below {MIN_MATCHING_VIDEOS} videos",
    "average_engagement_rate": "mean (likes + comments) / views of those videos; null below "
    f"{MIN_MATCHING_VIDEOS} videos",
}


class HashtagsArgs(BaseModel):
    topic: str = Field(description="What the video is about.")
    text: str | None = Field(
        default=None,
        description="A title, caption or description whose hashtags to count, if any.",
    )
    platform: Literal["youtube", "shorts", "tiktok", "instagram"] = Field(
        default="youtube", description="Where the video will be posted."
    )
    count: int = Field(default=10, ge=1, le=30, description="How many hashtags to return.")


class Hashtag(BaseModel):
    tag: str = Field(description="With the leading #, in its most used spelling.")
    suggested: bool = Field(description="True: proposed by the model, never measured.")
    found_in: Literal["videos", "text", "model"]
    usage_count: int | None = Field(
        description="Videos using it (found_in=videos) or occurrences in the given text."
    )
    channels_using: int | None = Field(
        default=None, description="Channels with a video using it (found_in=videos)."
    )
    average_views: float | None
    average_engagement_rate: float | None = Field(description="(likes + comments) / views.")
    sample: Sample | None = Field(
        default=None, description="The videos and channels the averages were computed on."
    )
    reason: str | None = Field(default=None, description="Why the averages are null.")
    video_ids: list[str] = Field(default_factory=list, description=f"Up to {MAX_VIDEO_IDS}.")
    text_occurrences: int | None = Field(
        default=None, description="Times it occurs in the given text, when a text was given."
    )
    source: str | None = Field(description="Where the numbers come from; None for suggestions.")


class HashtagsOutput(BaseModel):
    topic: str
    platform: str
    videos_analyzed: int
    source: str
    corpus: Sample = Field(description="The corpus: videos and channels, own and competitor.")
    corpus_note: str | None = Field(
        description="What is missing from the corpus, and how to add it, when something is."
    )
    methods: dict[str, str]
    hashtags: list[Hashtag] = Field(description="Measured first (most used first), then suggested.")
    suggestions_note: str | None = Field(
        description="Why there are no model suggestions, when there are none."
    )


def _counted_in_text(text: str) -> list[Hashtag]:
    """Hashtags of ``text``, case-insensitively, with their number of occurrences."""
    spellings: dict[str, dict[str, int]] = {}
    for tag in extract_hashtags(text):
        counts = spellings.setdefault(tag.casefold(), {})
        counts[tag] = counts.get(tag, 0) + 1
    found = [
        Hashtag(
            tag="#" + max(counts, key=lambda s: counts[s]),
            suggested=False,
            found_in="text",
            usage_count=sum(counts.values()),
            average_views=None,
            average_engagement_rate=None,
            text_occurrences=sum(counts.values()),
            source=GIVEN_TEXT,
        )
        for counts in spellings.values()
    ]
    return sorted(found, key=lambda h: (-(h.usage_count or 0), h.tag.casefold()))


def _valid_suggestion(raw: object) -> str | None:
    if not isinstance(raw, str):
        return None
    # The whole suggestion must be one hashtag: "not a tag!" is not "#not".
    bare = raw.strip().removeprefix("#")
    return bare if extract_hashtags(f"#{bare}") == [bare] else None


@agent_tool(args=HashtagsArgs, output=HashtagsOutput, cost=ToolCost(model_calls=1))
async def hashtags(args: HashtagsArgs, ctx: ToolContext) -> HashtagsOutput:
    """Hashtags for a video: the ones videos on the creator's own and competitor channels
    about the topic actually use, with how many videos and channels use each and those
    videos' average views and engagement (null with a reason when under 5 videos use it),
    plus every hashtag in a text you pass, then a few model suggestions marked
    "suggested" with no numbers. Use when a creator asks for hashtags or # tags."""
    ctx.progress(done=0, total=3, message="Collecting videos on the topic")
    data = ctx.context.deps.data
    corpus = await data.corpus_videos(args.topic)
    workspace = await data.workspace()
    roles = channel_roles(workspace)
    corpus_sample = sample_of(corpus, roles)
    by_id = {v.video_id: v for v in corpus}
    source = corpus_source(data)
    ctx.progress(done=1, total=3, message=f"Reading hashtags of {len(corpus)} videos")
    measured = [
        Hashtag(
            tag=f"#{stat.tag}",
            suggested=False,
            found_in="videos",
            usage_count=stat.count,
            channels_using=stat.channels,
            average_views=stat.average_views,
            average_engagement_rate=stat.average_engagement_rate,
            sample=sample_of([by_id[i] for i in stat.video_ids], roles),
            reason=stat.reason,
            video_ids=stat.video_ids[:MAX_VIDEO_IDS],
            source=f"{source}: titles and descriptions of {len(corpus)} videos",
        )
        for stat in hashtag_stats(corpus)
    ][: args.count]
    if args.text is not None:
        in_text = {h.tag.casefold(): h for h in _counted_in_text(args.text)}
        measured = [
            h.model_copy(
                update={"text_occurrences": in_text.pop(h.tag.casefold()).text_occurrences}
            )
            if h.tag.casefold() in in_text
            else h.model_copy(update={"text_occurrences": 0})
            for h in measured
        ]
        measured += in_text.values()

    ctx.progress(done=2, total=3, message="Asking for suggestions")
    reply, note = await ctx.try_model_json(
        tool_name="hashtags",
        system=HASHTAG_SUGGESTIONS_PROMPT.format(
            count=args.count, quoted_data_rule=QUOTED_DATA_RULE
        ),
        request=HASHTAG_SUGGESTIONS_REQUEST.format(
            topic=args.topic,
            platform=args.platform,
            quoted_hashtags=quoted_data((h.tag for h in measured), label="hashtags in use"),
            quoted_titles=quoted_data((v.title for v in corpus[:15]), label="video titles"),
        ),
    )
    suggested: list[Hashtag] = []
    if reply is not None:
        raw = reply.get("hashtags")
        seen = {h.tag.casefold() for h in measured}
        for item in raw if isinstance(raw, list) else []:
            tag = _valid_suggestion(item)
            if tag is None or f"#{tag}".casefold() in seen:
                continue
            seen.add(f"#{tag}".casefold())
            suggested.append(
                Hashtag(
                    tag=f"#{tag}",
                    suggested=True,
                    found_in="model",
                    usage_count=None,
                    average_views=None,
                    average_engagement_rate=None,
                    source=None,
                )
            )
        if not suggested:
            note = "the model suggested no new hashtag"
    ctx.progress(done=3, total=3, message=f"{len(measured)} measured, {len(suggested)} suggested")
    return HashtagsOutput(
        topic=args.topic,
        platform=args.platform,
        videos_analyzed=len(corpus),
        source=source,
        corpus=corpus_sample,
        corpus_note=corpus_note(
            workspace=workspace,
            corpus=corpus_sample,
            topic=args.topic,
            what="hashtags",
            few_channels="comparing with what others in the niche use needs",
        ),
        methods=METHODS,
        hashtags=measured + suggested[: args.count],
        suggestions_note=note,
    )
