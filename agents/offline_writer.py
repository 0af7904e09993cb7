"""What the offline model writes: Markdown answers from tool results, and the JSON the
tools ask their model for. Deterministic templates, no model involved."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.messages import ToolMessage

from agents.prompts import tool_result_json

OFFLINE_NOTE = (
    "_Offline mode: this answer is assembled from the tool results by templates, "
    "not written by an AI model._"
)

CAPABILITIES = (
    "I can suggest **video ideas**, do **keyword research**, find **hashtags**, write a "
    "**factoid** for your intro, spot **outlier videos** on a channel, find **content "
    "gaps** (what your competitors' breakout videos cover and yours don't), check your "
    "**upload streak**, give a title or hook a **viral score**, and make **thumbnail** "
    "concepts for a video."
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


def _number(value: float | None, *, digits: int = 0) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.{digits}f}"


def _content_ideas(out: dict[str, Any]) -> list[str]:
    lines = [
        f"Video ideas for **{out.get('topic', '')}** (SEO scores for: "
        f"{', '.join(out.get('seo_keywords', []))}):"
    ]
    for index, concept in enumerate(out.get("concepts", []), start=1):
        description = concept.get("description", {})
        lines.append(
            f"{index}. **{concept['title']}** — SEO {concept['seo_score']}/100. "
            f"Hook: {description.get('hook', '')} Tags: {', '.join(concept.get('tags', []))}"
            + (
                f" Builds on the content gap “{concept['seed_topic']}”, proof: "
                + ", ".join(f"[{v}](https://www.youtube.com/watch?v={v})" for v in concept["cites"])
                if concept.get("seed_topic") and concept.get("cites")
                else ""
            )
        )
    if out.get("fallback"):
        reason = out.get("fallback_reason")
        lines += ["", f"_Template ideas: the model's reply was unusable ({reason})._"]
    return lines


def _figure(
    metric: dict[str, Any] | None, reasons: dict[str, None], label: str, unit: str = ""
) -> str:
    """``label`` with the metric's value and unit, or "n/a" (its reason goes to the notes)."""
    if not metric or metric.get("value") is None:
        if metric and metric.get("reason"):
            reasons[metric["reason"]] = None
        return label.format("n/a")
    return label.format(_number(metric["value"]) + unit)


def _keyword_line(keyword: dict[str, Any], reasons: dict[str, None]) -> str:
    # Results stored before the rename call the demand proxy ``search_volume``.
    demand = keyword.get("demand_proxy") or keyword.get("search_volume")
    relevance = keyword.get("relevance") or {}
    share = relevance.get("value")
    line = (
        f"- `{keyword['keyword']}` — "
        + _figure(demand, reasons, "{} views/month per matching video (proxy)")
        + ", "
        + _figure(keyword.get("competition"), reasons, "competition {}", "/100")
        + ", "
        + _figure(
            {**relevance, "value": 100 * share} if share is not None else relevance,
            reasons,
            "relevance {}",
            "%",
        )
        + f" ({keyword.get('matching_videos', 0)} videos)"
    )
    youtube = keyword.get("youtube") or {}
    if youtube.get("status") == "sampled":
        line += (
            "; YouTube: "
            + _figure(youtube.get("result_count_estimate"), reasons, "about {} results (estimate)")
            + ", "
            + _figure(youtube.get("search_competition"), reasons, "search competition {}", "/100")
            + ", "
            + _figure(youtube.get("search_demand"), reasons, "top results earn {} views/day")
        )
    return line


def _keyword_research(out: dict[str, Any]) -> list[str]:
    lines = [f"Keywords for **{out.get('topic', '')}**, measured on {out.get('source', '')}:"]
    if out.get("corpus_note"):
        lines += ["", f"_{out['corpus_note']}_"]
    reasons: dict[str, None] = {}  # insertion-ordered set
    for title, key in (
        ("Primary", "primary"),
        ("Long-tail", "long_tail"),
        ("Trending (last 90 days)", "trending"),
        ("Related topics", "related_topics"),
    ):
        # A related term can come twice (as a tag and as title words): list it once.
        entries = list({e["keyword"]: e for e in reversed(out.get(key, []))}.values())[::-1][:6]
        if entries:
            # Blank lines: a heading or note right after a paragraph or list joins it.
            lines += ["", f"**{title}**"]
            lines += [_keyword_line(entry, reasons) for entry in entries]
    youtube = out.get("youtube") or {}
    if youtube.get("sampled"):
        lines += [
            "",
            f"_YouTube search sampled for {', '.join(youtube['sampled'])} "
            f"({youtube.get('from_cache', 0)} from the cache, "
            f"{youtube.get('units_spent', 0)} quota units); the other keywords were not "
            "sampled._",
        ]
    elif youtube.get("note"):
        lines += ["", f"_YouTube search: {youtube['note']}_"]
    if reasons:
        lines += ["", "_Why some figures are n/a:_"]
        lines += [f"- {reason}" for reason in list(reasons)[:6]]
    lines += [
        "",
        "_Views per month and per day are views met by existing videos, a proxy, not "
        "search counts._",
    ]
    return lines


