"""Building tool contexts for the tool tests: sample data, custom videos, scripted models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from agents.context import Context
from agents.sample_data import InMemoryAgentData
from agents.tools import TOOLS_BY_NAME, ToolContext
from agents.videos import Video
from tests.agents.conftest import RecordingGuard, make_context, make_factory
from tests.fakes.openai_server import OpenAIServer, Reply

AS_OF = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)
CHANNEL = "UCtest0000001"


def video(
    index: int,
    *,
    title: str | None = None,
    description: str = "",
    tags: tuple[str, ...] = (),
    days_ago: float,
    views: int,
    duration_seconds: int | None = 600,
    channel_id: str = CHANNEL,
    hour: int = 15,
) -> Video:
    published = (AS_OF - timedelta(days=days_ago)).replace(hour=hour)
    return Video(
        video_id=f"v{index:04d}",
        channel_id=channel_id,
        channel_title="Test Channel",
        title=title or f"Video number {index}",
        description=description,
        tags=tags,
        published_at=published,
        duration_seconds=duration_seconds,
        views=views,
        likes=views // 25,
        comments=views // 200,
    )


def channel_videos() -> list[Video]:
    """40 uploads, mostly weekly, Shorts every fourth, two breakouts and a flop."""
    videos = []
    for i in range(40):
        views = 10_000 + 400 * (i % 7)
        if i in (5, 22):
            views = 400_000
        if i == 13:
            views = 150
        videos.append(
            video(
                i,
                days_ago=3 + 7 * i + (i % 3),
                views=views,
                duration_seconds=40 if i % 4 == 0 else 480 + i,
                hour=9 + i % 10,
            )
        )
    return videos


def scripted_context(
    server: OpenAIServer,
    replies: list[Reply],
    *,
    data: InMemoryAgentData | None = None,
    guard: RecordingGuard | None = None,
    **fields: Any,
) -> Context:
    """A context whose tool model is ChatOpenAI against the local server, given replies."""
    guard = guard or RecordingGuard()
    server.script(replies)
    factory = make_factory(guard=guard, base_url=server.base_url)
    return make_context(guard=guard, factory=factory, data=data, model_id="test/model", **fields)


async def run_tool(name: str, args: dict[str, Any], context: Context) -> dict[str, Any]:
    output = await TOOLS_BY_NAME[name].invoke(
        raw_args=args, ctx=ToolContext(call_id="test-call", context=context)
    )
    result: dict[str, Any] = output.model_dump(mode="json")
    return result
