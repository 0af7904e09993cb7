"""Golden figures on real channels from ``shared/data/youtube/channel_uploads``.

Expected values come from the data's README table (counts, Shorts, median views) or
from a second computation in this file, written independently of ``agents.analytics``:
raw ``csv.reader`` rows, ``statistics.quantiles(method="inclusive")`` (numpy's default
"linear" method) and ISO (year, week) pairs from ``date.isocalendar``. Specific videos
were then checked by reading their rows (title, views, duration) in the CSV.
"""

from __future__ import annotations

import csv
import statistics
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path

import pytest

from agents.analytics.csv_import import UploadsImport, load_uploads_csv
from agents.analytics.outliers import score_outliers
from agents.analytics.streak import upload_streak

from .support import UPLOADS_DIR

DATASCI = UPLOADS_DIR / "datasci_5ch_video_data.csv"
PATHFINDER = UPLOADS_DIR / "pathfinder_6ch_video_data.csv"
# Two days after each file's last upload.
DATASCI_AS_OF = datetime(2024, 12, 20, tzinfo=UTC)
PATHFINDER_AS_OF = datetime(2023, 6, 15, tzinfo=UTC)

pytestmark = pytest.mark.skipif(
    not (DATASCI.exists() and PATHFINDER.exists()),
    reason=f"shared YouTube data not found under {UPLOADS_DIR} (expected <repo>/../shared/data)",
)


@cache
def _import(path: Path) -> UploadsImport:
    return load_uploads_csv(path=path)


def _channel(path: Path, title: str):
    channel = _import(path).channel_by_title(title)
    assert channel is not None, title
    return channel.videos


def test_import_counts() -> None:
    datasci = _import(DATASCI)
    assert (datasci.video_count, len(datasci.channels), datasci.rejected) == (1772, 5, [])
    pathfinder = _import(PATHFINDER)
    assert (pathfinder.video_count, len(pathfinder.channels), pathfinder.rejected) == (1451, 6, [])
    assert pathfinder.unknown_duration_count == 3  # the three P0D rows
    assert {c.channel_title: len(c.videos) for c in pathfinder.channels} == {
        "Nonat1s": 453,
        "How It's Played": 316,
        "Frizz": 217,
        "Team Player Gaming": 214,
        "The Rules Lawyer": 182,
        "deadly d8": 69,
    }
    assert all(c.channel_id_derived for c in datasci.channels)  # the files have no channelId


@pytest.mark.parametrize(
    ("title", "videos", "shorts", "median_views"),
    [  # the README's table
        ("codebasics", 998, 375, 25_002),
        ("Alex The Analyst", 338, 27, 39_420),
        ("Absent Data", 221, 44, 5_607),
        ("TechWorld with Nana", 125, 1, 200_036),
        ("Thu Vu data analytics", 90, 10, 38_800),
    ],
)
def test_datasci_channels_match_the_readme(
    title: str, videos: int, shorts: int, median_views: int
) -> None:
    vs = _channel(DATASCI, title)
    report = score_outliers(vs, as_of=DATASCI_AS_OF)
    assert report.video_count == videos
    assert report.groups["shorts"].count == shorts
    assert report.median_views_all is not None
    assert abs(report.median_views_all - median_views) <= 0.5  # the README rounds x.5
    assert upload_streak(vs, as_of=DATASCI_AS_OF).shorts_count == shorts


@pytest.mark.parametrize(
    ("title", "readme_le_60s", "p0d_rows"),
    [
        ("Nonat1s", 27, 1),
        ("How It's Played", 0, 0),
        ("Frizz", 0, 0),
        ("Team Player Gaming", 13, 0),
        ("The Rules Lawyer", 6, 1),
        ("deadly d8", 7, 1),
    ],
)
def test_p0d_rows_are_unknown_not_shorts(title: str, readme_le_60s: int, p0d_rows: int) -> None:
    # The README's "<= 60 s" counts include the P0D placeholders (0 s); we do not.
    vs = _channel(PATHFINDER, title)
    assert sum(v.duration_seconds is None for v in vs) == p0d_rows
    report = upload_streak(vs, as_of=PATHFINDER_AS_OF)
    assert report.shorts_count == readme_le_60s - p0d_rows
    assert report.unknown_duration_count == p0d_rows


