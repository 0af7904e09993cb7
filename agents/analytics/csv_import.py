"""Import channel uploads from a CSV with the YouTube Data API's column names.

The layout is the one the common "channels.list -> playlistItems.list -> videos.list"
export scripts write (and ``shared/data/youtube/channel_uploads/*.csv`` holds): an
optional leading unnamed index column, then ``video_id, channelTitle, title,
description, tags, publishedAt, viewCount, likeCount, favouriteCount, commentCount,
duration, definition, caption``, and optionally ``channelId``. One file may hold
several channels.

Decisions, per field:

- **Channel id.** ``channelId`` when the column exists and the cell is not empty.
  Otherwise a stable id derived from the title: ``"title:" +`` the first 16 hex digits
  of SHA-256 of the NFC-normalised, case-folded, whitespace-collapsed ``channelTitle``.
  The ``title:`` prefix can never collide with a real id (``UC...``), the same title
  always gives the same id, and ``ImportedChannel.channel_id_derived`` says which kind
  it is. A row with neither is rejected.
- **viewCount** must be a non-negative integer; empty or invalid rejects the row (a
  public video always has a view count, so an empty one means a broken export).
- **likeCount / commentCount** empty -> 0, because the API omits them when the creator
  hides likes or disables comments. That 0 is not a measurement, so every such cell
  is recorded in ``UploadsImport.defaulted`` (row, video, field, reason) and counted in
  ``defaulted_counts``. A non-empty invalid value rejects the row.
- **duration** ``P0D`` / ``PT0S`` -> unknown (``None``, counted in
  ``unknown_duration_count``); empty -> unknown and recorded in ``defaulted``; invalid
  ISO-8601 rejects the row.
- **publishedAt** must be ISO-8601 with a timezone; stored in UTC.
- **tags** is a Python-list string; it is parsed with ``ast.literal_eval`` (which only
  builds literals, never runs code) after a size check, and must be a list of strings.
  Empty -> no tags.
- **video_id** must be non-empty and unique in the file; a repeated id rejects the
  later row.
- **thumbnail** is read from the first of ``thumbnail_url``, ``thumbnail_link`` (as in
  the trending exports) or ``thumbnail`` the header has, if any. Only an absolute
  http(s) URL of at most 500 characters is kept; anything else is dropped (no
  thumbnail), recorded in ``defaulted`` and counted in ``defaulted_counts`` under the
  column's name, never a rejected row. An empty cell is simply no thumbnail.
- ``favouriteCount``, ``definition`` and ``caption`` are not used.

A bad row never aborts the import: it lands in ``rejected`` with its row number (1 =
the first data row after the header, whatever line it starts on, since descriptions
span lines), the offending field and the reason. Only a header missing required
columns raises ``CsvFormatError``.
"""

from __future__ import annotations

import ast
import csv
import hashlib
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from agents.analytics.durations import parse_duration
from agents.analytics.video import Video

REQUIRED_COLUMNS = (
    "video_id",
    "channelTitle",
    "title",
    "description",
    "tags",
    "publishedAt",
    "viewCount",
    "likeCount",
    "commentCount",
    "duration",
)
THUMBNAIL_COLUMNS = ("thumbnail_url", "thumbnail_link", "thumbnail")
MAX_URL_CHARS = 500  # what the stored thumbnail URL holds
MAX_TAGS_CHARS = 20_000  # YouTube caps tags at 500 characters; far above that is not tags.
DERIVED_ID_PREFIX = "title:"
_WHITESPACE = re.compile(r"\s+")


class CsvFormatError(ValueError):
    """The file is not an uploads CSV at all (e.g. required columns are missing)."""


class RejectedRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    row_number: int
    video_id: str | None
    field: str
    reason: str


class DefaultedValue(BaseModel):
    model_config = ConfigDict(frozen=True)

    row_number: int
    video_id: str
    field: str
    value: int | None
    reason: str


class ImportedChannel(BaseModel):
    model_config = ConfigDict(frozen=True)

    channel_id: str
    channel_id_derived: bool
    channel_title: str
    videos: list[Video]


