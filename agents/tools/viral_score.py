from __future__ import annotations

import json
import re
from typing import Literal

from pydantic import BaseModel, Field

from agents.prompts import (
    QUOTED_DATA_RULE,
    VIRAL_ASSESSMENT_PROMPT,
    VIRAL_ASSESSMENT_REQUEST,
    quoted_data,
)
from agents.tools.base import ToolContext, agent_tool, validate_model_output

_POWER_WORDS = frozenset(
    [
        "secret",
        "mistake",
        "mistakes",
        "never",
        "always",
        "wrong",
        "best",
        "worst",
        "insane",
        "tried",
        "every",
        "only",
        "why",
        "how",
        "truth",
        "stop",
        "hack",
        "hacks",
        "fixed",
        "ultimate",
        "cheap",
        "free",
    ]
)


class ViralScoreArgs(BaseModel):
    text: str = Field(description="The title or hook to score, exactly as written.")
    platform: Literal["youtube", "shorts", "tiktok", "instagram"] | None = Field(
        default=None, description="Where it will be posted, if known."
    )


class ViralScoreOutput(BaseModel):
    text: str
    score: int = Field(ge=0, le=100, description="Higher is more likely to spread.")
    features: dict[str, float]
    assessment: str
    suggestions: list[str]


class _ModelAssessment(BaseModel):
    assessment: str
    suggestions: list[str]


def _features(text: str, platform: str | None) -> tuple[int, dict[str, float]]:
    # TODO: call agents.analytics.viral.viral_features(text, platform=...) once it exists.
    words = re.findall(r"[\w$']+", text.lower())
    ideal_length = (20, 50) if platform in ("shorts", "tiktok") else (30, 65)
    features = {
        "length_chars": float(len(text)),
        "length_in_sweet_spot": float(ideal_length[0] <= len(text) <= ideal_length[1]),
        "has_number": float(bool(re.search(r"\d", text))),
        "has_money_or_price": float("$" in text or "£" in text or "€" in text),
        "speaks_to_viewer": float(any(w in ("you", "your", "you're") for w in words)),
        "power_words": float(sum(1 for w in words if w in _POWER_WORDS)),
        "is_question": float(text.strip().endswith("?")),
        "first_person_story": float(any(w in ("i", "i've", "my") for w in words)),
    }
    score = 20 + 15 * features["length_in_sweet_spot"] + 12 * features["has_number"]
    score += 8 * features["has_money_or_price"] + 10 * features["speaks_to_viewer"]
    score += 8 * min(3.0, features["power_words"]) + 5 * features["is_question"]
    score += 6 * features["first_person_story"]
    return max(0, min(100, round(score))), features


@agent_tool(args=ViralScoreArgs, output=ViralScoreOutput)
async def viral_score(args: ViralScoreArgs, ctx: ToolContext) -> ViralScoreOutput:
    """Score how likely a video title or hook is to go viral (0-100) from measurable
    features (length, numbers, prices, direct address, curiosity words), with a short
    assessment and concrete rewrites. Use when a creator asks to rate, score or judge a
    title or hook, or whether it will go viral."""
    ctx.progress(done=0, total=2, message="Measuring the title")
    score, features = _features(args.text, args.platform)
    ctx.progress(done=1, total=2, message=f"Feature score {score}; asking for an assessment")
    reply = await ctx.ask_model_json(
        tool_name="viral_score",
        system=VIRAL_ASSESSMENT_PROMPT.format(quoted_data_rule=QUOTED_DATA_RULE),
        request=VIRAL_ASSESSMENT_REQUEST.format(
            platform=args.platform or "youtube",
            features=json.dumps(features, sort_keys=True),
            quoted_text=quoted_data([args.text]),
        ),
    )
    assessment = validate_model_output(_ModelAssessment, reply)
    ctx.progress(done=2, total=2, message="Scored")
    return ViralScoreOutput(
        text=args.text,
        score=score,
        features=features,
        assessment=assessment.assessment,
        suggestions=assessment.suggestions[:5],
    )
