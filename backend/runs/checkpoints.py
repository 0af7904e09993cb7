"""LangGraph checkpointers for runs: PostgreSQL in production, a SQLite file when embedded.

The agents package takes the checkpointer as an argument (``compile_graph(checkpointer=)``);
this module is where the backend chooses and opens it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import structlog
from django.conf import settings
from django.db import connection

from backend.runs.worker_loop import is_process_loop, on_shutdown

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig

logger = structlog.get_logger(__name__)

_setup_done: set[str] = set()
_setup_lock = threading.Lock()

# Compiling the agent graph costs more CPU than running it; it is compiled once per
# process without a checkpointer, and each checkpointer gets a cheap copy.
_base_graph: Any = None
_graph_lock = threading.Lock()
# The worker's long-lived loop keeps one pool, and a graph on a saver over it, per DSN.
_process_pools: dict[str, Any] = {}
_process_graphs: dict[str, Any] = {}
_process_saver_lock: asyncio.Lock | None = None


def postgres_dsn() -> str | None:
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


def _graph_with(saver: Any) -> Any:
    global _base_graph
    with _graph_lock:
        if _base_graph is None:
            from agents import compile_graph

            _base_graph = compile_graph(checkpointer=None)
        base = _base_graph
    return base.copy(update={"checkpointer": saver})


@asynccontextmanager
async def open_graph() -> AsyncIterator[Any]:
    """The compiled agent graph on the run checkpointer.

    On a worker's long-lived loop (PostgreSQL) the saver sits on a connection pool kept
    for the process; elsewhere a checkpointer is opened for this run, as before.
    """
    dsn = postgres_dsn()
    if dsn and is_process_loop():
        yield await _process_graph(dsn)
        return
    async with open_checkpointer() as saver:
        yield _graph_with(saver)


async def process_pool(dsn: str) -> Any:
    """The worker loop's PostgreSQL pool for ``dsn`` (checkpoints, run events), opened once.

    Only on the process loop (``worker_loop.is_process_loop()``)."""
    global _process_saver_lock
    found = _process_pools.get(dsn)
    if found is not None:
        return found
    if _process_saver_lock is None:
        _process_saver_lock = asyncio.Lock()
    async with _process_saver_lock:
        found = _process_pools.get(dsn)
        if found is not None:
            return found
        from psycopg.rows import dict_row
        from psycopg_pool import AsyncConnectionPool

        from backend.core.pool_checks import acheck_pooled_connection

        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            dsn,
            min_size=1,
            max_size=16,
            max_idle=300,
            # Checked on checkout: a PostgreSQL restart costs a reconnect, not failed runs.
            check=acheck_pooled_connection,
            open=False,
            kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
        )
        await pool.open()
        on_shutdown(pool.close)
        _process_pools[dsn] = pool
        return pool


def _pooled_saver_class() -> Any:
    """LangGraph's PostgreSQL saver, without its one lock per saver around a pool.

    ``AsyncPostgresSaver`` takes ``self.lock`` around every operation, pool or not: with
    one saver per process, every checkpoint read and write of every run in flight waited
    in one line (at 50 runs, ~1 s before each step). Over a pool each operation has a
    connection of its own, so none needs the lock; LangGraph still orders one run's writes
    itself (each put after the previous one).
    """
    from langgraph.checkpoint.base import WRITES_IDX_MAP, get_serializable_checkpoint_metadata
    from langgraph.checkpoint.postgres import _ainternal
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    from langgraph.checkpoint.serde.types import _DeltaSnapshot
    from psycopg.rows import dict_row
    from psycopg.types.json import Jsonb

    class PooledPostgresSaver(AsyncPostgresSaver):
        """Writes each checkpoint with its blobs, and each task's writes, as one statement.

        LangGraph's saver sends one INSERT per blob and per write (``executemany``, ~35
        statements a chat run) and serialises them on a thread first (a thread hop per
        checkpoint and per task, for a few kilobytes). The rows, tables and conflict rules
        are LangGraph's own, so its readers (state, history, forks, interrupts) are
        unchanged (``tests/backend/runs/test_checkpoint_writes.py``).
        """

        async def aput(
            self,
            config: RunnableConfig,
            checkpoint: Any,
            metadata: Any,
            new_versions: Any,
        ) -> RunnableConfig:
            configurable = dict(config["configurable"])
            thread_id = configurable.pop("thread_id")
            checkpoint_ns = configurable.pop("checkpoint_ns")
            parent_id = configurable.pop("checkpoint_id", None)
            copy = checkpoint.copy()
            copy["channel_values"] = copy["channel_values"].copy()
            # As LangGraph's saver: primitives inline, the rest (and delta snapshots,
            # marked True inline) in blobs.
            blob_values = {}
            for key, value in checkpoint["channel_values"].items():
                if isinstance(value, _DeltaSnapshot):
                    blob_values[key] = copy["channel_values"].pop(key)
                    copy["channel_values"][key] = True
                elif value is None or isinstance(value, str | int | float | bool):
                    pass
                else:
                    blob_values[key] = copy["channel_values"].pop(key)
            versions = {k: v for k, v in new_versions.items() if k in blob_values}
            blobs = self._dump_blobs(thread_id, checkpoint_ns, blob_values, versions)
            row = (
                thread_id,
                checkpoint_ns,
                checkpoint["id"],
                parent_id,
                Jsonb(copy),
                Jsonb(get_serializable_checkpoint_metadata(config, metadata)),
            )
            sql, params = self.UPSERT_CHECKPOINTS_SQL.strip().rstrip(";"), list(row)
            if blobs:
                # The blobs ride in the same statement (a data-modifying WITH), so the
                # checkpoint and its blobs are one round trip, with no pipeline to sync.
                blobs_sql, blob_params = multi_row(self.UPSERT_CHECKPOINT_BLOBS_SQL, blobs)
                sql = f"WITH blobs AS ({blobs_sql.strip()}) {sql}"
                params = [*blob_params, *params]
            async with self._cursor() as cur:
                await cur.execute(sql, params)
            return {
                "configurable": {
                    "thread_id": thread_id,
                    "checkpoint_ns": checkpoint_ns,
                    "checkpoint_id": checkpoint["id"],
                }
            }

        async def aput_writes(
            self,
            config: RunnableConfig,
            writes: Any,
            task_id: str,
            task_path: str = "",
        ) -> None:
            if not writes:
                return
            upsert = all(write[0] in WRITES_IDX_MAP for write in writes)
            rows = self._dump_writes(
                config["configurable"]["thread_id"],
                config["configurable"]["checkpoint_ns"],
                config["configurable"]["checkpoint_id"],
                task_id,
                task_path,
                writes,
            )
            if upsert:
                # One statement may not update a row twice: the last write of a key wins,
                # as it did when each was its own statement.
                rows = list({row[:6]: row for row in rows}.values())
            sql = self.UPSERT_CHECKPOINT_WRITES_SQL if upsert else self.INSERT_CHECKPOINT_WRITES_SQL
            async with self._cursor() as cur:
                await cur.execute(*multi_row(sql, rows))

        @asynccontextmanager
        async def _cursor(self, *, pipeline: bool = False) -> AsyncIterator[Any]:
            async with _ainternal.get_connection(self.conn) as conn:
                if pipeline and self.supports_pipeline:
                    async with (
                        conn.pipeline(),
                        conn.cursor(binary=True, row_factory=dict_row) as cur,
                    ):
                        yield cur
                elif pipeline:
                    async with (
                        conn.transaction(),
                        conn.cursor(binary=True, row_factory=dict_row) as cur,
                    ):
                        yield cur
                else:
                    async with conn.cursor(binary=True, row_factory=dict_row) as cur:
                        yield cur

    return PooledPostgresSaver


def multi_row(sql: str, rows: list[tuple[Any, ...]]) -> tuple[str, list[Any]]:
    """A one-row ``INSERT … VALUES (%s, …) …`` for all ``rows`` at once: one statement
    (parsed, planned and executed once) instead of one per row."""
    head, _, rest = sql.partition("VALUES")
    start, end = rest.index("("), rest.index(")") + 1
    values = rest[start:end]
    statement = f"{head}VALUES {', '.join([values] * len(rows))}{rest[end:]}"
    return statement, [value for row in rows for value in row]


async def _process_graph(dsn: str) -> Any:
    found = _process_graphs.get(dsn)
    if found is not None:
        return found
    saver = _pooled_saver_class()(conn=await process_pool(dsn))
    await _setup_once(dsn, saver)
    return _process_graphs.setdefault(dsn, _graph_with(saver))


@asynccontextmanager
async def open_checkpointer() -> AsyncIterator[Any]:
    dsn = postgres_dsn()
    if dsn:
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

        async with AsyncPostgresSaver.from_conn_string(dsn) as saver:
            await _setup_once(dsn, saver)
            yield saver
        return
    import aiosqlite
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    # Writers wait as long as Django's SQLite connections do (aiosqlite's default is 5 s).
    timeout = settings.ENV.SQLITE_BUSY_TIMEOUT_S
    async with aiosqlite.connect(_sqlite_path(), timeout=timeout) as conn:
        sqlite_saver = AsyncSqliteSaver(conn)
        try:
            await _setup_once(_sqlite_path(), sqlite_saver)
            yield sqlite_saver
        finally:
            await _close_after_pending_writes(sqlite_saver)


async def _close_after_pending_writes(saver: Any) -> None:
    """Close the run's SQLite connection once the checkpoint writes in flight are done.

    When a run is cancelled, LangGraph still records the interrupted step's writes from a
    background task that outlives the ``async with`` around the graph. Closing the
    connection under it (between its INSERT and its COMMIT) left an open write
    transaction on a closed connection whose cursor could not be finalised: an SQLite
    "zombie" that kept the database's write lock until garbage collection, so the
    session's next run failed with "database is locked". Every saver operation holds
    ``saver.lock`` from its first statement to its commit; taking it here waits for the one
    in flight, and any later one finds the connection closed and writes nothing.
    """
    async with saver.lock:
        try:
            await saver.conn.rollback()  # what a write cancelled before its commit left
        except Exception:
            logger.warning("checkpoint_rollback_failed", exc_info=True)
        await saver.conn.close()


# Any fixed number: the PostgreSQL advisory lock every process takes around the
# checkpointer's migrations. LangGraph's setup() is not safe to run from several processes
# at once on a fresh database (two workers' first runs: a duplicate-key error on its
# migrations table, or a deadlock, failed those runs).
SETUP_LOCK_KEY = 7_304_151_622
# Waiting is a poll, not a blocking pg_advisory_lock: setup() builds indexes CONCURRENTLY,
# which waits for every open transaction, a blocked lock request included (a deadlock).
_TRY_LOCK = "SELECT pg_try_advisory_lock(%s) AS locked"
SETUP_LOCK_POLL_S = 0.2


async def _setup_once(key: str, saver: Any) -> None:
    with _setup_lock:
        if key in _setup_done:
            return
    dsn = postgres_dsn()
    if dsn and key == dsn:
        # On a connection of its own, under a cluster-wide lock (setup_postgres_sync).
        await asyncio.to_thread(setup_postgres_sync, dsn)
    else:
        await saver.setup()
    with _setup_lock:
        _setup_done.add(key)


def setup_done(key: str) -> bool:
    with _setup_lock:
        return key in _setup_done


def setup_postgres_sync(dsn: str) -> None:
    """The checkpointer's migrations under a cluster-wide advisory lock, on a connection
    of its own (closing it releases the lock)."""
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg import Connection
    from psycopg.rows import dict_row

    with Connection.connect(
        dsn, autocommit=True, prepare_threshold=0, row_factory=dict_row
    ) as conn:
        while not (conn.execute(_TRY_LOCK, (SETUP_LOCK_KEY,)).fetchone() or {})["locked"]:
            time.sleep(SETUP_LOCK_POLL_S)
        PostgresSaver(conn=conn).setup()  # type: ignore[arg-type]
    with _setup_lock:
        _setup_done.add(dsn)


def delete_thread(*, thread_id: str) -> None:
    delete_threads(thread_ids=[thread_id])


def delete_threads(*, thread_ids: list[str]) -> None:
    """Delete checkpoint threads over one connection (retention deletes them in batches)."""
    if not thread_ids:
        return
    dsn = postgres_dsn()
    if dsn:
        from langgraph.checkpoint.postgres import PostgresSaver

        if not setup_done(dsn):
            setup_postgres_sync(dsn)
        with PostgresSaver.from_conn_string(dsn) as saver:
            for thread_id in thread_ids:
                saver.delete_thread(thread_id)
        return
    from langgraph.checkpoint.sqlite import SqliteSaver

    with SqliteSaver.from_conn_string(_sqlite_path()) as saver:
        saver.setup()
        for thread_id in thread_ids:
            saver.delete_thread(thread_id)
