"""Builders and Hypothesis strategies for the analytics tests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import strategies as st

from agents.analytics.video import Video

REPO_ROOT = Path(__file__).resolve().parents[3]
UPLOADS_DIR = REPO_ROOT.parent / "shared" / "data" / "youtube" / "channel_uploads"
AS_OF = datetime(2025, 1, 1, 12, tzinfo=UTC)
_ids = itertools.count()


def make_video(
    *,
    views: int = 1000,
    likes: int = 10,
    comments: int = 1,
    published_at: datetime | None = None,
    age_days: float = 30.0,
    duration_seconds: int | None = 600,
    channel_id: str = "UC_test",
    title: str = "A video",
    description: str = "",
    tags: tuple[str, ...] = (),
    video_id: str | None = None,
) -> Video:
    return Video(
        video_id=video_id or f"vid{next(_ids)}",
        channel_id=channel_id,
        channel_title=channel_id.removeprefix("UC_"),
        title=title,
        description=description,
        tags=tags,
        published_at=published_at or AS_OF - timedelta(days=age_days),
        duration_seconds=duration_seconds,
        views=views,
        likes=likes,
        comments=comments,
    )


@st.composite
def videos(draw: st.DrawFn, *, max_age_days: int = 3000) -> Video:
    return make_video(
        views=draw(st.integers(0, 10**9)),
        likes=draw(st.integers(0, 10**7)),
        comments=draw(st.integers(0, 10**6)),
        # Seconds resolution, including videos younger than a day and than a week.
        published_at=AS_OF - timedelta(seconds=draw(st.integers(0, max_age_days * 86_400))),
        duration_seconds=draw(st.none() | st.integers(1, 200) | st.integers(1, 20_000)),
    )


video_lists = st.lists(videos(), max_size=40)
