"""LangGraph checkpointers for runs: PostgreSQL in production, a SQLite file when embedded.

The agents package takes the checkpointer as an argument (``compile_graph(checkpointer=)``);
this module is where the backend chooses and opens it.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from django.conf import settings
from django.db import connection

_setup_done: set[str] = set()
_setup_lock = threading.Lock()


def _postgres_dsn() -> str | None:
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        return None
    name = connection.settings_dict["NAME"]  # the test database under pytest
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgresql://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{name}"
    )


def _sqlite_path() -> str:
    return str(settings.DATA_DIR / "checkpoints.sqlite3")


@asynccontextmanager
async def open_checkpointer() -> AsyncIterator[Any]:
    dsn = _postgres_dsn()
    if dsn:
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

        async with AsyncPostgresSaver.from_conn_string(dsn) as saver:
            await _setup_once(dsn, saver)
            yield saver
        return
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    async with AsyncSqliteSaver.from_conn_string(_sqlite_path()) as saver:
        await _setup_once(_sqlite_path(), saver)
        yield saver


async def _setup_once(key: str, saver: Any) -> None:
    with _setup_lock:
        if key in _setup_done:
            return
    await saver.setup()
    with _setup_lock:
        _setup_done.add(key)


def delete_thread(*, thread_id: str) -> None:
    dsn = _postgres_dsn()
    if dsn:
        from langgraph.checkpoint.postgres import PostgresSaver

        with PostgresSaver.from_conn_string(dsn) as saver:
            saver.setup()
            saver.delete_thread(thread_id)
        return
    from langgraph.checkpoint.sqlite import SqliteSaver

    with SqliteSaver.from_conn_string(_sqlite_path()) as saver:
        saver.setup()
        saver.delete_thread(thread_id)
