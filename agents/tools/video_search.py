"""video_search: videos matching a query, with their statistics, from YouTube or from the
workspace's stored channels (see ``agents.tools._video_search`` for the data access)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from agents.context import AgentData
from agents.tools._sources import YOUTUBE_DATA_API, corpus_source
from agents.tools._video_search import FoundVideo, SearchesVideos
from agents.tools.base import ToolContext, ToolCost, ToolFailure, agent_tool

Scope = Literal["youtube", "workspace", "auto"]
MAX_RESULTS = 50
# Failures after which "auto" still answers, from the workspace.
FALLBACK_CODES = frozenset({"UPSTREAM_UNAVAILABLE", "RATE_LIMITED"})
NO_KEY_MESSAGE = (
    "YouTube search is not available: no YouTube Data API key is configured "
    "(YOUTUBE_API_KEYS). Search the workspace's stored videos instead (scope 'workspace')."
)


class VideoSearchArgs(BaseModel):
    query: str = Field(
        min_length=1, max_length=200, description="What to search for, e.g. 'latte art'."
    )
    max_results: int = Field(
        default=10, ge=1, le=MAX_RESULTS, description="How many videos to return (1-50)."
    )
    scope: Scope = Field(
        default="auto",
        description=(
            "'youtube': all of YouTube (fresh statistics); 'workspace': only the videos of "
            "the creator's stored channels (own and competitors); 'auto': YouTube when it "
            "can be searched, else the workspace."
        ),
    )

    @field_validator("query")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


class VideoSearchResult(BaseModel):
    video_id: str
    title: str
    channel_id: str
    channel_title: str
    views: int | None
    likes: int | None
    comments: int | None
    published_at: datetime | None
    duration_seconds: int | None
    thumbnail_url: str | None
    url: str


class VideoSearchOutput(BaseModel):
    source: str
    scope: Literal["youtube", "workspace"]
    requested_scope: Scope
    scope_reason: str
    query: str
    result_count: int
    results: list[VideoSearchResult]
    note: str


def watch_url(video_id: str) -> str:
    return f"https://www.youtube.com/watch?v={video_id}"


def _result(video: FoundVideo) -> VideoSearchResult:
    return VideoSearchResult(**asdict(video), url=watch_url(video.video_id))


async def _workspace(
    data: AgentData, *, query: str, max_results: int
) -> tuple[str, list[FoundVideo]]:
    if isinstance(data, SearchesVideos):
        found = await data.search_workspace(query=query, max_results=max_results)
        return data.workspace_search_source, found
    corpus = await data.corpus_videos(query)
    return corpus_source(data), [FoundVideo.from_video(v) for v in corpus[:max_results]]


async def _youtube_available(data: AgentData) -> bool:
    return isinstance(data, SearchesVideos) and await data.youtube_search_available()


@agent_tool(args=VideoSearchArgs, output=VideoSearchOutput, cost=ToolCost(youtube_search=True))
async def video_search(args: VideoSearchArgs, ctx: ToolContext) -> VideoSearchOutput:
    """Search videos by topic and list each with its views, likes, comments, publish date,
    duration, thumbnail and link. Searches all of YouTube when it can (fresh statistics),
    or the videos of the creator's stored channels (scope 'workspace'). Use for "search
    YouTube for X", "find videos about X", "what is out there on X"."""
    data = ctx.context.deps.data
    ctx.progress(done=0, total=1, message=f"Searching for {args.query!r}")
    found: list[FoundVideo]
    scope: Literal["youtube", "workspace"]
    if args.scope == "workspace":
        scope, reason = "workspace", "the workspace's stored videos were asked for"
        source, found = await _workspace(data, query=args.query, max_results=args.max_results)
    elif args.scope == "youtube":
        if not await _youtube_available(data):
            raise ToolFailure(NO_KEY_MESSAGE, code="UPSTREAM_UNAVAILABLE")
        assert isinstance(data, SearchesVideos)
        scope, reason, source = "youtube", "YouTube was asked for", YOUTUBE_DATA_API
        found = await data.search_youtube(query=args.query, max_results=args.max_results)
    else:
        scope, source, found, reason = await _auto(data, args)
    ctx.progress(done=1, total=1, message=f"{len(found)} videos found")
    return VideoSearchOutput(
        source=source,
        scope=scope,
        requested_scope=args.scope,
        scope_reason=reason,
        query=args.query,
        result_count=len(found),
        results=[_result(video) for video in found],
        note=(
            "A count is null where the source hides it (likes hidden by the creator, "
            "comments turned off). "
            + (
                "Statistics are fresh from YouTube."
                if scope == "youtube"
                else "Statistics are as of each channel's last import or fetch."
            )
        ),
    )


async def _auto(
    data: AgentData, args: VideoSearchArgs
) -> tuple[Literal["youtube", "workspace"], str, list[FoundVideo], str]:
    """YouTube when it can be searched, else (and when it fails for want of quota) the
    workspace, saying why."""
    if await _youtube_available(data):
        assert isinstance(data, SearchesVideos)
        try:
            found = await data.search_youtube(query=args.query, max_results=args.max_results)
        except ToolFailure as exc:
            if exc.code not in FALLBACK_CODES:
                raise
            source, found = await _workspace(data, query=args.query, max_results=args.max_results)
            reason = (
                f"auto: YouTube search failed ({exc.code}: {exc.message}), so the "
                "workspace's stored videos were searched instead"
            )
            return "workspace", source, found, reason
        return "youtube", YOUTUBE_DATA_API, found, "auto: YouTube search is available"
    source, found = await _workspace(data, query=args.query, max_results=args.max_results)
    reason = (
        "auto: YouTube search is not available (no YouTube Data API key is configured), "
        "so the workspace's stored videos were searched"
    )
    return "workspace", source, found, reason
