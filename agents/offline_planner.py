"""How the offline model reads a creator's request: which tools, with which arguments.

Plain keyword rules, deterministic. It is not an LLM and does not pretend to be one; it
exists so the product works end to end without an API key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
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
    "thumbnail": (
        r"\bthumbnails?\b",
        r"\bthumbs?\b",
        r"\bcover (?:image|art|picture)s?\b",
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
    "competitor_gap": (
        r"\bcompare (?:me|my channel|us|myself|mine)\b",
        r"\bcompetitors?\b",
        r"\bcompetition (?:is|are) doing\b",
        r"\bdoing better than (?:me|us|my channel)\b",
        r"\b(?:content|topic) gaps?\b",
        r"\bgaps? in my\b",
        r"\bwhat (?:am i|are we) missing\b",
    ),
    "video_search": (
        r"\bsearch (?:youtube |for )",
        r"\bfind (?:me )?(?:some )?videos\b",
        r"\bvideos (?:about|on) .+ (?:on youtube|out there)\b",
        r"\blook up videos\b",
    ),
    "list_channels": (
        r"\b(?:list|show|which are|what are) (?:all )?(?:my |the )?channels\b",
        r"\bwhich channels\b",
        r"\bmy workspace\b",
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
        "thumbnail",
        "thumbnails",
        "thumb",
        "cover",
        "make",
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
    # "thumbnail ideas for <a title>": pictures of that title, not new video ideas (nor a
    # score of the title).
    if "thumbnail" in found:
        found = [name for name in found if name not in ("content_ideas", "viral_score")]
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


# "my videos", "our uploads", "how often I post": the creator's own channel. ("show me"
# is not a possessive.)
_MINE = re.compile(r"\b(?:my|mine|our|ours)\b|\bi (?:upload|post|publish)", re.IGNORECASE)
# Channel tools called once per named channel, at most this many channels a request.
MAX_NAMED_CHANNELS = 3


def named_channels(request: str, workspace: Sequence[Mapping[str, Any]]) -> list[str]:
    """Workspace channels the request names (title, name or handle as whole words), in
    the order they appear; a longer name wins over one it contains ("Frizz Shorts" over
    "Frizz")."""
    lowered = request.casefold()
    found: list[tuple[int, int, str]] = []
    for channel in workspace:
        names = {str(channel.get(key) or "") for key in ("name", "title", "handle")}
        handle = str(channel.get("handle") or "")
        names.add(handle.lstrip("@"))
        for name in sorted((n for n in names if len(n) >= 3), key=len, reverse=True):
            match = re.search(rf"(?<![\w@]){re.escape(name.casefold())}(?!\w)", lowered)
            if match:
                found.append((match.start(), match.end(), str(channel["channel"])))
                break
    found.sort(key=lambda item: (item[0], -(item[1] - item[0])))
    chosen: list[tuple[int, int, str]] = []
    for start, end, channel_id in found:
        overlaps = any(start < e and s < end for s, e, _ in chosen)
        if not overlaps and all(c != channel_id for _, _, c in chosen):
            chosen.append((start, end, channel_id))
    return [channel_id for _, _, channel_id in chosen][:MAX_NAMED_CHANNELS]


def _own_ids(workspace: Sequence[Mapping[str, Any]]) -> set[str]:
    return {str(c["channel"]) for c in workspace if c.get("role") == "own"}


def plan_calls(
    request: str, *, available: set[str], workspace: Sequence[Mapping[str, Any]] = ()
) -> list[PlannedCall]:
    """The tool calls for ``request``; empty when it should be answered directly.

    ``workspace`` is the creator's channels as the system prompt lists them: "my …" is the
    primary own channel (``"mine"``), a channel the request names is that channel, and
    "compare me with X" is ``competitor_gap`` between them plus the outliers of both."""
    platform = extract_platform(request)
    named = named_channels(request, workspace)
    if not named:
        match = _CHANNEL_ID.search(request)
        named = [match.group(1)] if match else []
    own = _own_ids(workspace)
    competitors = [c for c in named if c not in own]
    wants_mine = bool(_MINE.search(request))
    topic = extract_topic(_without_names(request, workspace))
    calls: list[PlannedCall] = []
    intents = detect_intents(request)
    for name in intents:
        if name not in available:
            continue
        if name in ("content_ideas", "keyword_research", "factoid"):
            calls.append(PlannedCall(name=name, args={"topic": topic}))
        elif name == "hashtags":
            calls.append(
                PlannedCall(name=name, args={"topic": topic, "platform": platform or "youtube"})
            )
        elif name == "thumbnail":
            wanted: dict[str, Any] = {"title": extract_quoted_text(request) or topic}
            count = _thumbnail_count(request)
            if count is not None:
                wanted["count"] = count
            calls.append(PlannedCall(name=name, args=wanted))
        elif name == "video_search":
            calls.append(PlannedCall(name=name, args={"query": topic}))
        elif name == "list_channels":
            calls.append(PlannedCall(name=name, args={}))
        elif name == "competitor_gap":
            args: dict[str, Any] = {"channel": "mine"}
            if competitors:
                args["competitors"] = competitors
            calls.append(PlannedCall(name=name, args=args))
        elif name in ("channel_outliers", "upload_streak"):
            targets = list(named)
            if wants_mine and not any(t in own for t in targets):
                targets.insert(0, "mine")
            calls.extend(PlannedCall(name=name, args={"channel": t}) for t in targets or ["mine"])
        else:  # viral_score
            text = extract_quoted_text(request) or topic
            calls.append(PlannedCall(name=name, args={"text": text, "platform": platform}))
    # "compare me with X": the outliers of both sides too, unless already asked for.
    comparing = "competitor_gap" in intents and "channel_outliers" not in intents
    if comparing and competitors and "channel_outliers" in available:
        calls.extend(
            PlannedCall(name="channel_outliers", args={"channel": t})
            for t in ["mine", *competitors]
        )
    return calls


_COUNT_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "a couple of": 2}
_THUMBNAIL_COUNT = re.compile(
    r"\b(\d+|one|two|three|four|five|a couple of)\s+(?:thumbnails?|thumbs?|concepts?|"
    r"cover (?:images?|art|pictures?)|options?|versions?)\b",
    re.IGNORECASE,
)
# The thumbnail tool's most concepts per call.
MAX_THUMBNAILS = 4


def _thumbnail_count(request: str) -> int | None:
    """ "make 2 thumbnails": 2 (at most ``MAX_THUMBNAILS``); None when no number is given."""
    match = _THUMBNAIL_COUNT.search(request)
    if match is None:
        return None
    word = match.group(1).lower()
    number = int(word) if word.isdigit() else _COUNT_WORDS[word]
    return max(1, min(MAX_THUMBNAILS, number))


def _without_names(request: str, workspace: Sequence[Mapping[str, Any]]) -> str:
    """The request with channel names blanked, so a name is not mistaken for a topic."""
    text = request
    for channel in workspace:
        for key in ("name", "title", "handle"):
            name = str(channel.get(key) or "")
            if len(name) >= 3:
                text = re.sub(re.escape(name), " ", text, flags=re.IGNORECASE)
    return text
