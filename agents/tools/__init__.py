"""The agent's tools: one module per capability, registered by name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agents.tools.base import AgentTool, ToolContext, ToolFailure
from agents.tools.channel_outliers import channel_outliers
from agents.tools.competitor_gap import competitor_gap
from agents.tools.content_ideas import content_ideas
from agents.tools.factoid import factoid
from agents.tools.hashtags import hashtags
from agents.tools.keyword_research import keyword_research
from agents.tools.list_channels import list_channels
from agents.tools.thumbnail import thumbnail
from agents.tools.upload_streak import upload_streak
from agents.tools.video_search import video_search
from agents.tools.viral_score import viral_score

ALL_TOOLS: tuple[AgentTool[Any, Any], ...] = (
    content_ideas,
    keyword_research,
    hashtags,
    factoid,
    channel_outliers,
    upload_streak,
    viral_score,
    list_channels,
    video_search,
    competitor_gap,
    thumbnail,
)
TOOLS_BY_NAME: Mapping[str, AgentTool[Any, Any]] = {tool.name: tool for tool in ALL_TOOLS}

__all__ = ["ALL_TOOLS", "TOOLS_BY_NAME", "AgentTool", "ToolContext", "ToolFailure"]
