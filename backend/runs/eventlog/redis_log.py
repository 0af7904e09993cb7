"""Production event log: one Redis Stream per run.

Entry ids are ``<seq>-0``, assigned with the seq by one Lua script, so "events after
cursor N" is a plain ``XREAD`` from ``N-0``, and a trimmed or expired log is detected by
the first entry not being ``N+1``. A session's new runs are announced on a small stream
of the session's own (``sessionlog:{id}:runs``), which idle session streams ``XREAD``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis
import redis.asyncio as aioredis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

from backend.runs.eventlog.base import Event, announced_session

logger = logging.getLogger(__name__)

_APPEND = """
local seq = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[5], seq .. '-0',
  't', ARGV[1], 'a', ARGV[2], 'ts', ARGV[3], 'd', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('EXPIRE', KEYS[2], ARGV[6])
return seq
"""

# Raise the run's counter to at least ARGV[1] (never lower it).
_RESUME = """
local seq = tonumber(redis.call('GET', KEYS[1]) or '0')
if seq < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
end
return seq
"""

# A stream's XREAD blocks up to its ping interval (15 s) before it answers empty. The
# client's socket timeout must outlast that block (redis-py's default, 5 s, cut a quiet
# stream off mid-response); it still bounds a dead connection.
READ_SOCKET_TIMEOUT_S = 60.0
MAX_BLOCK_S = READ_SOCKET_TIMEOUT_S - 10

# The shortest time between two reads of the fan-in reader: an event waits at most this
# long for a read that also brings the other streams' events (10 ms: unseen in a chat).
FANIN_READ_GAP_S = 0.01

# Every stream waiting on the log holds one connection while its XREAD blocks. redis-py's
# async pool allows 100 and then fails at once ("Too many connections": at 200 concurrent
# chats 163 streams were cut off), so the ceiling is Redis's own maxclients (10,000 by
# default) instead; a client's open streams are capped (SSE_MAX_STREAMS_PER_CLIENT).
MAX_CONNECTIONS = 10_000
# A CLIENT UNBLOCK that found the fan-in reader not yet blocked is sent again this often.
UNBLOCK_TRIES = 50
UNBLOCK_RETRY_S = 0.002
# Only "something new" matters to a session's readers; the database has the runs.
SESSION_ANNOUNCE_MAX_LEN = 16
NO_MARK = "0-0"


class _AppendBatcher:
    """The appends of every run on one loop, sent to Redis together.

    Hundreds of runs in flight each append an event every few hundred milliseconds; one
    script call each cost its own round trip and most of the worker's CPU in the client
    library (at 200 runs streaming at 10 tokens/s, 30 % of the worker). Appends made in
    the same turn of the loop go out as one pipeline of script calls instead. One run
    appends one event at a time (each ``aemit`` awaits the last), so its order holds; a
    failure reaches every caller of its batch, which retries as before.
    """

    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client
        self._script: AsyncScript = client.register_script(_APPEND)
        self._pending: list[tuple[list[str], list[Any], asyncio.Future[Any]]] = []
        self._sending: set[asyncio.Task[None]] = set()

    def append(self, *, keys: list[str], args: list[Any]) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((keys, args, future))
        if len(self._pending) == 1:
            task = loop.create_task(self._send())  # after the other runs' turns in this pass
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
        return future

    async def _send(self) -> None:
        batch, self._pending = self._pending, []
        if len(batch) == 1:
            keys, args, future = batch[0]
            await self._one(keys, args, future)
            return
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for keys, args, _future in batch:
                    pipe.evalsha(self._script.sha, len(keys), *keys, *args)
                replies = await pipe.execute(raise_on_error=False)
        except BaseException as exc:
            for _keys, _args, future in batch:
                _settle(future, error=exc)
            if not isinstance(exc, Exception):
                raise
            return
        for (keys, args, future), reply in zip(batch, replies, strict=True):
            if isinstance(reply, NoScriptError):  # Redis restarted (or flushed its scripts)
                await self._one(keys, args, future)
            elif isinstance(reply, Exception):
                _settle(future, error=reply)
            else:
                _settle(future, result=reply)

    async def _one(self, keys: list[str], args: list[Any], future: asyncio.Future[Any]) -> None:
        """One script call (which loads the script when Redis does not know it)."""
        try:
            reply = await self._script(keys=keys, args=args)
        except Exception as exc:
            _settle(future, error=exc)
        else:
            _settle(future, result=reply)


def _settle(
    future: asyncio.Future[Any], *, result: Any = None, error: BaseException | None = None
) -> None:
    if future.done():  # its caller was cancelled meanwhile
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


@dataclass(eq=False)
class _Waiter:
    key: str
    after: int
    deadline: float
    future: asyncio.Future[list[tuple[Any, Any]]]


class _FanInReader:
    """Every live stream of one loop waits on one blocking ``XREAD``.

    One ``XREAD`` per stream per event cost the web process a round trip and most of its
    client-library CPU per event (at 200 streams, ~30 % of the web). Here the streams
    register what they wait for (a run's key and cursor), and one reader blocks on all of
    their keys at once on a connection of its own, handing each stream its entries. A
    stream that registers while the reader is blocked without its key wakes it with
    ``CLIENT UNBLOCK`` (at most once a block), so it never waits for the block to end.
    """

    def __init__(self, url: str, control: aioredis.Redis) -> None:
        self._url = url
        self._control = control
        self._conn: aioredis.Redis | None = None
        self._conn_id: int | None = None
        self._waiters: dict[str, list[_Waiter]] = {}
        self._task: asyncio.Task[None] | None = None
        self._blocked: dict[str, int] | None = None  # what the blocking XREAD waits on
        self._blocked_until = 0.0
        self._waking: asyncio.Task[Any] | None = None
        self._round = 0  # XREADs sent so far
        self._waking_round = 0
        self._answered: dict[str, int] = {}  # key -> last seq handed out in the last round

    async def wait(self, *, key: str, after: int, timeout_s: float) -> list[tuple[Any, Any]]:
        loop = asyncio.get_running_loop()
        waiter = _Waiter(
            key=key, after=after, deadline=loop.time() + timeout_s, future=loop.create_future()
        )
        self._waiters.setdefault(key, []).append(waiter)
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._serve(), name="event-log-reader")
        elif self._blocked is not None and (
            key not in self._blocked
            or after < self._blocked[key]
            or waiter.deadline < self._blocked_until
        ):
            self._wake()
        try:
            return await waiter.future
        finally:
            self._forget(waiter)

    def _forget(self, waiter: _Waiter) -> None:
        waiting = self._waiters.get(waiter.key)
        if waiting and waiter in waiting:
            waiting.remove(waiter)
            if not waiting:
                del self._waiters[waiter.key]
                if not self._waiters and self._blocked is not None:
                    self._wake()  # nobody waits any more: let the reader end

    def _answer(self, waiter: _Waiter, entries: list[tuple[Any, Any]]) -> None:
        self._forget(waiter)
        if not waiter.future.done():
            waiter.future.set_result(entries)

    def _wake(self) -> None:
        if self._conn_id is None:
            return
        if (
            self._waking is not None
            and not self._waking.done()
            and self._waking_round == self._round
        ):
            return  # this block is being woken already
        self._waking_round = self._round
        self._waking = asyncio.get_running_loop().create_task(
            self._unblock(self._conn_id, self._round)
        )

    async def _unblock(self, conn_id: int, round: int) -> None:
        # The UNBLOCK can reach Redis before the XREAD it is meant for (they travel on two
        # connections): Redis answers 0 then, and it is sent again until that read ends.
        try:
            for _ in range(UNBLOCK_TRIES):
                if await self._control.execute_command("CLIENT", "UNBLOCK", conn_id):
                    return
                if self._round != round or self._blocked is None:
                    return  # that read ended by itself
                await asyncio.sleep(UNBLOCK_RETRY_S)
        except Exception:
            # The reader's own block still ends by its deadline.
            logger.debug("waking the event-log reader failed", exc_info=True)

    async def _connection(self) -> aioredis.Redis:
        if self._conn is None:
            self._conn = aioredis.Redis.from_url(
                self._url,
                single_connection_client=True,
                socket_connect_timeout=2,
                socket_timeout=READ_SOCKET_TIMEOUT_S,
            )
            self._conn_id = int(await self._conn.client_id())
        return self._conn

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        while self._waiters:
            try:
                # Before the cursors are read: a stream that registers while this connects
                # is in this block's keys (nothing would wake a block that lacks it).
                conn = await self._connection()
            except Exception as exc:
                await self._fail_all(exc)
                return
            now = loop.time()
            self._expire(now)
            if not self._waiters:
                return
            # The keys just answered stay in this block at the cursor their streams will
            # ask from next: a stream that comes back then needs no wake-up.
            cursors, self._answered = self._answered, {}
            for key, waiting in self._waiters.items():
                cursors[key] = min(waiter.after for waiter in waiting)
            until = min(w.deadline for waiting in self._waiters.values() for w in waiting)
            block_ms = max(1, int(min(until - now, MAX_BLOCK_S) * 1000))
            self._round += 1
            self._blocked, self._blocked_until = cursors, now + block_ms / 1000
            started = loop.time()
            try:
                reply: Any = await conn.xread(
                    {key: f"{after}-0" for key, after in cursors.items()},
                    count=500,
                    block=block_ms,
                )
            except Exception as exc:
                self._blocked = None
                await self._fail_all(exc)
                return
            self._blocked = None
            for name, entries in reply or []:
                key = name.decode() if isinstance(name, bytes) else str(name)
                for waiter in list(self._waiters.get(key, ())):
                    newer = [entry for entry in entries if _seq(entry[0]) > waiter.after]
                    if newer:
                        self._answer(waiter, newer)
                        last = _seq(newer[-1][0])
                        self._answered[key] = max(self._answered.get(key, 0), last)
            # Let the streams just answered write their events and ask again; reads come
            # at most every FANIN_READ_GAP_S, so under load each brings many streams'
            # events (a read packs every stream's key and cursor: at 200 streams of
            # tokens that was most of the reader's cost).
            await asyncio.sleep(max(0.0, FANIN_READ_GAP_S - (loop.time() - started)))

    async def _fail_all(self, exc: Exception) -> None:
        await self._reset()
        failed = [w for waiting in self._waiters.values() for w in waiting]
        self._waiters.clear()
        for waiter in failed:
            if not waiter.future.done():
                waiter.future.set_exception(exc)

    def _expire(self, now: float) -> None:
        for waiting in list(self._waiters.values()):
            for waiter in list(waiting):
                if waiter.deadline <= now:
                    self._answer(waiter, [])

    async def _reset(self) -> None:
        conn, self._conn, self._conn_id = self._conn, None, None
        if conn is not None:
            try:
                await conn.aclose()
            except Exception:
                logger.debug("closing the reader's connection failed", exc_info=True)


class RedisEventLog:
    def __init__(self, *, url: str, retention_s: int, max_len: int = 100_000) -> None:
        self._url = url
        self._sync = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
        self._append = self._sync.register_script(_APPEND)
        self._retention_s = retention_s
        self._max_len = max_len
        # redis.asyncio connections belong to the loop that opened them.
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = (
            weakref.WeakKeyDictionary()
        )
        self._batchers: weakref.WeakKeyDictionary[aioredis.Redis, _AppendBatcher] = (
            weakref.WeakKeyDictionary()
        )
        self._readers: weakref.WeakKeyDictionary[aioredis.Redis, _FanInReader] = (
            weakref.WeakKeyDictionary()
        )

    @staticmethod
    def _keys(run_id: str) -> tuple[str, str]:
        return f"runlog:{{{run_id}}}:events", f"runlog:{{{run_id}}}:seq"

    @staticmethod
    def _session_key(session_id: str) -> str:
        return f"sessionlog:{{{session_id}}}:runs"

    def append(self, *, run_id: str, type: str, attempt: int, data: dict[str, Any]) -> Event:
        ts = datetime.now(UTC).isoformat()
        payload = json.dumps(data, separators=(",", ":"), default=str)
        seq = int(
            self._append(
                keys=list(self._keys(run_id)),
                args=[type, attempt, ts, payload, self._max_len, self._retention_s],
            )
        )
        session_id = announced_session(type, data)
        if session_id:
            key = self._session_key(session_id)
            pipe = self._sync.pipeline(transaction=False)
            pipe.xadd(key, {"r": run_id}, maxlen=SESSION_ANNOUNCE_MAX_LEN, approximate=True)
            pipe.expire(key, self._retention_s)
            pipe.execute()
        return Event(run_id=run_id, seq=seq, type=type, attempt=attempt, ts=ts, data=data)

    async def aappend(self, *, run_id: str, type: str, attempt: int, data: dict[str, Any]) -> Event:
        """``append`` on the running loop's client (no thread hop)."""
        ts = datetime.now(UTC).isoformat()
        payload = json.dumps(data, separators=(",", ":"), default=str)
        client = self._client()
        batcher = self._batchers.get(client)
        if batcher is None:
            batcher = self._batchers[client] = _AppendBatcher(client)
        seq = int(
            await batcher.append(
                keys=list(self._keys(run_id)),
                args=[type, attempt, ts, payload, self._max_len, self._retention_s],
            )
        )
        session_id = announced_session(type, data)
        if session_id:
            key = self._session_key(session_id)
            async with client.pipeline(transaction=False) as pipe:
                pipe.xadd(key, {"r": run_id}, maxlen=SESSION_ANNOUNCE_MAX_LEN, approximate=True)
                pipe.expire(key, self._retention_s)
                await pipe.execute()
        return Event(run_id=run_id, seq=seq, type=type, attempt=attempt, ts=ts, data=data)

    def _client(self) -> aioredis.Redis:
        loop = asyncio.get_running_loop()
        client = self._async.get(loop)
        if client is None:
            client = self._async[loop] = aioredis.Redis.from_url(
                self._url,
                socket_connect_timeout=2,
                socket_timeout=READ_SOCKET_TIMEOUT_S,
                max_connections=MAX_CONNECTIONS,
            )
        return client

    async def read(
        self, *, run_id: str, after_seq: int, timeout_s: float, verify: bool = True
    ) -> list[Event] | None:
        stream, seq_key = self._keys(run_id)
        client = self._client()
        if after_seq > 0 and verify:
            # The cursor is honoured only if the entry right after it is still there, or
            # nothing newer has been written yet.
            last = int(await client.get(seq_key) or 0)
            if last < after_seq:
                return None
            if last > after_seq:
                first: Any = await client.xrange(stream, min=f"{after_seq + 1}-0", count=1)
                if not first or _seq(first[0][0]) != after_seq + 1:
                    return None
        reader = self._readers.get(client)
        if reader is None:
            reader = self._readers[client] = _FanInReader(self._url, client)
        entries = await reader.wait(
            key=stream, after=after_seq, timeout_s=min(timeout_s, MAX_BLOCK_S)
        )
        return [_decode(run_id, entry_id, fields) for entry_id, fields in entries]

    def range(self, *, run_id: str) -> list[Event]:
        entries: Any = self._sync.xrange(self._keys(run_id)[0])
        return [_decode(run_id, entry_id, fields) for entry_id, fields in entries]

    async def arange(self, *, run_id: str) -> list[Event]:
        stream, _ = self._keys(run_id)
        entries: Any = await self._client().xrange(stream)
        return [_decode(run_id, entry_id, fields) for entry_id, fields in entries]

    def last_seq(self, *, run_id: str) -> int:
        return int(self._sync.get(self._keys(run_id)[1]) or 0)

    async def alast_seq(self, *, run_id: str) -> int:
        return int(await self._client().get(self._keys(run_id)[1]) or 0)

    def last_events(self, *, run_ids: list[str]) -> dict[str, Event]:
        pipe = self._sync.pipeline(transaction=False)
        for run_id in run_ids:
            pipe.xrevrange(self._keys(run_id)[0], count=1)
        newest: dict[str, Event] = {}
        for run_id, entries in zip(run_ids, pipe.execute(), strict=True):
            if entries:
                entry_id, fields = entries[0]
                newest[run_id] = _decode(run_id, entry_id, fields)
        return newest

    async def aresume(self, *, run_id: str, after_seq: int) -> None:
        if after_seq <= 0:
            return
        await self._client().eval(_RESUME, 1, self._keys(run_id)[1], after_seq, self._retention_s)

    def delete(self, *, run_id: str) -> None:
        self._sync.delete(*self._keys(run_id))

    async def session_marker(self, *, session_id: str) -> str:
        newest: Any = await self._client().xrevrange(self._session_key(session_id), count=1)
        if not newest:
            return NO_MARK
        entry_id = newest[0][0]
        return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)

    async def wait_session(self, *, session_id: str, after: str, timeout_s: float) -> str | None:
        block_ms = max(1, int(min(timeout_s, MAX_BLOCK_S) * 1000))
        reply: Any = await self._client().xread(
            {self._session_key(session_id): after or NO_MARK},
            count=SESSION_ANNOUNCE_MAX_LEN,
            block=block_ms,
        )
        for _name, entries in reply or []:
            if entries:
                entry_id = entries[-1][0]
                return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
        return None


def _seq(entry_id: bytes | str) -> int:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.split("-", 1)[0])


def _decode(run_id: str, entry_id: bytes | str, fields: dict[bytes, bytes]) -> Event:
    return Event(
        run_id=run_id,
        seq=_seq(entry_id),
        type=fields[b"t"].decode(),
        attempt=int(fields[b"a"]),
        ts=fields[b"ts"].decode(),
        data=json.loads(fields[b"d"]),
    )