def _hashtags(out: dict[str, Any]) -> list[str]:
    lines = [
        f"Hashtags for **{out.get('topic', '')}** on {out.get('platform', 'youtube')} "
        f"({out.get('videos_analyzed', 0)} videos from {out.get('source', '')}):"
    ]
    if out.get("corpus_note"):
        lines += ["", f"_{out['corpus_note']}_", ""]
    for tag in out.get("hashtags", []):
        if tag.get("suggested"):
            lines.append(f"- {tag['tag']} — suggested, not measured")
        elif tag.get("found_in") == "text":
            lines.append(f"- {tag['tag']} — {tag['usage_count']}x in your text")
        elif tag.get("average_views") is None:
            channels = tag.get("channels_using")
            lines.append(
                f"- {tag['tag']} — used by {tag['usage_count']} videos"
                + (f" on {channels} channel(s)" if channels is not None else "")
                + (f"; {tag['reason']}" if tag.get("reason") else "")
            )
        else:
            lines.append(
                f"- {tag['tag']} — used by {tag['usage_count']} videos, "
                f"{_number(tag['average_views'])} average views, "
                f"{_number(100 * (tag['average_engagement_rate'] or 0), digits=1)}% engagement"
            )
    return lines


def _factoid(out: dict[str, Any]) -> list[str]:
    return [f"Factoid about **{out.get('topic', '')}**: {out.get('factoid', '')}"]


def _channel_outliers(out: dict[str, Any]) -> list[str]:
    lines = [
        f"Outliers on **{out.get('channel_title', out.get('channel_id', ''))}**: "
        f"{out.get('videos_scored', 0)} videos scored as of {out.get('as_of', '')} "
        f"({out.get('source', '')})."
    ]
    for name, group in out.get("groups", {}).items():
        label = "Shorts" if name == "shorts" else "Long-form"
        if group.get("high_threshold") is None:
            lines.append(f"- {label}: {group['count']} videos; {group['note']}.")
            continue
        lines.append(
            f"- {label}: {group['count']} videos, median {_number(group['median_views'])} views; "
            f"SmartScore quartiles {group['q1']:.2f} / {group['q3']:.2f}, outlier above "
            f"{group['high_threshold']:.2f} or below {group['low_threshold']:.2f}."
        )
    flagged = [video for video in out.get("videos", []) if video["flag"] != "none"]
    if not flagged:
        lines.append("No video stands outside its group's fences.")
    for video in flagged[:8]:
        ratio = video.get("views_to_median")
        lines.append(
            f"- **{video['title']}** — {video['views']:,} views"
            + (f", {ratio:.1f}x the median" if ratio is not None else "")
            + f", SmartScore {video['smart_score']:.2f} ({video['flag']} outlier, "
            f"{'Short' if video['group'] == 'shorts' else 'long-form'})"
        )
    return lines


def _link_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def _competitor_gap(out: dict[str, Any]) -> list[str]:
    lines = [
        f"Content gaps for **{out.get('channel_title', out.get('channel_id', ''))}** against "
        f"{out.get('channels_analysed', 0)} competitor channel(s): "
        f"{out.get('outlier_videos', 0)} of their {out.get('mature_videos', 0)} videos at least "
        f"{out.get('min_age_days', 7)} days old reached {out.get('min_multiple', 3):g}x their "
        "channel's median views."
    ]
    for channel in out.get("competitors", []):
        if channel.get("status") == "skipped":
            lines.append(f"- Skipped {channel['channel_title']}: {channel['skip_reason']}.")
    gaps = out.get("gaps", [])
    if not gaps:
        lines.append(f"No content gap found: {out.get('reason') or 'nothing qualified'}.")
        return lines
    lines.append("")
    for index, gap in enumerate(gaps[:5], start=1):
        proof = gap["proof_videos"][0]
        lines.append(
            f"{index}. **{gap['topic']}** — score {gap['score']}/100: {gap['proof_count']} "
            f"outlier(s) on {gap['proof_channels']} channel(s), none on yours. E.g. "
            f"[“{_link_text(proof['title'])}”]({proof['url']}) ({proof['channel_title']}, "
            f"{proof['views']:,} views, {proof['multiple']:.1f}x its channel's median)"
        )
    lines += ["", f"_{out.get('score_formula', '')}._"]
    return lines


