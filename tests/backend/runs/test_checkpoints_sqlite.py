"""The embedded checkpointer's SQLite connection ends without holding the write lock.

A cancelled run used to leave the checkpoint database locked: LangGraph writes the
interrupted step from a background task that outlived the run's connection, the
connection was closed between that INSERT and its COMMIT, and the closed connection
(an SQLite "zombie", since a cursor of it was still alive) kept the write lock until
garbage collection. The session's next run then failed with "database is locked"
(``test_chat_runs.py::test_cancel_mid_run_then_the_session_still_works``, about one run
in ten).
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from backend.runs.checkpoints import open_checkpointer

INSERT_WRITE = (
    "INSERT INTO writes (thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel)"
    " VALUES (?, '', 'c1', 't1', ?, 'messages')"
)


@pytest.fixture
def checkpoint_db(settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # The embedded checkpointer, also when the suite runs against PostgreSQL (where
    # open_checkpointer would pick the PostgreSQL saver and these SQLite writes hang).
    monkeypatch.setattr("backend.runs.checkpoints.postgres_dsn", lambda: None)
    settings.DATA_DIR = tmp_path
    return tmp_path / "checkpoints.sqlite3"


def write_lock_state(path: Path) -> str:
    """ "free" when another connection could start writing right now."""
    probe = sqlite3.connect(path, timeout=0)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.rollback()
        return "free"
    except sqlite3.OperationalError as exc:
        return str(exc)
    finally:
        probe.close()


def rows(path: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT thread_id, idx FROM writes ORDER BY idx").fetchall()


async def test_closing_waits_for_the_write_in_flight(checkpoint_db):
    """LangGraph's background write holds the saver's lock from its INSERT to its COMMIT;
    the checkpointer closes only after it, and the write is kept."""
    checkpointer = open_checkpointer()
    saver = await checkpointer.__aenter__()
    inserted, release = asyncio.Event(), asyncio.Event()

    async def background_write() -> None:  # what AsyncSqliteSaver.aput_writes does
        async with saver.lock:
            cursor = await saver.conn.execute(INSERT_WRITE, ("session", 0))
            inserted.set()
            await release.wait()
            await saver.conn.commit()
            await cursor.close()

    writer = asyncio.create_task(background_write())
    await inserted.wait()
    closing = asyncio.create_task(checkpointer.__aexit__(None, None, None))
    await asyncio.sleep(0)  # the close starts while the write is between INSERT and COMMIT
    release.set()
    await asyncio.gather(writer, closing)
    assert write_lock_state(checkpoint_db) == "free"
    assert rows(checkpoint_db) == [("session", 0)]


async def test_an_uncommitted_write_with_a_live_cursor_does_not_keep_the_lock(checkpoint_db):
    """A write cancelled before its COMMIT, with a cursor its coroutine's frame still
    holds: closing the connection alone would leave it a zombie holding the lock."""
    async with open_checkpointer() as saver:
        await saver.conn.execute(INSERT_WRITE, ("session", 0))
        await saver.conn.execute(INSERT_WRITE, ("session", 1))
        reading = await saver.conn.execute("SELECT idx FROM writes")
        assert await reading.fetchone() is not None  # its statement is still running
    assert write_lock_state(checkpoint_db) == "free"
    assert rows(checkpoint_db) == []  # the interrupted write is not kept
    del reading