class UploadsImport(BaseModel):
    model_config = ConfigDict(frozen=True)

    source: str
    rows_read: int
    channels: list[ImportedChannel]  # in order of first appearance
    rejected: list[RejectedRow]
    defaulted: list[DefaultedValue]
    defaulted_counts: dict[str, int]
    unknown_duration_count: int

    @property
    def video_count(self) -> int:
        return sum(len(c.videos) for c in self.channels)

    def channel(self, channel_id: str) -> ImportedChannel | None:
        return next((c for c in self.channels if c.channel_id == channel_id), None)

    def channel_by_title(self, title: str) -> ImportedChannel | None:
        return next((c for c in self.channels if c.channel_title == title), None)


def derive_channel_id(channel_title: str) -> str:
    """Stable channel id for a file without ``channelId`` (see module docstring)."""
    key = _WHITESPACE.sub(" ", unicodedata.normalize("NFC", channel_title)).strip().casefold()
    if not key:
        raise ValueError("cannot derive a channel id from an empty channel title")
    return DERIVED_ID_PREFIX + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


class _RowError(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _count(raw: str, field: str) -> int:
    text = raw.strip()
    # A few exporters write floats ("123.0") once pandas has touched a column.
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    if not text.isascii() or not text.isdigit():
        raise _RowError(field, f"expected a non-negative integer, got {raw!r}")
    return int(text)


def _published_at(raw: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise _RowError("publishedAt", f"not an ISO-8601 timestamp: {raw!r}") from None
    if value.tzinfo is None:
        raise _RowError("publishedAt", f"timestamp has no timezone: {raw!r}")
    return value.astimezone(UTC)


# CPython 3.11.7's AST conversion can fail spuriously with "SystemError: AST constructor
# recursion depth mismatch" (seen twice in full test runs, in this call, with background
# threads and finalizers at work; not reproduced on demand, not in a plain threaded loop):
# a parse that fails so is tried once more. Anything else it raises is the text's fault.
def _literal_eval(text: str) -> object:
    try:
        return ast.literal_eval(text)
    except SystemError:
        return ast.literal_eval(text)


def _tags(raw: str) -> tuple[str, ...]:
    text = raw.strip()
    if not text:
        return ()
    if len(text) > MAX_TAGS_CHARS:
        raise _RowError("tags", f"tags cell is {len(text)} characters (limit {MAX_TAGS_CHARS})")
    try:
        value = _literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise _RowError("tags", "not a Python list literal of strings") from None
    if not isinstance(value, list | tuple) or not all(isinstance(t, str) for t in value):
        raise _RowError("tags", f"expected a list of strings, got {type(value).__name__}")
    return tuple(value)


def web_url(value: str) -> str | None:
    """``value`` when it is an absolute http(s) URL that fits the column, else ``None``."""
    text = value.strip()
    if len(text) > MAX_URL_CHARS or any(ch.isspace() for ch in text):
        return None
    scheme, sep, rest = text.partition("://")
    if not sep or scheme.lower() not in ("http", "https") or not rest.split("/", 1)[0]:
        return None
    return text


def _channel(row: Mapping[str, str | None]) -> tuple[str, bool, str]:
    title = (row.get("channelTitle") or "").strip()
    given = (row.get("channelId") or "").strip()
    if given:
        return given, False, title or given
    if not title:
        raise _RowError("channelTitle", "empty, and there is no channelId to fall back on")
    return derive_channel_id(title), True, title


def parse_uploads_csv(*, lines: Iterable[str], source: str) -> UploadsImport:
    """Parse an uploads CSV given as lines of text (an open file, ``str.splitlines``...)."""
    reader = csv.DictReader(iter(lines))
    header = [name.strip().lstrip("\ufeff") for name in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise CsvFormatError(f"{source}: missing column(s) {', '.join(missing)}")
    reader.fieldnames = header
    thumbnail_column = next((c for c in THUMBNAIL_COLUMNS if c in header), None)

    channels: dict[str, tuple[bool, str, list[Video]]] = {}
    rejected: list[RejectedRow] = []
    defaulted: list[DefaultedValue] = []
    seen_ids: set[str] = set()
    unknown_durations = 0
    row_number = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            row_number += 1
            rejected.append(
                RejectedRow(row_number=row_number, video_id=None, field="(row)", reason=str(exc))
            )
            continue
        row_number += 1
        video_id = (row.get("video_id") or "").strip()
        try:
            if None in row or any(row.get(c) is None for c in REQUIRED_COLUMNS):
                raise _RowError("(row)", "wrong number of cells for the header")
            if not video_id:
                raise _RowError("video_id", "empty")
            if video_id in seen_ids:
                raise _RowError("video_id", "duplicate of an earlier row")
            channel_id, derived, channel_title = _channel(row)
            published_at = _published_at(row["publishedAt"])
            views_raw = row["viewCount"]
            if not views_raw.strip():
                raise _RowError("viewCount", "empty")
            views = _count(views_raw, "viewCount")
            stats: dict[str, int] = {}
            row_defaults: list[DefaultedValue] = []
            for field in ("likeCount", "commentCount"):
                raw = row[field]
                if raw.strip():
                    stats[field] = _count(raw, field)
                else:
                    stats[field] = 0
                    row_defaults.append(
                        DefaultedValue(
                            row_number=row_number,
                            video_id=video_id,
                            field=field,
                            value=0,
                            reason="empty (hidden by the creator or not exported); counted as 0",
                        )
                    )
            duration_raw = row["duration"].strip()
            if duration_raw:
                try:
                    duration = parse_duration(duration_raw)
                except ValueError as exc:
                    raise _RowError("duration", str(exc)) from None
            else:
                duration = None
                row_defaults.append(
                    DefaultedValue(
                        row_number=row_number,
                        video_id=video_id,
                        field="duration",
                        value=None,
                        reason="empty; duration treated as unknown (long-form)",
                    )
                )
            tags = _tags(row["tags"])
            thumbnail_raw = (row.get(thumbnail_column) or "") if thumbnail_column else ""
            thumbnail = web_url(thumbnail_raw) if thumbnail_raw.strip() else None
            if thumbnail_column and thumbnail_raw.strip() and thumbnail is None:
                row_defaults.append(
                    DefaultedValue(
                        row_number=row_number,
                        video_id=video_id,
                        field=thumbnail_column,
                        value=None,
                        reason="not an http(s) URL; dropped (no thumbnail)",
                    )
                )
        except _RowError as exc:
            rejected.append(
                RejectedRow(
                    row_number=row_number,
                    video_id=video_id or None,
                    field=exc.field,
                    reason=exc.reason,
                )
            )
            continue

        seen_ids.add(video_id)
        defaulted.extend(row_defaults)
        if duration is None and duration_raw:
            unknown_durations += 1
        video = Video(
            video_id=video_id,
            channel_id=channel_id,
            channel_title=channel_title,
            title=row["title"],
            description=row["description"],
            tags=tags,
            published_at=published_at,
            duration_seconds=duration,
            views=views,
            likes=stats["likeCount"],
            comments=stats["commentCount"],
            thumbnail_url=thumbnail,
        )
        channels.setdefault(channel_id, (derived, channel_title, []))[2].append(video)

    counts: dict[str, int] = {}
    for item in defaulted:
        counts[item.field] = counts.get(item.field, 0) + 1
    return UploadsImport(
        source=source,
        rows_read=row_number,
        channels=[
            ImportedChannel(
                channel_id=channel_id, channel_id_derived=derived, channel_title=title, videos=vids
            )
            for channel_id, (derived, title, vids) in channels.items()
        ],
        rejected=rejected,
        defaulted=defaulted,
        defaulted_counts=counts,
        unknown_duration_count=unknown_durations,
    )


def parse_uploads_csv_text(*, text: str, source: str = "uploaded CSV") -> UploadsImport:
    return parse_uploads_csv(lines=io.StringIO(text, newline=""), source=source)


def load_uploads_csv(*, path: Path) -> UploadsImport:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return parse_uploads_csv(lines=handle, source=path.name)


__all__ = [
    "CsvFormatError",
    "DefaultedValue",
    "ImportedChannel",
    "RejectedRow",
    "UploadsImport",
    "derive_channel_id",
    "load_uploads_csv",
    "parse_uploads_csv",
    "parse_uploads_csv_text",
    "web_url",
]
