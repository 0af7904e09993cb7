"""What the offline model writes: Markdown answers from tool results, and the JSON the
tools ask their model for. Deterministic templates, no model involved."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.messages import ToolMessage

OFFLINE_NOTE = (
    "_Offline mode: this answer is assembled from the tool results by templates, "
    "not written by an AI model._"
)

CAPABILITIES = (
    "I can suggest **video ideas**, do **keyword research**, find **hashtags**, write a "
    "**factoid** for your intro, spot **outlier videos** on a channel, check your "
    "**upload streak**, and give a title or hook a **viral score**."
)


def greeting_answer() -> str:
    return f"Hi! {CAPABILITIES} What are you working on?\n\n{OFFLINE_NOTE}"


def thanks_answer() -> str:
    return f"Glad it helped! {CAPABILITIES}\n\n{OFFLINE_NOTE}"


def unknown_answer() -> str:
    return (
        "I can't answer that in offline mode: I only work from my tools. "
        f"{CAPABILITIES} Try asking, for example, *video ideas for a home espresso "
        f"channel*.\n\n{OFFLINE_NOTE}"
    )


def _content_ideas(out: dict[str, Any]) -> list[str]:
    lines = [f"Video ideas for **{out.get('topic', '')}**:"]
    for index, idea in enumerate(out.get("ideas", []), start=1):
        lines.append(f"{index}. **{idea['title']}** — {idea['angle']} ({idea['format']})")
    return lines


def _keyword_research(out: dict[str, Any]) -> list[str]:
    lines = [f"Keywords for **{out.get('topic', '')}** ({out.get('videos_analyzed', 0)} videos):"]
    for keyword in out.get("keywords", [])[:8]:
        lines.append(
            f"- `{keyword['keyword']}` — used by {keyword['videos_using']} videos, "
            f"{keyword['total_views']:,} views"
        )
    lines.append(
        f"Suggested title: **{out.get('suggested_title', '')}** "
        f"(SEO score {out.get('suggested_title_seo_score', 0)}/100)"
    )
    return lines


def _hashtags(out: dict[str, Any]) -> list[str]:
    tags = " ".join(out.get("hashtags", []))
    return [f"Hashtags for **{out.get('topic', '')}** on {out.get('platform', 'youtube')}:", tags]


def _factoid(out: dict[str, Any]) -> list[str]:
    return [f"Factoid about **{out.get('topic', '')}**: {out.get('factoid', '')}"]


def _channel_outliers(out: dict[str, Any]) -> list[str]:
    lines = [
        f"Outliers on **{out.get('channel_title', out.get('channel_id', ''))}** "
        f"({out.get('videos_analyzed', 0)} videos; median views: long "
        f"{out.get('median_views_long')}, Shorts {out.get('median_views_short')}):"
    ]
    outliers = out.get("outliers", [])
    if not outliers:
        lines.append("- No video stands far from the channel's typical views.")
    for video in outliers[:6]:
        verb = "over" if video["direction"] == "over" else "under"
        lines.append(
            f"- **{video['title']}** — {video['views']:,} views, "
            f"{video['ratio_to_median']}x the median ({verb}performed, {video['format']})"
        )
    return lines


def _upload_streak(out: dict[str, Any]) -> list[str]:
    gap = out.get("average_days_between_uploads")
    return [
        f"Upload streak: **{out.get('current_streak_weeks', 0)} weeks** in a row "
        f"(longest {out.get('longest_streak_weeks', 0)}); "
        f"{out.get('uploads_last_30_days', 0)} uploads in the last 30 days"
        + (f", one every {gap} days on average." if gap is not None else ".")
    ]


def _viral_score(out: dict[str, Any]) -> list[str]:
    lines = [
        f"Viral score for “{out.get('text', '')}”: **{out.get('score', 0)}/100**. "
        f"{out.get('assessment', '')}"
    ]
    lines += [f"- Try: {suggestion}" for suggestion in out.get("suggestions", [])]
    return lines


_SECTIONS: dict[str, tuple[str, Callable[[dict[str, Any]], list[str]]]] = {
    "content_ideas": ("Content ideas", _content_ideas),
    "keyword_research": ("Keyword research", _keyword_research),
    "hashtags": ("Hashtags", _hashtags),
    "factoid": ("Factoid", _factoid),
    "channel_outliers": ("Channel outliers", _channel_outliers),
    "upload_streak": ("Upload consistency", _upload_streak),
    "viral_score": ("Viral score", _viral_score),
}


def answer_from_tool_results(results: Sequence[ToolMessage]) -> str:
    """A Markdown answer with one section per tool result, each cited as [tool:<name>]."""
    parts: list[str] = []
    for message in results:
        name = message.name or "tool"
        title, render = _SECTIONS.get(name, (name, lambda out: [json.dumps(out)]))
        try:
            payload = json.loads(message.text)
        except json.JSONDecodeError:
            payload = {"error": {"message": message.text}}
        if message.status == "error" or "error" in payload:
            error = payload.get("error", {})
            parts.append(
                f"### {title} [tool:{name}]\nThis tool failed: {error.get('message', 'unknown')}"
            )
            continue
        parts.append(f"### {title} [tool:{name}]\n" + "\n".join(render(payload)))
    return "\n\n".join([*parts, OFFLINE_NOTE])


# -- the tools' own model calls ---------------------------------------------------------

_IDEA_TEMPLATES = (
    ("{n} {topic} mistakes beginners make", "Common errors, each fixed on camera", "long"),
    ("I tried {topic} every day for 30 days", "A personal challenge with honest results", "long"),
    ("{Topic} on a budget: what is actually worth it", "Cheap vs expensive, tested", "long"),
    ("{Topic} in 60 seconds", "One tip, fast, with a visual payoff", "short"),
    ("The {topic} myth everyone believes", "Debunk one popular claim with a test", "short"),
    ("What I wish I knew before starting {topic}", "Lessons for newcomers", "long"),
    ("Rating your {topic} setups", "Viewer submissions, scored live", "long"),
    ("{Topic} tier list", "Rank the popular options and defend each pick", "long"),
    ("One {topic} trick that changed everything", "A single technique, before and after", "short"),
    ("{Topic}: beginner vs pro", "Side-by-side comparison of technique", "short"),
)


def _labelled_line(text: str, label: str) -> str | None:
    match = re.search(rf"^{label}:\s*(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else None


def content_ideas_json(request: str) -> str:
    topic = _labelled_line(request, "Topic") or "your channel"
    count_text = _labelled_line(request, "Count") or "5"
    count = max(1, min(len(_IDEA_TEMPLATES), int(count_text) if count_text.isdigit() else 5))
    ideas = [
        {
            "title": title.format(n=7, topic=topic, Topic=topic[:1].upper() + topic[1:]),
            "angle": angle,
            "format": fmt,
        }
        for title, angle, fmt in _IDEA_TEMPLATES[:count]
    ]
    return json.dumps({"ideas": ideas})


def viral_assessment_json(request: str) -> str:
    features_text = _labelled_line(request, "Measured features") or "{}"
    try:
        features = json.loads(features_text)
    except json.JSONDecodeError:
        features = {}
    strengths, suggestions = [], []
    if features.get("has_number"):
        strengths.append("a concrete number")
    else:
        suggestions.append("Add a specific number (a count, a price or a time).")
    if features.get("speaks_to_viewer"):
        strengths.append("direct address to the viewer")
    else:
        suggestions.append("Speak to the viewer with “you” to make it personal.")
    if features.get("power_words"):
        strengths.append("curiosity words")
    else:
        suggestions.append("Add tension: a mistake, a secret or a surprising result.")
    if not features.get("length_in_sweet_spot"):
        suggestions.append("Adjust the length so it is not cut off in feeds (30–65 chars).")
    suggestions.append("Test two thumbnails whose text does not repeat the title.")
    assessment = (
        f"It has {', '.join(strengths)}." if strengths else "It lacks the usual hooks."
    ) + " Scored on measurable features only."
    return json.dumps({"assessment": assessment, "suggestions": suggestions[:3]})


def factoid_json(request: str) -> str:
    facts = re.findall(r"^- (.+)$", request, re.MULTILINE)
    topic = _labelled_line(request, "Topic") or "this topic"
    if len(facts) >= 2:
        text = f"Did you know? Among videos about {topic}, {facts[1][0].lower()}{facts[1][1:]}"
    elif facts:
        text = f"Did you know? {facts[0]}"
    else:
        text = f"Did you know? There is more to {topic} than meets the eye."
    return json.dumps({"factoid": text})


TOOL_REPLIES: dict[str, Callable[[str], str]] = {
    "tool:content_ideas": content_ideas_json,
    "tool:viral_score": viral_assessment_json,
    "tool:factoid": factoid_json,
}