def _upload_streak(out: dict[str, Any]) -> list[str]:
    gap = out.get("average_days_between_uploads")
    measured = [s for s in out.get("by_weekday", []) if s.get("median_views") is not None]
    best = max(measured, key=lambda s: s["median_views"], default=None)
    return [
        f"Consistency score **{out.get('score', 0)}/100** for "
        f"**{out.get('channel_title', out.get('channel_id', ''))}** "
        f"({out.get('upload_count', 0)} uploads, {out.get('source', '')}).",
        f"- Weekly streak: {out.get('current_weekly_streak', 0)} weeks now, longest "
        f"{out.get('longest_weekly_streak', 0)}"
        + (f"; one upload every {gap:.1f} days on average." if gap is not None else "."),
        f"- {out.get('shorts_count', 0)} Shorts and {out.get('long_form_count', 0)} long-form.",
    ] + (
        [f"- Best weekday by median views: {best['label']} ({_number(best['median_views'])})."]
        if best
        else []
    )


def _viral_score(out: dict[str, Any]) -> list[str]:
    lines = [
        f"Viral score for “{out.get('text', '')}”: **{out.get('score', 0)}/100** "
        f"(confidence {out.get('confidence', 0):.2f}; {out.get('method', '')})."
    ]
    for insight in out.get("insights", []):
        lines.append(f"- {insight['category']}: {insight['message']}")
    tips = [tip for insight in out.get("insights", []) for tip in insight["recommendations"]]
    lines += [f"- Try: {tip}" for tip in tips[:3]]
    return lines


VIDEO_SEARCH_LISTED = 5


def _video_search(out: dict[str, Any]) -> list[str]:
    def count(value: Any, noun: str) -> str:
        return f"{noun} hidden" if value is None else f"{_number(value)} {noun}"

    def plain(text: Any) -> str:  # a title is third-party text: no Markdown from it
        return re.sub(r"[\\`*_\[\]<>|#]", "", str(text)).strip()

    results = out.get("results", [])
    where = "YouTube" if out.get("scope") == "youtube" else "your stored channels"
    lines = [
        f"Videos for **{plain(out.get('query', ''))}** on {where} "
        f"({out.get('result_count', len(results))} found; {out.get('scope_reason', '')}):"
    ]
    for index, video in enumerate(results[:VIDEO_SEARCH_LISTED], start=1):
        published = str(video.get("published_at") or "")[:10] or "date unknown"
        lines.append(
            f"{index}. [{plain(video['title'])}]({video['url']}) — "
            f"{plain(video.get('channel_title', ''))}, {count(video.get('views'), 'views')}, "
            f"{count(video.get('likes'), 'likes')}, {count(video.get('comments'), 'comments')}, "
            f"published {published}"
        )
    if not results:
        lines.append("No videos matched.")
    elif len(results) > VIDEO_SEARCH_LISTED:
        lines.append(f"…and {len(results) - VIDEO_SEARCH_LISTED} more in the result card.")
    return lines


def _thumbnail(out: dict[str, Any]) -> list[str]:
    concepts = out.get("thumbnails", [])
    title = re.sub(r"[\\`*_\[\]<>|#]", "", str(out.get("title", ""))).strip()
    providers = sorted({str(c.get("provider", "")) for c in concepts})
    lines = [
        f"{len(concepts)} thumbnail concept{'s' if len(concepts) != 1 else ''} for "
        f"**{title}** (made by {', '.join(providers) or 'no provider'}; shown in the card "
        "and kept in your Thumbnails gallery)."
    ]
    if out.get("note"):
        lines.append(str(out["note"]))
    if out.get("stopped"):
        lines.append(str(out["stopped"]))
    return lines


_SECTIONS: dict[str, tuple[str, Callable[[dict[str, Any]], list[str]]]] = {
    "content_ideas": ("Content ideas", _content_ideas),
    "keyword_research": ("Keyword research", _keyword_research),
    "hashtags": ("Hashtags", _hashtags),
    "factoid": ("Factoid", _factoid),
    "channel_outliers": ("Channel outliers", _channel_outliers),
    "competitor_gap": ("Content gaps", _competitor_gap),
    "upload_streak": ("Upload consistency", _upload_streak),
    "viral_score": ("Viral score", _viral_score),
    "video_search": ("Video search", _video_search),
    "thumbnail": ("Thumbnails", _thumbnail),
}


def answer_from_tool_results(results: Sequence[ToolMessage]) -> str:
    """A Markdown answer with one section per tool result, each cited as [tool:<name>]."""
    parts: list[str] = []
    for message in results:
        name = message.name or "tool"
        title, render = _SECTIONS.get(name, (name, lambda out: [json.dumps(out)]))
        try:
            payload = json.loads(tool_result_json(message.text))
        except json.JSONDecodeError:
            payload = {"error": {"message": message.text}}
        if message.status == "error" or "error" in payload:
            error = payload.get("error", {})
            parts.append(
                f"### {title} [tool:{name}]\nThis tool failed: {error.get('message', 'unknown')}"
            )
            continue
        try:
            lines = render(payload)
        except (KeyError, TypeError, AttributeError, ValueError):
            # A result of another shape (e.g. from a thread checkpointed by an older
            # version): show it as it is rather than fail the answer.
            lines = [json.dumps(payload, ensure_ascii=False)]
        parts.append(f"### {title} [tool:{name}]\n" + "\n".join(lines))
    return "\n\n".join([*parts, OFFLINE_NOTE])