def _reference_flags(path: Path, title: str, as_of: datetime) -> dict[str, str]:
    """SmartScore flags recomputed from raw rows, sharing no code with the module."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    col = {name: i for i, name in enumerate(rows[0])}
    mine = [r for r in rows[1:] if r[col["channelTitle"]] == title]
    groups: dict[bool, list[dict[str, float | str]]] = {True: [], False: []}
    for r in mine:
        duration = r[col["duration"]]
        seconds = None
        if duration != "P0D":
            parts = {"H": 0, "M": 0, "S": 0}
            number = ""
            for ch in duration.split("T")[1]:
                if ch.isdigit():
                    number += ch
                else:
                    parts[ch] = int(number)
                    number = ""
            seconds = parts["H"] * 3600 + parts["M"] * 60 + parts["S"]
        published = datetime.strptime(r[col["publishedAt"]], "%Y-%m-%dT%H:%M:%S%z")
        days = (as_of - published) / timedelta(days=1)
        views = int(r[col["viewCount"]])
        interactions = int(r[col["likeCount"]] or 0) + int(r[col["commentCount"]] or 0)
        groups[seconds is not None and seconds <= 60].append(
            {
                "id": r[col["video_id"]],
                "days": days,
                "views": views,
                "vpd": views / max(days, 1),
                "eng": interactions / max(views, 1),
            }
        )
    flags: dict[str, str] = {}
    for members in groups.values():
        for metric in ("views", "vpd", "eng"):
            values = [float(m[metric]) for m in members]
            lo, hi = (min(values), max(values)) if values else (0.0, 0.0)
            for m in members:
                m["n_" + metric] = 0.0 if hi == lo else (float(m[metric]) - lo) / (hi - lo)
        for m in members:
            m["score"] = 0.5 * m["n_views"] + 0.3 * m["n_vpd"] + 0.2 * m["n_eng"]  # type: ignore[operator]
        settled = [float(m["score"]) for m in members if float(m["days"]) >= 7]
        if len(settled) < 4:
            continue
        q1, _, q3 = statistics.quantiles(settled, n=4, method="inclusive")
        for m in members:
            if float(m["days"]) < 7:
                continue
            if float(m["score"]) > q3 + 1.5 * (q3 - q1):
                flags[str(m["id"])] = "high"
            elif float(m["score"]) < q1 - 1.5 * (q3 - q1):
                flags[str(m["id"])] = "low"
    return flags


@pytest.mark.parametrize(
    ("path", "as_of"), [(DATASCI, DATASCI_AS_OF), (PATHFINDER, PATHFINDER_AS_OF)]
)
def test_outlier_flags_match_an_independent_computation(path: Path, as_of: datetime) -> None:
    for channel in _import(path).channels:
        report = score_outliers(channel.videos, as_of=as_of)
        ours = {r["video_id"]: r["flag"] for r in report.rows() if r["flag"] != "none"}
        assert ours == _reference_flags(path, channel.channel_title, as_of), channel.channel_title


def test_known_outlier_videos() -> None:
    nana = score_outliers(_channel(DATASCI, "TechWorld with Nana"), as_of=DATASCI_AS_OF)
    top = nana.outliers("high")
    # "Kubernetes Tutorial for Beginners [FULL COURSE in 4 Hours]": 8,578,604 views,
    # the channel's most viewed, 41.8x its settled long-form median (205,449).
    assert top[0]["video_id"] == "X48VuDVv0do"
    assert top[0]["views"] == 8_578_604
    assert top[0]["views_to_median"] == pytest.approx(41.755, abs=1e-3)
    assert nana.groups["long_form"].high_count == 10
    assert nana.groups["shorts"].high_threshold is None  # a single Short flags nothing

    codebasics = score_outliers(_channel(DATASCI, "codebasics"), as_of=DATASCI_AS_OF)
    # "Don't put toy dataset projects on your resume!" (PT13S, 17,492,486 views) leads the
    # Shorts; scored among Shorts only, as a long video it would not be compared.
    short = codebasics.outliers("high")[0]
    assert (short["video_id"], short["group"], short["views"]) == (
        "fQte57VWmxc",
        "shorts",
        17_492_486,
    )
    # Nonat1s' P0D row (unknown duration, counted as long-form) is its low outlier.
    nonat1s = score_outliers(_channel(PATHFINDER, "Nonat1s"), as_of=PATHFINDER_AS_OF)
    assert [r["video_id"] for r in nonat1s.outliers("low")] == ["-SOX01Kp9H4"]


def _reference_weekly_streaks(path: Path, title: str, as_of: datetime) -> tuple[int, int]:
    """Current and longest streak by walking ISO (year, week) pairs one week at a time."""
    with path.open(encoding="utf-8", newline="") as handle:
        weeks = {
            date.fromisoformat(row["publishedAt"][:10]).isocalendar()[:2]
            for row in csv.DictReader(handle)
            if row["channelTitle"] == title
        }
    day = as_of.date()
    if day.isocalendar()[:2] not in weeks:
        day -= timedelta(weeks=1)
    current = 0
    while day.isocalendar()[:2] in weeks:
        current += 1
        day -= timedelta(weeks=1)
    longest = 0
    for year, week in weeks:
        monday = date.fromisocalendar(year, week, 1)
        if (monday - timedelta(weeks=1)).isocalendar()[:2] in weeks:
            continue  # not the start of a run
        length = 0
        while (monday + timedelta(weeks=length)).isocalendar()[:2] in weeks:
            length += 1
        longest = max(longest, length)
    return current, longest


@pytest.mark.parametrize(
    ("path", "title", "as_of", "current", "longest"),
    [
        (DATASCI, "codebasics", DATASCI_AS_OF, 80, 86),
        (DATASCI, "Alex The Analyst", DATASCI_AS_OF, 145, 145),
        (DATASCI, "TechWorld with Nana", DATASCI_AS_OF, 1, 21),
        (PATHFINDER, "Frizz", PATHFINDER_AS_OF, 92, 92),
        (PATHFINDER, "Nonat1s", PATHFINDER_AS_OF, 4, 83),
    ],
)
def test_weekly_streaks(
    path: Path, title: str, as_of: datetime, current: int, longest: int
) -> None:
    assert _reference_weekly_streaks(path, title, as_of) == (current, longest)
    report = upload_streak(_channel(path, title), as_of=as_of)
    assert (report.current_weekly_streak, report.longest_weekly_streak) == (current, longest)


def test_streak_score_ranks_active_above_silent_channels() -> None:
    scores = {
        c.channel_title: upload_streak(c.videos, as_of=DATASCI_AS_OF).score
        for c in _import(DATASCI).channels
    }
    # Alex The Analyst uploads weekly to date; Thu Vu's last upload is 2024-09-28.
    assert scores["Alex The Analyst"] >= 80
    assert scores["Thu Vu data analytics"] == 0
    thu_vu = upload_streak(_channel(DATASCI, "Thu Vu data analytics"), as_of=DATASCI_AS_OF)
    assert thu_vu.days_since_last_upload == pytest.approx(
        (DATASCI_AS_OF - datetime(2024, 9, 28, tzinfo=UTC)).days, abs=1
    )
