"""competitor_gap is a thin adapter: the analytics report on the workspace's channels, with
the base channel and competitors resolved like every channel tool's, and errors that say
what to do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agents.analytics.gaps import ChannelVideos, competitor_gaps
from agents.sample_data import SAMPLE_NOW, InMemoryAgentData
from agents.tools import TOOLS_BY_NAME, ToolFailure
from agents.videos import Video
from tests.agents.conftest import make_context
from tests.agents.tools.support import run_tool

OBSERVED = datetime(2025, 6, 30, 12, tzinfo=UTC)


def upload(channel_id: str, title: str, index: int, *, views: int, days_ago: float = 30) -> Video:
    return Video(
        video_id=f"{channel_id}-{index:03d}",
        channel_id=channel_id,
        channel_title={"UC_me": "My Kitchen", "UC_r1": "Rival One", "UC_r2": "Rival Two"}.get(
            channel_id, channel_id
        ),
        title=title,
        description="",
        tags=(),
        published_at=OBSERVED - timedelta(days=days_ago),
        duration_seconds=600,
        views=views,
        likes=0,
        comments=0,
    )


def rival(channel_id: str, breakouts: list[str]) -> list[Video]:
    videos = [
        upload(channel_id, f"Weeknight dinner {i}", i, views=1_000, days_ago=10 + 7 * i)
        for i in range(8)
    ]
    videos += [
        upload(channel_id, title, 100 + i, views=9_000, days_ago=20 + i)
        for i, title in enumerate(breakouts)
    ]
    return videos


def workspace_videos() -> list[Video]:
    mine = [upload("UC_me", f"Sourdough bread day {i}", i, views=500) for i in range(6)]
    return (
        mine
        + rival("UC_r1", ["Ramen from scratch", "Sourdough ramen broth"])
        + rival("UC_r2", ["Easy ramen eggs", "Sourdough pizza"])
    )


def data(videos: list[Video] | None = None, **kwargs: Any) -> InMemoryAgentData:
    return InMemoryAgentData(
        videos or workspace_videos(),
        source="imported CSV",
        observed_at=kwargs.pop("observed_at", OBSERVED),
        own_channel_ids=["UC_me"],
        **kwargs,
    )


async def gap(args: dict[str, Any], store: InMemoryAgentData | None = None) -> dict[str, Any]:
    return await run_tool("competitor_gap", args, make_context(data=store or data()))


def by_channel(videos: list[Video], channel_id: str, title: str, as_of: datetime) -> ChannelVideos:
    return ChannelVideos(
        channel_id=channel_id,
        channel_title=title,
        videos=[v for v in videos if v.channel_id == channel_id],
        as_of=as_of,
        source="imported CSV",
    )


async def test_default_compares_the_primary_with_every_competitor() -> None:
    out = await gap({})

    videos = workspace_videos()
    report = competitor_gaps(
        own=by_channel(videos, "UC_me", "My Kitchen", OBSERVED),
        competitors=[
            by_channel(videos, "UC_r1", "Rival One", OBSERVED),
            by_channel(videos, "UC_r2", "Rival Two", OBSERVED),
        ],
    )
    assert {k: out[k] for k in report.model_dump()} == report.model_dump(mode="json")
    assert (out["channel_id"], out["channel_title"], out["channel_role"]) == (
        "UC_me",
        "My Kitchen",
        "own",
    )
    assert out["competitors_basis"] == "workspace competitors"
    top = out["gaps"][0]
    assert top["topic"] == "ramen" and top["proof_channels"] == 2
    assert {p["channel_title"] for p in top["proof_videos"]} == {"Rival One", "Rival Two"}
    assert all(p["multiple"] == 9.0 for p in top["proof_videos"])
    # "sourdough" breaks out on both rivals too, but the own channel has made sourdough
    # videos.
    terms = {t for g in out["gaps"] for t in [g["topic"], *g["also_terms"]]}
    assert "sourdough" not in terms and out["covered_by_own"] >= 1
    assert out["score_formula"].startswith("score = round(100 * (")
    assert [c["source"] for c in out["competitors"]] == ["imported CSV", "imported CSV"]


async def test_named_competitors_are_resolved_once_each() -> None:
    out = await gap({"channel": "mine", "competitors": ["rival one", "UC_r1", "Rival O"]})
    assert out["competitors_basis"] == "argument"
    assert [c["channel_title"] for c in out["competitors"]] == ["Rival One"]
    # One channel's two ramen videos: a gap, but only a third of the channel credit.
    top = out["gaps"][0]
    assert top["topic"] == "ramen" and top["score_components"]["channels"] == pytest.approx(1 / 3)


async def test_any_channel_can_be_the_base() -> None:
    out = await gap({"channel": "Rival Two"})
    assert (out["channel_title"], out["channel_role"]) == ("Rival Two", "competitor")
    assert [c["channel_title"] for c in out["competitors"]] == ["Rival One"]


async def test_each_channel_is_analysed_as_of_its_snapshot_else_now() -> None:
    observed = await gap({})
    assert {c["as_of"] for c in observed["competitors"]} == {"2025-06-30T12:00:00Z"}
    unknown = await gap({}, data(observed_at=None))
    assert {c["as_of"][:10] for c in unknown["competitors"]} == {SAMPLE_NOW.date().isoformat()}
    # Eight months later the same breakouts are less recent.
    assert [g["topic"] for g in unknown["gaps"]] == [g["topic"] for g in observed["gaps"]]
    assert (
        unknown["gaps"][0]["score_components"]["recency"]
        < observed["gaps"][0]["score_components"]["recency"]
    )


async def test_errors_say_what_to_do() -> None:
    alone = data([v for v in workspace_videos() if v.channel_id == "UC_me"])
    with pytest.raises(ToolFailure) as none:
        await gap({}, alone)
    assert none.value.code == "VALIDATION_ERROR"
    assert "no competitor channels in the workspace" in none.value.message
    assert "import or add" in none.value.message

    with pytest.raises(ToolFailure) as unknown:
        await gap({"competitors": ["Nobody Channel"]})
    assert unknown.value.code == "NOT_FOUND"
    assert unknown.value.message.startswith("competitors: No channel in the workspace matches")
    assert "Rival One" in unknown.value.message  # the candidates are listed

    with pytest.raises(ToolFailure) as itself:
        await gap({"channel": "Rival One", "competitors": ["Rival Two", "rival one"]})
    assert itself.value.code == "VALIDATION_ERROR" and "being compared" in itself.value.message

    with pytest.raises(ToolFailure) as ambiguous:
        await gap({"competitors": ["Rival"]})
    assert ambiguous.value.code == "VALIDATION_ERROR" and "matches 2 channels" in (
        ambiguous.value.message
    )

    with pytest.raises(ToolFailure) as bad:
        await gap({"min_multiple": 1.0})
    assert bad.value.code == "VALIDATION_ERROR" and "min_multiple" in bad.value.message


def test_the_docstring_says_when_to_use_it() -> None:
    tool = TOOLS_BY_NAME["competitor_gap"]
    for phrase in ("competitors doing better", "content gaps", "compare me with", "seeds"):
        assert phrase in tool.description
    parameters = tool.model_schema()["function"]["parameters"]["properties"]
    assert {"channel", "competitors", "min_multiple", "min_age_days", "limit"} <= set(parameters)