# -- the tools' own model calls ---------------------------------------------------------
# Requests are read outside the quoted-data blocks only: the offline model, too, takes
# nothing from third-party text as an instruction.

_QUOTED_BLOCK = re.compile(r"<<<QUOTED DATA.*?QUOTED DATA>>>", re.DOTALL)

_IDEA_TEMPLATES = (
    (
        "{n} {topic} mistakes beginners make",
        "You are probably making one of these {topic} mistakes right now.",
        "Common errors, each shown and then fixed on camera.",
        "Comment the mistake you made, and subscribe for part two.",
    ),
    (
        "I tried {topic} every day for 30 days",
        "Thirty days of {topic}: here is what actually changed.",
        "A personal challenge with honest, measured results week by week.",
        "Subscribe to see the next challenge.",
    ),
    (
        "{Topic} on a budget: what is actually worth it",
        "Do you really need to spend a lot on {topic}?",
        "Cheap against expensive options, tested side by side.",
        "Tell me your budget in the comments.",
    ),
)


def _request_text(request: str) -> str:
    return _QUOTED_BLOCK.sub("", request)


def _labelled_line(text: str, label: str) -> str | None:
    match = re.search(rf"^{label}:\s*(.+)$", _request_text(text), re.MULTILINE)
    return match.group(1).strip() if match else None


def _topic_words(topic: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9]+", topic.lower()) if len(w) > 2]


def _gap_topics(request: str) -> list[str]:
    """The numbered items of the "content gap topics" block. Gap topics are words from
    competitors' titles: they fill a template as text and are never read as a request."""
    block = re.search(
        r"<<<QUOTED DATA \(content gap topics;[^\n]*\n(.*?)\nQUOTED DATA>>>", request, re.DOTALL
    )
    items = re.findall(r"^- \d+\. (.+)$", block.group(1), re.MULTILINE) if block else []
    return [item.strip() for item in items]


def content_ideas_json(request: str) -> str:
    topic = _labelled_line(request, "Topic") or "your channel"
    keywords = [k.strip() for k in (_labelled_line(request, "Target keywords") or "").split(",")]
    gaps = _gap_topics(request)
    ideas = []
    for index, (title, hook, main, cta) in enumerate(_IDEA_TEMPLATES):
        # With content gaps, idea i builds on gap i (in turn) and says so.
        subject = gaps[index % len(gaps)] if gaps else topic
        idea: dict[str, Any] = {
            "title": title.format(n=7, topic=subject, Topic=subject[:1].upper() + subject[1:]),
            "hook": hook.format(topic=subject),
            "main_content": main,
            "cta": cta,
            "tags": list(dict.fromkeys([subject.lower(), *(k for k in keywords if k)]))[:6],
        }
        if gaps:
            idea["seed"] = index % len(gaps) + 1
        ideas.append(idea)
    return json.dumps({"ideas": ideas})


def keyword_candidates_json(request: str) -> str:
    topic = (_labelled_line(request, "Topic") or "").lower()
    words = _topic_words(topic)
    primary = list(dict.fromkeys([topic, *words])) if topic else []
    long_tail = [f"{topic} for beginners", f"how to start {topic}", f"best {topic} setup"]
    return json.dumps({"primary": primary[:5], "long_tail": long_tail if topic else []})


def hashtag_suggestions_json(request: str) -> str:
    topic = _labelled_line(request, "Topic") or ""
    platform = _labelled_line(request, "Platform") or "youtube"
    words = _topic_words(topic)
    tags = (["#" + "".join(words)] if len(words) > 1 else []) + [f"#{w}" for w in words]
    if platform in ("shorts", "tiktok"):
        tags.append("#shorts" if platform == "shorts" else "#fyp")
    return json.dumps({"hashtags": tags})


def viral_assessment_json(request: str) -> str:
    # A template cannot judge text: no score, so the tool reports its features only.
    return json.dumps(
        {"score": None, "confidence": None, "assessment": "Offline: no model assessment."}
    )


def factoid_json(request: str) -> str:
    facts = re.findall(r"^- (.+)$", _request_text(request), re.MULTILINE)
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
    "tool:keyword_research": keyword_candidates_json,
    "tool:hashtags": hashtag_suggestions_json,
    "tool:viral_score": viral_assessment_json,
    "tool:factoid": factoid_json,
}
