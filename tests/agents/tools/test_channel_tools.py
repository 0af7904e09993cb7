"""channel_outliers and upload_streak are thin adapters: the same numbers as the analytics
functions on the same videos, plus where they come from and as of when."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from agents.analytics.outliers import score_outliers
from agents.analytics.streak import StreakReport
from agents.analytics.streak import upload_streak as streak_report
from agents.sample_data import SAMPLE_NOW, InMemoryAgentData
from agents.tools import ToolFailure
from agents.videos import Video
from tests.agents.conftest import make_context
from tests.agents.tools.support import AS_OF, CHANNEL, channel_videos, run_tool


class PlainData(InMemoryAgentData):
    """AgentData that says nothing about its sources (no channel_snapshot)."""

    channel_snapshot = None  # type: ignore[assignment]


def imported(videos: list[Video]) -> InMemoryAgentData:
    return InMemoryAgentData(videos, source="imported CSV", observed_at=AS_OF)


async def outliers(data: InMemoryAgentData, **args: Any) -> dict[str, Any]:
    return await run_tool(
        "channel_outliers", {"channel_id": CHANNEL, **args}, make_context(data=data)
    )


async def test_outliers_are_the_analytics_report_with_sources() -> None:
    videos = channel_videos()
    out = await outliers(imported(videos), top_n=3)

    report = score_outliers(videos, as_of=AS_OF, source="imported CSV")
    assert out["as_of_basis"] == "statistics observed_at"
    assert out["source"] == report.source and "imported CSV" in out["source"]
    assert out["method"] == report.method
    assert out["videos_scored"] == report.video_count == 40
    for name, group in report.groups.items():
        summary = dict(out["groups"][name])
        assert summary.pop("source") == report.source
        assert summary == group.model_dump(exclude={"videos"})
    flagged = {row["video_id"] for row in report.rows() if row["flag"] != "none"}
    assert flagged  # the breakouts and the flop
    listed = {video["video_id"]: video for video in out["videos"]}
    assert flagged <= set(listed)
    assert len(listed) == len(flagged) + 3 == out["videos_listed"]
    for video_id, shown in listed.items():
        row = report.find(video_id)
        assert row is not None
        assert {key: shown[key] for key in row} == row
    assert "40 scored" in out["listing"]


async def test_outliers_as_of_argument_then_snapshot_then_now() -> None:
    videos = channel_videos()
    later = AS_OF + timedelta(days=30)

    given = await outliers(imported(videos), as_of=later.isoformat())
    unknown_time = await outliers(InMemoryAgentData(videos, source="YouTube Data API"))
    no_sources = await outliers(PlainData(videos))

    assert (given["as_of_basis"], given["as_of"]) == (
        "argument",
        later.isoformat().replace("+00:00", "Z"),
    )
    assert given["groups"] == {
        name: {**group.model_dump(exclude={"videos"}), "source": given["source"]}
        for name, group in score_outliers(videos, as_of=later, source="imported CSV").groups.items()
    }
    # make_context's clock is SAMPLE_NOW.
    assert unknown_time["as_of_basis"] == no_sources["as_of_basis"] == "now"
    assert unknown_time["as_of"].startswith(SAMPLE_NOW.date().isoformat())
    assert "YouTube Data API" in unknown_time["source"]
    assert "stored channel data" in no_sources["source"]


async def test_outliers_shorts_threshold_moves_videos_between_groups() -> None:
    videos = channel_videos()
    out = await outliers(imported(videos), shorts_max_seconds=500)

    report = score_outliers(videos, as_of=AS_OF, shorts_max_seconds=500, source="imported CSV")
    assert out["groups"]["shorts"]["count"] == report.groups["shorts"].count > 10
    assert out["shorts_max_seconds"] == 500


async def test_unknown_channel_is_not_found() -> None:
    with pytest.raises(ToolFailure) as failure:
        await run_tool("channel_outliers", {"channel_id": "UCnobody"}, make_context())
    assert failure.value.code == "NOT_FOUND"


@pytest.mark.parametrize("shorts_max_seconds", [60, 45, 600])
async def test_streak_is_the_analytics_report(shorts_max_seconds: int) -> None:
    videos = channel_videos()
    context = make_context(data=imported(videos))
    args = {"channel_id": CHANNEL, "shorts_max_seconds": shorts_max_seconds, "weeks": 8}

    out = await run_tool("upload_streak", args, context)

    report = streak_report(videos, as_of=AS_OF, shorts_max_seconds=shorts_max_seconds)
    expected = report.model_dump(mode="json")
    fields = set(StreakReport.model_fields) - {"uploads_per_week"}
    assert {key: out[key] for key in fields} == {key: expected[key] for key in fields}
    assert out["uploads_per_week"] == expected["uploads_per_week"][-8:]
    assert out["uploads_per_week_total_weeks"] == len(report.uploads_per_week)
    assert 0 <= out["score"] <= 100 and out["method"] == report.method
    assert out["shorts_count"] + out["long_form_count"] == out["upload_count"] == 40
    assert out["source"] == "imported CSV" and out["as_of_basis"] == "statistics observed_at"
    assert out["shorts_max_seconds"] == shorts_max_seconds


async def test_streak_default_short_threshold_is_60_seconds() -> None:
    videos = channel_videos()
    out = await run_tool(
        "upload_streak", {"channel_id": CHANNEL}, make_context(data=imported(videos))
    )

    assert out["shorts_count"] == sum(1 for v in videos if (v.duration_seconds or 999) <= 60) == 10
    assert len(out["by_weekday"]) == 7 and len(out["by_hour"]) == 24
