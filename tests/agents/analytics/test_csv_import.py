from __future__ import annotations

import csv
import io
import itertools
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agents.analytics.csv_import import (
    CsvFormatError,
    derive_channel_id,
    parse_uploads_csv_text,
)

HEADER = [
    "",
    "video_id",
    "channelTitle",
    "title",
    "description",
    "tags",
    "publishedAt",
    "viewCount",
    "likeCount",
    "favouriteCount",
    "commentCount",
    "duration",
    "definition",
    "caption",
]


def _row(**overrides: str) -> dict[str, str]:
    row = {
        "video_id": "abc123",
        "channelTitle": "Test Channel",
        "title": "A title",
        "description": "line one\nline two",
        "tags": "['python', 'data']",
        "publishedAt": "2024-12-17T15:04:18Z",
        "viewCount": "1200",
        "likeCount": "30",
        "favouriteCount": "",
        "commentCount": "4",
        "duration": "PT10M8S",
        "definition": "hd",
        "caption": "false",
    }
    row.update(overrides)
    return row


def _csv(rows: list[dict[str, str]], header: list[str] = HEADER) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, extrasaction="ignore")
    writer.writeheader()
    for i, row in enumerate(rows):
        writer.writerow({"": str(i), **row})
    return out.getvalue()


def test_a_good_row_becomes_a_video() -> None:
    result = parse_uploads_csv_text(text=_csv([_row()]), source="t.csv")
    (channel,) = result.channels
    (video,) = channel.videos
    assert channel.channel_id == derive_channel_id("Test Channel")
    assert channel.channel_id.startswith("title:")
    assert channel.channel_id_derived
    assert video.published_at == datetime(2024, 12, 17, 15, 4, 18, tzinfo=UTC)
    assert video.tags == ("python", "data")
    assert (video.views, video.likes, video.comments, video.duration_seconds) == (
        1200,
        30,
        4,
        608,
    )
    assert video.description == "line one\nline two"
    assert (result.rows_read, result.video_count, result.rejected) == (1, 1, [])


def test_bad_rows_are_rejected_with_row_number_field_and_reason() -> None:
    marker = Path("/tmp/analytics_literal_eval_marker")
    marker.unlink(missing_ok=True)
    rows = [
        _row(video_id="ok1"),
        _row(video_id="v2", viewCount="12k"),
        _row(video_id="v3", tags=f"__import__('pathlib').Path('{marker}').touch()"),
        _row(video_id="v4", tags="{'not': 'a list'}"),
        _row(video_id="v5", publishedAt="2024-12-17 15:04:18"),
        _row(video_id="v6", duration="10:08"),
        _row(video_id="ok1"),
        _row(video_id="", title="no id"),
        _row(video_id="v9", viewCount=""),
        _row(video_id="v10", likeCount="-3"),
        _row(video_id="v11", channelTitle=""),
        _row(video_id="ok2"),
    ]
    result = parse_uploads_csv_text(text=_csv(rows))
    assert not marker.exists()  # the tags cell was parsed, never executed
    got = [(r.row_number, r.video_id, r.field) for r in result.rejected]
    assert got == [
        (2, "v2", "viewCount"),
        (3, "v3", "tags"),
        (4, "v4", "tags"),
        (5, "v5", "publishedAt"),
        (6, "v6", "duration"),
        (7, "ok1", "video_id"),
        (8, None, "video_id"),
        (9, "v9", "viewCount"),
        (10, "v10", "likeCount"),
        (11, "v11", "channelTitle"),
    ]
    assert all(r.reason for r in result.rejected)
    assert "duplicate" in result.rejected[5].reason
    assert [v.video_id for c in result.channels for v in c.videos] == ["ok1", "ok2"]
    assert result.rows_read == 12


def test_empty_likes_and_comments_count_as_zero_but_are_recorded() -> None:
    rows = [
        _row(video_id="a", likeCount=""),
        _row(video_id="b", commentCount="", likeCount=""),
        _row(video_id="c", duration=""),
        _row(video_id="d", duration="P0D"),
        _row(video_id="e", tags=""),
    ]
    result = parse_uploads_csv_text(text=_csv(rows))
    videos = {v.video_id: v for v in result.channels[0].videos}
    assert videos["a"].likes == 0 and videos["b"].comments == 0
    assert result.defaulted_counts == {"likeCount": 2, "commentCount": 1, "duration": 1}
    assert [(d.row_number, d.field) for d in result.defaulted] == [
        (1, "likeCount"),
        (2, "likeCount"),
        (2, "commentCount"),
        (3, "duration"),
    ]
    assert videos["c"].duration_seconds is None and videos["d"].duration_seconds is None
    assert result.unknown_duration_count == 1  # P0D; the empty cell is a default instead
    assert videos["e"].tags == ()


