"""How the offline model reads a creator's request: which tools, with which arguments.

Plain keyword rules, deterministic. It is not an LLM and does not pretend to be one; it
exists so the product works end to end without an API key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# Each tool's trigger phrases, as regular expressions over the lower-cased request.
INTENT_PATTERNS: dict[str, tuple[str, ...]] = {
    "content_ideas": (
        r"\bideas?\b",
        r"\bbrainstorm",
        r"\bvideo topics?\b",
        r"\bwhat (?:should|could|can) i (?:make|film|shoot|post|record|do) next\b",
        r"\bwhat to (?:make|film|shoot|post) next\b",
        r"\b(?:make|film|shoot|post) next\b",
        r"\bwhat (?:kind of |sort of )?(?:videos|content) (?:could|should|can) i\b",
        r"\bseries (?:for|about|on)\b",
        r"\bcontent plan\b",
    ),
    "keyword_research": (
        r"\bkeywords?\b",
        r"\bseo\b",
        r"\bsearch terms?\b",
        r"\bsearch volume\b",
        r"\bhow (?:do )?people search\b",
        r"\b(?:rank|ranks|ranking) (?:for|on|in)\b",
        r"\bwords? .*\btitle\b.*\bfind\b",
        r"\bpeople find\b",
    ),
    "hashtags": (r"hashtags?", r"#\s*tags?\b", r"\btags? for\b"),
    "factoid": (
        r"\bfacts?\b",
        r"\bfactoids?\b",
        r"\btrivia\b",
        r"\bdid you know\b",
        r"\bstat(?:istic)?s?\b",
    ),
    "channel_outliers": (
        r"\boutliers?\b",
        r"\bover-?perform",
        r"\bunder-?perform",
        r"\bbest[- ]performing\b",
        r"\b(?:analy[sz]e|audit|review|look at) (?:my|this|the) channel\b",
        r"\bchannel analysis\b",
        r"\bblew up\b|\bblow up\b|\bwent viral\b",
        r"\bbreakout\b",
        r"\bflops?\b",
        r"\bbeat (?:my|the) average\b",
        r"\b(?:top|best|worst) (?:videos|uploads)\b",
    ),
    "upload_streak": (
        r"\bstreak\b",
        r"\bconsisten",
        r"\bhow (?:often|regular)",
        r"\bregular(?:ly)?\b",
        r"\b(?:upload|uploading|posting) (?:schedule|frequency|cadence)\b",
        r"\bcadence\b",
        r"\bfell off\b",
    ),
    "viral_score": (
        r"\bviral\b(?!.*\bwent viral\b)",
        r"\b(?:rate|score|judge|grade|rank) (?:my|this|the) (?:title|hook|idea)\b",
        r"\b(?:rate|score|judge|grade) (?:my|this)\b",
        r"\bhook\b",
        r"\bclickbait",
    ),
}

GREETING = re.compile(r"^\s*(?:hi|hey|hello|yo|hiya|good (?:morning|afternoon|evening))\b")
THANKS = re.compile(r"\b(?:thanks|thank you|thx|cheers)\b")

_QUOTED = re.compile(r"[\"“”']([^\"“”]{3,200})[\"“”']")
_CHANNEL_ID = re.compile(r"\b(UC[\w-]{6,})\b")
_TOPIC_LEAD = re.compile(r"\b(?:for|about|on|around|regarding)\s+(.+)", re.IGNORECASE)
# Words that describe the request or the video, not its topic.
_TOPIC_NOISE = frozenset(
    [
        "a",
        "an",
        "the",
        "my",
        "our",
        "me",
        "i",
        "some",
        "any",
        "few",
        "this",
        "that",
        "it",
        "its",
        "please",
        "pls",
        "channel",
        "channels",
        "video",
        "videos",
        "short",
        "shorts",
        "youtube",
        "yt",
        "content",
        "intro",
        "opener",
        "open",
        "start",
        "and",
        "also",
        "plus",
        "+",
        "with",
        "next",
        "idea",
        "ideas",
        "keyword",
        "keywords",
        "hashtags",
        "hashtag",
        "tags",
        "fact",
        "facts",
        "stat",
        "trivia",
        "stuff",
        "thing",
        "things",
        "review",
        "tutorial",
        "highlight",
        "stream",
        "to",
        "target",
        "should",
        "be",
        "in",
        "so",
        "can",
        "use",
    ]
)


@dataclass(frozen=True, kw_only=True)
class PlannedCall:
    name: str
    args: dict[str, Any]


def detect_intents(request: str) -> list[str]:
    """Tools the request asks for, in a stable order."""
    text = request.lower()
    found = [
        name
        for name, patterns in INTENT_PATTERNS.items()
        if any(re.search(pattern, text) for pattern in patterns)
    ]
    # "went viral"/"blew up" is about the channel's past, not a title to score.
    if "viral_score" in found and not _QUOTED.search(request) and "channel_outliers" in found:
        found.remove("viral_score")
    return found


def extract_topic(request: str) -> str:
    without_quotes = _QUOTED.sub(" ", request)
    lead = _TOPIC_LEAD.search(without_quotes)
    candidate = lead.group(1) if lead else without_quotes
    # Stop at the next clause: "... and tell me ...", "... so that ...", "?".
    candidate = re.split(r"[?.!,;:+&]|\b(?:and|plus|also|but)\b", candidate)[0]
    words = [w for w in re.findall(r"[a-z0-9$][a-z0-9'$-]*", candidate.lower())]
    kept = [w for w in words if w not in _TOPIC_NOISE and not w.isdigit()]
    if not kept:
        kept = [w for w in re.findall(r"[a-z]{4,}", request.lower()) if w not in _TOPIC_NOISE]
    return " ".join(kept[:5]) or "your channel"


def extract_quoted_text(request: str) -> str | None:
    match = _QUOTED.search(request)
    if match:
        return match.group(1).strip()
    after_colon = re.search(r"\b(?:title|hook)\s*:\s*(.+)$", request, re.IGNORECASE)
    return after_colon.group(1).strip() if after_colon else None


def extract_platform(request: str) -> str | None:
    text = request.lower()
    if re.search(r"\bshorts?\b", text):
        return "shorts"
    if "tiktok" in text:
        return "tiktok"
    if re.search(r"\b(?:instagram|reels?)\b", text):
        return "instagram"
    return None


def plan_calls(request: str, *, available: set[str]) -> list[PlannedCall]:
    """The tool calls for ``request``; empty when it should be answered directly."""
    topic = extract_topic(request)
    channel = _CHANNEL_ID.search(request)
    platform = extract_platform(request)
    calls: list[PlannedCall] = []
    for name in detect_intents(request):
        if name not in available:
            continue
        args: dict[str, Any]
        if name in ("content_ideas", "keyword_research", "factoid"):
            args = {"topic": topic}
        elif name == "hashtags":
            args = {"topic": topic, "platform": platform or "youtube"}
        elif name in ("channel_outliers", "upload_streak"):
            args = {"channel_id": channel.group(1)} if channel else {}
        else:  # viral_score
            text = extract_quoted_text(request) or topic
            args = {"text": text, "platform": platform}
        calls.append(PlannedCall(name=name, args=args))
    return calls
