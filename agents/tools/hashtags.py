from __future__ import annotations

import re
from collections import Counter
from typing import Literal

from pydantic import BaseModel, Field

from agents.tools._text import content_words
from agents.tools.base import ToolContext, agent_tool

_HASHTAG = re.compile(r"#(\w{2,50})", re.UNICODE)


class HashtagsArgs(BaseModel):
    topic: str = Field(description="What the video is about.")
    platform: Literal["youtube", "shorts", "tiktok", "instagram"] = Field(
        default="youtube", description="Where the video will be posted."
    )
    count: int = Field(default=10, ge=1, le=30, description="How many hashtags to return.")


class HashtagsOutput(BaseModel):
    topic: str
    platform: str
    hashtags: list[str] = Field(description="Hashtags with the leading #, best first.")
    seen_in_corpus: dict[str, int] = Field(description="Hashtag -> corpus videos using it.")


def _extract_hashtags(text: str) -> list[str]:
    try:
        from agents.analytics.hashtags import extract_hashtags
    except ImportError:
        # TODO: use agents.analytics.hashtags.extract_hashtags once it exists.
        return [f"#{tag.lower()}" for tag in _HASHTAG.findall(text)]
    return [f"#{tag.lstrip('#').lower()}" for tag in extract_hashtags(text)]


@agent_tool(args=HashtagsArgs, output=HashtagsOutput)
async def hashtags(args: HashtagsArgs, ctx: ToolContext) -> HashtagsOutput:
    """Suggest hashtags for a video: the ones videos on the same topic actually use (most
    used first) plus ones built from the topic itself. Use when a creator asks for
    hashtags or # tags."""
    ctx.progress(done=0, total=2, message="Collecting videos on the topic")
    corpus = await ctx.context.deps.data.corpus_videos(args.topic)
    ctx.progress(done=1, total=2, message=f"Reading hashtags of {len(corpus)} videos")
    seen: Counter[str] = Counter()
    for video in corpus:
        seen.update(set(_extract_hashtags(f"{video.title}\n{video.description}")))
    topic_words = content_words(args.topic)
    from_topic = ["#" + "".join(topic_words)] if len(topic_words) > 1 else []
    from_topic += [f"#{word}" for word in topic_words]
    if args.platform in ("shorts", "tiktok"):
        from_topic.append("#shorts" if args.platform == "shorts" else "#fyp")
    ranked = [tag for tag, _ in sorted(seen.items(), key=lambda item: (-item[1], item[0]))]
    suggestions = list(dict.fromkeys(ranked + from_topic))[: args.count]
    ctx.progress(done=2, total=2, message=f"{len(suggestions)} hashtags")
    return HashtagsOutput(
        topic=args.topic,
        platform=args.platform,
        hashtags=suggestions,
        seen_in_corpus={tag: seen[tag] for tag in suggestions if seen[tag]},
    )
