"""Viral score of a title, caption or script: ``agents.analytics.viral`` features, blended
with the model's own score when it gives a valid one."""

from __future__ import annotations

import json
import math
from typing import Literal

from pydantic import BaseModel, Field

from agents.analytics.viral import ViralReport, combine_with_model, viral_features
from agents.prompts import (
    QUOTED_DATA_RULE,
    VIRAL_ASSESSMENT_PROMPT,
    VIRAL_ASSESSMENT_REQUEST,
    quoted_data,
)
from agents.tools.base import ToolContext, ToolCost, agent_tool

Platform = Literal["youtube", "shorts", "tiktok", "instagram", "twitter", "linkedin"]


class ViralScoreArgs(BaseModel):
    text: str = Field(description="The title, caption or script to score, exactly as written.")
    platform: Platform | None = Field(default=None, description="Where it will be posted.")


class ViralScoreOutput(ViralReport):
    """The analytics ``ViralReport`` (score 0-100, confidence 0-1, insights per category)
    for ``text``; ``model_used`` says whether a model's score was blended in."""

    text: str
    model_used: bool
    model_note: str | None = Field(description="Why no model score was blended in.")
    model_assessment: str | None = Field(description="The model's words; not a measurement.")


def _model_opinion(reply: dict[str, object]) -> tuple[int | None, float | None, str | None]:
    """The model's score and confidence when valid, else a reason in the third slot."""
    score, confidence = reply.get("score"), reply.get("confidence")
    if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):
        return None, None, "the model gave no numeric score"
    if not (0 <= score <= 100) or score != int(score):
        return None, None, f"the model's score {score!r} is not an integer 0-100"
    if confidence is not None and (
        isinstance(confidence, bool)
        or not isinstance(confidence, int | float)
        or not math.isfinite(confidence)
        or not 0 <= confidence <= 1
    ):
        return None, None, f"the model's confidence {confidence!r} is not within 0-1"
    return int(score), None if confidence is None else float(confidence), None


@agent_tool(args=ViralScoreArgs, output=ViralScoreOutput, cost=ToolCost(model_calls=1))
async def viral_score(args: ViralScoreArgs, ctx: ToolContext) -> ViralScoreOutput:
    """Score how likely a title, caption or script is to spread (0-100, with a confidence)
    from transparent features (hook, pacing, emotion, storytelling, call to action),
    with insights and recommendations per category, blended with a model's own score when
    available. Use when a creator asks to rate, score or judge a title, hook or script,
    or whether it will go viral."""
    ctx.progress(done=0, total=2, message="Measuring the text")
    report = viral_features(text=args.text, platform=args.platform)
    ctx.progress(done=1, total=2, message=f"Feature score {report.score}; asking a model")
    reply, note = await ctx.try_model_json(
        tool_name="viral_score",
        system=VIRAL_ASSESSMENT_PROMPT.format(quoted_data_rule=QUOTED_DATA_RULE),
        request=VIRAL_ASSESSMENT_REQUEST.format(
            platform=args.platform or "unspecified",
            feature_score=report.feature_score,
            features=json.dumps(report.features.model_dump(), sort_keys=True),
            quoted_text=quoted_data([args.text], label="text to judge"),
        ),
    )
    assessment: str | None = None
    if reply is not None:
        model_score, model_confidence, note = _model_opinion(reply)
        if model_score is not None:
            report = combine_with_model(report, model_score, model_confidence)
            raw = reply.get("assessment")
            assessment = raw.strip() if isinstance(raw, str) and raw.strip() else None
    ctx.progress(done=2, total=2, message=f"Scored {report.score}/100")
    return ViralScoreOutput(
        **report.model_dump(),
        text=args.text,
        model_used=report.model_score is not None,
        model_note=note,
        model_assessment=assessment,
    )
