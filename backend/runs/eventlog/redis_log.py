"""Production event log: one Redis Stream per run.

Entry ids are ``<seq>-0``, assigned with the seq by one Lua script, so "events after
cursor N" is a plain ``XREAD`` from ``N-0``, and a trimmed or expired log is detected by
the first entry not being ``N+1``. A session's new runs are announced on a small stream
of the session's own (``sessionlog:{id}:runs``), which idle session streams ``XREAD``.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from datetime import UTC, datetime
from typing import Any

import redis
import redis.asyncio as aioredis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

from backend.runs.eventlog.base import Event, announced_session

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
# Every stream waiting on the log holds one connection while its XREAD blocks. redis-py's
# async pool allows 100 and then fails at once ("Too many connections": at 200 concurrent
# chats 163 streams were cut off), so the ceiling is Redis's own maxclients (10,000 by
# default) instead; a client's open streams are capped (SSE_MAX_STREAMS_PER_CLIENT).
MAX_CONNECTIONS = 10_000
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
        block_ms = max(1, int(min(timeout_s, MAX_BLOCK_S) * 1000))
        reply: Any = await client.xread({stream: f"{after_seq}-0"}, count=500, block=block_ms)
        events: list[Event] = []
        for _name, entries in reply or []:
            for entry_id, fields in entries:
                events.append(_decode(run_id, entry_id, fields))
        return events

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