def test_channel_id_column_and_several_channels() -> None:
    header = [*HEADER, "channelId"]
    rows = [
        _row(video_id="a", channelId="UCaaa", channelTitle="Alpha"),
        _row(video_id="b", channelId="UCbbb", channelTitle="Beta"),
        _row(video_id="c", channelId="UCaaa", channelTitle="Alpha"),
        _row(video_id="d", channelId="", channelTitle="Gamma"),
    ]
    result = parse_uploads_csv_text(text=_csv(rows, header))
    assert [(c.channel_id, len(c.videos)) for c in result.channels] == [
        ("UCaaa", 2),
        ("UCbbb", 1),
        (derive_channel_id("Gamma"), 1),
    ]
    assert [c.channel_id_derived for c in result.channels] == [False, False, True]
    assert result.channel("UCaaa") is result.channels[0]
    assert result.channel_by_title("Beta") is result.channels[1]


def test_derived_ids_are_stable_and_normalised() -> None:
    assert derive_channel_id("Thu Vu  data analytics") == derive_channel_id(
        " thu vu data ANALYTICS "
    )
    assert derive_channel_id("codebasics") != derive_channel_id("codebasics2")
    with pytest.raises(ValueError, match="empty"):
        derive_channel_id("   ")


def test_missing_columns_raise_and_short_rows_are_rejected() -> None:
    with pytest.raises(CsvFormatError, match="viewCount"):
        parse_uploads_csv_text(text=_csv([_row()], [h for h in HEADER if h != "viewCount"]))
    text = _csv([_row(video_id="a")]) + "1,b,Test Channel,title\n"
    result = parse_uploads_csv_text(text=text)
    assert [(r.row_number, r.field) for r in result.rejected] == [(2, "(row)")]
    assert result.video_count == 1


def test_float_counts_and_bom() -> None:
    text = "\ufeff" + _csv([_row(viewCount="1200.0", likeCount="3.0")])
    result = parse_uploads_csv_text(text=text)
    (video,) = result.channels[0].videos
    assert (video.views, video.likes) == (1200, 3)
    bad = parse_uploads_csv_text(text=_csv([_row(viewCount="1.5")]))
    assert bad.rejected[0].field == "viewCount"


@pytest.mark.parametrize("column", ["thumbnail_link", "thumbnail_url", "thumbnail"])
def test_a_thumbnail_column_is_read_and_only_web_urls_are_kept(column: str) -> None:
    header = [*HEADER, column]
    rows = [
        _row(video_id="a", **{column: "https://i.ytimg.com/vi/a/default.jpg"}),
        _row(video_id="b", **{column: "http://i.ytimg.com/vi/b/hqdefault.jpg"}),
        _row(video_id="c", **{column: ""}),
        _row(video_id="d", **{column: "javascript:alert(1)"}),
        _row(video_id="e", **{column: "i.ytimg.com/vi/e/default.jpg"}),
        _row(video_id="f", **{column: "https://i.ytimg.com/" + "x" * 500}),
    ]
    result = parse_uploads_csv_text(text=_csv(rows, header))
    thumbs = {v.video_id: v.thumbnail_url for v in result.channels[0].videos}
    assert thumbs == {
        "a": "https://i.ytimg.com/vi/a/default.jpg",
        "b": "http://i.ytimg.com/vi/b/hqdefault.jpg",
        "c": None,
        "d": None,
        "e": None,
        "f": None,
    }
    # Dropped values are defaults, not rejections; an empty cell is just no thumbnail.
    assert result.rejected == []
    assert result.defaulted_counts == {column: 3}
    assert [(d.video_id, d.field) for d in result.defaulted] == [
        ("d", column),
        ("e", column),
        ("f", column),
    ]


def test_without_a_thumbnail_column_videos_have_none() -> None:
    result = parse_uploads_csv_text(text=_csv([_row()]))
    assert result.channels[0].videos[0].thumbnail_url is None
    assert result.defaulted_counts == {}


def test_the_trending_exports_thumbnail_links_are_web_urls(shared_data: Path) -> None:
    """``thumbnail_link`` as the trending export writes it passes the URL check."""
    trending = shared_data / "youtube/trending_us_2017_11/USvideos.csv"
    with trending.open(encoding="utf-8", newline="") as handle:
        links = [row["thumbnail_link"] for row in itertools.islice(csv.DictReader(handle), 200)]
    header = [*HEADER, "thumbnail_link"]
    rows = [_row(video_id=f"v{i}", thumbnail_link=link) for i, link in enumerate(links)]
    result = parse_uploads_csv_text(text=_csv(rows, header))
    assert [v.thumbnail_url for v in result.channels[0].videos] == links
    assert all(link.startswith("https://i.ytimg.com/") for link in links)


def test_a_spurious_systemerror_from_the_parser_is_tried_again(monkeypatch):
    """CPython 3.11.7 raised "AST constructor recursion depth mismatch" once in a full run
    for a valid tags cell; the second parse of the same text succeeds."""
    import ast as real_ast

    from agents.analytics import csv_import

    calls = []
    literal_eval = real_ast.literal_eval

    def flaky(text):
        calls.append(text)
        if len(calls) == 1:
            raise SystemError("AST constructor recursion depth mismatch (before=123, after=145)")
        return literal_eval(text)

    monkeypatch.setattr(csv_import.ast, "literal_eval", flaky)
    assert csv_import._tags("['espresso', 'latte art']") == ("espresso", "latte art")
    assert len(calls) == 2
