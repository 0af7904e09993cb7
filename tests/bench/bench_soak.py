"""Soak bench: C concurrent chats at a model's pace, N idle session streams, faults on a
schedule; numbers per phase, not assertions (not a test).

    uv run python tests/bench/bench_soak.py --concurrency 200 --idle-streams 1000 \\
      --phase-seconds 60 [--faults worker-kill,redis-restart,postgres-restart] [--out FILE]
    uv run python tests/bench/bench_soak.py --embedded --concurrency 200 --idle-streams 200

Production shape (default): the bench starts a PostgreSQL (``initdb`` in a scratch
directory, as the ``postgres`` OS user) and a Redis (append-only file) of its own on free
ports — never the machine's shared servers — then ``insightstream web``, ``insightstream
worker`` (defaults: one Celery worker per queue, threads pool, 16 run slots) and
``insightstream beat`` (the run reaper). ``--embedded``: ``insightstream up
--skip-frontend-build`` with no services (SQLite, in-process runs and event log).

"The model" is the scripted OpenAI-compatible server (``tests/fakes/openai_server.py``) in a
process of its own, declared to the service as a priced model (``DECLARED_MODELS``, $0.50
and $1 per million input/output tokens): plan → ``hashtags`` (its own model call, on the
``long`` queue) → a 50-word answer streamed one word per ``--token-delay-ms`` (100: ~5 s a
run). It bills every reply it sends, so what the provider billed is known exactly.

Load: C chat lanes, each its own anonymous client, each posting a message
(``POST /api/chat/sessions/{id}/messages/``, a new session every ``--messages-per-session``)
and reading the run's SSE stream to its end, reconnecting with ``Last-Event-ID`` whenever
the stream drops; a 429/503 is retried after its ``Retry-After``; a chat with no event for
``--patience-s`` (300; queue waits count) is given up and the lane moves to a new session.
N idle session streams (``GET /api/chat/sessions/{id}/stream/``, ``--streams-per-client``
per client) held open by a process of their own, reconnecting when dropped. A prober (its
own process) sends ``GET /api/clients/me/`` every 100 ms.

Phases, each ``--phase-seconds`` long (``idle`` is ``--idle-phase-seconds``): ``idle``
(only the idle streams: what they hold), ``warm`` (lanes start), ``steady``, one phase per
fault (the fault lands a quarter into it): ``worker-kill`` (SIGKILL of the ``default``
queue's Celery worker; ``insightstream worker`` starts it again, and the bench checks it
did), ``redis-restart`` (SIGTERM, ``--fault-down-s`` down, started again on the same port
and append-only file), ``postgres-restart`` (``pg_ctl restart -m fast``), embedded
``process-kill`` (SIGKILL of ``insightstream up``, started again); then ``recovery``. Then
the drain (no new chats; in-flight ones to their end, at most ``--drain-seconds``), a wait
for spend to settle, and the checks.

Per phase (a chat belongs to the phase its message was posted in): chats started, accepted,
completed, failed (by HTTP status and error code; a 503 with ``Retry-After`` is a
documented shed), runs' final status in the database (a run still queued/running, or failed
without a code, is silent), events lost or duplicated (each run's received events, across
reconnects, against a full replay of ``GET /api/runs/{id}/stream/`` after the end, by
``seq``; after a ``stream.reset`` the client starts over, as the contract says), spend
recorded in the ledger vs billed by the model (by time window; totals exact), pool waits
and timeouts (psycopg pool stats of every process, written by a ``sitecustomize`` the bench
puts on the children's ``PYTHONPATH``, which also counts ``PoolTimeout``s: psycopg's
``requests_errors`` counts a wait cancelled at a worker's shutdown too; and the
pool-timeout message in the logs), database connections by process and state
(``pg_stat_activity`` each second; the web pool's checked-out connections while only idle
streams are open), RSS, and ``/api/clients/me/`` latency. Limits lifted for the bench (all
traffic is one address, 127.0.0.1): ``CLIENT_MINT_PER_MINUTE``,
``GUARD_REQUESTS_PER_MINUTE``, ``GUARD_IP_DAILY_USD``, ``GUARD_ANON_CLIENT_DAILY_USD``,
``GUARD_GLOBAL_DAILY_USD``, ``GUARD_ANON_SESSION_USD``; ``GUARD_RESERVATION_TTL_S`` is lowered to
``--reservation-ttl-s`` so a killed call's reservation expires within the bench. Everything
else is the default. Bounded: it stops by itself (``--max-seconds``). """

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench._harness import (
    CLI,
    MODEL_ID,
    POOL_TIMEOUT_MARK,
    OwnPostgres,
    OwnRedis,
    ScriptedModel,
    children_of,
    declared_models,
    free_port,
    git_commit,
    migrate,
    mint,
    pct,
    pool_stats_env,
    proc_cmdline,
    proc_pss_mb,
    raise_open_files_limit,
    read_pool_stats,
    rounded,
    service_env,
    sse_events,
    start_process,
    start_web,
    start_worker,
    stop_process,
    tree_pss_mb,
    wait_live,
    with_application_name,
)

REQUEST = "hashtags for a home espresso channel"
TERMINAL = ("run.completed", "run.failed", "run.cancelled")
FINAL_STATUSES = ("completed", "failed", "cancelled")
PRODUCTION_FAULTS = ("worker-kill", "redis-restart", "postgres-restart")
EMBEDDED_FAULTS = ("process-kill",)
# Phases without a fault: where the latency target applies.
CALM_PHASES = ("idle", "warm", "steady", "recovery")
LIFTED = {
    "CLIENT_MINT_PER_MINUTE": "1000000",
    "GUARD_REQUESTS_PER_MINUTE": "1000000",
    "GUARD_IP_DAILY_USD": "1000000",
    "GUARD_ANON_CLIENT_DAILY_USD": "1000000",
    "GUARD_GLOBAL_DAILY_USD": "1000000",
    # A session's $0.05: calls a fault left unsettled are charged at their worst case, so a
    # session of a faulted phase can near its soft limit and its next step then asks the
    # creator (the approval rule), whom the bench does not play.
    "GUARD_ANON_SESSION_USD": "1000000",
}


# -- the service under test -------------------------------------------------------------


class Stack:
    """The service's processes and what the bench reads from them."""

    base: str
    logs: Path
    model: ScriptedModel
    embedded: bool

    def faults(self) -> dict[str, Any]:
        raise NotImplementedError

    def pids(self) -> dict[str, int | None]:
        raise NotImplementedError

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def log_files(self) -> list[Path]:
        return sorted(self.logs.glob("*.log"))

    def stop(self) -> None:
        raise NotImplementedError


def model_env(model: ScriptedModel, opts: argparse.Namespace) -> dict[str, str]:
    return {
        **LIFTED,
        "GUARD_RESERVATION_TTL_S": str(opts.reservation_ttl_s),
        "OPENROUTER_API_KEY": "sk-bench",
        "OPENROUTER_BASE_URL": model.base_url,
        "DECLARED_MODELS": declared_models(),
        "DEFAULT_MODEL": MODEL_ID,
        "LOG_LEVEL": opts.log_level,
        "POSTHOG_API_KEY": "",
    }


class ProductionStack(Stack):
    embedded = False

    def __init__(self, root: Path, opts: argparse.Namespace) -> None:
        self.root, self.opts = root, opts
        self.logs = root / "logs"
        self.logs.mkdir()
        self.web: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self.beat: subprocess.Popen[bytes] | None = None
        self.pg = OwnPostgres(root, free_port())
        self.pg.start()
        self.database_url = self.pg.create_database("soak")
        self.redis = OwnRedis(root, free_port())
        self.redis.start()
        self.pool_stats = root / "pool-stats"
        base_env = service_env(pool_stats_env(self.pool_stats))
        self.model = ScriptedModel(root, token_delay_ms=opts.token_delay_ms, env=base_env)
        self.env = {
            **base_env,
            **model_env(self.model, opts),
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis.url(0),
            "DATA_DIR": str(root / "data"),
        }
        migrate(self.env)
        port = free_port()
        self.web = start_web(self._as("web"), port=port, log=self.logs / "web.log")
        self._start_worker()
        self.beat = start_process(
            [*CLI, "beat"], env=self._as("beat"), log=self.logs / "beat.log", cwd=root
        )
        self.base = f"http://127.0.0.1:{port}"
        if not wait_live(self.base):
            raise RuntimeError(f"the web process did not come up; see {self.logs}")
        time.sleep(3)  # worker start-up

    def _as(self, name: str) -> dict[str, str]:
        return {
            **self.env,
            "DATABASE_URL": with_application_name(self.database_url, f"bench-{name}"),
        }

    def _start_worker(self) -> None:
        self.worker = start_worker(
            self._as("worker"),
            args=[
                f"--pool={self.opts.worker_pool}",
                f"--concurrency={self.opts.worker_concurrency}",
                f"--long-concurrency={self.opts.long_concurrency}",
            ],
            log=self.logs / "worker.log",
        )

    def faults(self) -> dict[str, Any]:
        return {
            "worker-kill": self.kill_worker,
            "redis-restart": self.restart_redis,
            "postgres-restart": self.restart_postgres,
        }

    def kill_worker(self) -> str:
        assert self.worker is not None
        supervisor = self.worker
        runs = [p for p in children_of(supervisor.pid) if "default" in _queue_of(p)]
        if not runs:
            return "no default-queue worker found"
        os.kill(runs[0], signal.SIGKILL)
        started = time.monotonic()
        # ``insightstream worker`` starts the queue's worker again by itself (its supervisor).
        while time.monotonic() - started < 60:
            # (with several run processes, "again" is a new one, not one of the others)
            again = [
                p
                for p in children_of(supervisor.pid)
                if p not in runs and "default" in _queue_of(p)
            ]
            if again:
                waited = time.monotonic() - started
                note = f"started again by insightstream worker in {waited:.1f} s"
                break
            if supervisor.poll() is not None:
                self._start_worker()  # as the platform restarts a service that exited
                note = "insightstream worker exited; started again"
                break
            time.sleep(0.1)
        else:
            note = "not started again in 60 s"
        return f"SIGKILL of a default-queue worker (pid {runs[0]}, of {len(runs)}); {note}"

    def restart_redis(self) -> str:
        self.redis.restart(down_s=self.opts.fault_down_s)
        return f"SIGTERM, {self.opts.fault_down_s:g} s down, started on the same port and AOF"

    def restart_postgres(self) -> str:
        self.pg.restart()
        return "pg_ctl restart -m fast"

    def pids(self) -> dict[str, int | None]:
        return {
            "web": self.web.pid if self.web else None,
            "worker": self.worker.pid if self.worker else None,
            "beat": self.beat.pid if self.beat else None,
            "postgres": self.pg.postmaster_pid(),
            "redis": self.redis.process.pid if self.redis.process else None,
            "model": self.model.process.pid,
        }

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        import psycopg

        url = with_application_name(self.database_url, "bench-probe")
        with psycopg.connect(url, autocommit=True) as conn:
            return list(conn.execute(sql).fetchall())

    def log_files(self) -> list[Path]:
        return [*super().log_files(), self.pg.log, self.redis.log]

    def stop(self) -> None:
        for process in (self.web, self.worker, self.beat):
            stop_process(process)
        self.model.stop()
        self.redis.stop()
        self.pg.stop()


def _queue_of(pid: int) -> str:
    argv = proc_cmdline(pid)
    return argv[argv.index("-Q") + 1] if "-Q" in argv[:-1] else ""


class EmbeddedStack(Stack):
    embedded = True

    def __init__(self, root: Path, opts: argparse.Namespace) -> None:
        self.root, self.opts = root, opts
        self.logs = root / "logs"
        self.logs.mkdir()
        self.data = root / "data"
        env = service_env()
        for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY"):  # the embedded default
            env.pop(name, None)
        self.model = ScriptedModel(root, token_delay_ms=opts.token_delay_ms, env=env)
        self.env = {**env, **model_env(self.model, opts), "DATA_DIR": str(self.data)}
        if opts.embedded_threads:
            self.env["TASK_RUNNER_THREADS"] = str(opts.embedded_threads)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.up: subprocess.Popen[bytes] | None = None
        self._start()

    def _start(self) -> None:
        self.up = start_process(
            [*CLI, "up", "--skip-frontend-build", "--port", str(self.port)],
            env=self.env,
            log=self.logs / "up.log",
        )
        if not wait_live(self.base, timeout_s=120):
            raise RuntimeError(f"insightstream up did not come up; see {self.logs}")

    def faults(self) -> dict[str, Any]:
        return {"process-kill": self.kill_process}

    def kill_process(self) -> str:
        assert self.up is not None
        started = time.monotonic()
        os.killpg(self.up.pid, signal.SIGKILL)
        self.up.wait(timeout=30)
        self._start()
        return (
            f"SIGKILL of insightstream up; serving again after {time.monotonic() - started:.1f} s"
        )

    def pids(self) -> dict[str, int | None]:
        return {"up": self.up.pid if self.up else None, "model": self.model.process.pid}

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        path = self.data / "insightstream.sqlite3"
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            return list(conn.execute(sql).fetchall())
        finally:
            conn.close()

    def stop(self) -> None:
        stop_process(self.up)
        self.model.stop()


# -- the prober and the idle streams (processes of their own) ---------------------------


def prober_main(base: str, token: str, out: str, stop: Any, interval_s: float) -> None:
    """``GET /api/clients/me/`` every ``interval_s``: ``<unix time> <status> <ms>`` lines
    (status 0: no answer, a connection error or a 10 s timeout)."""
    import http.client
    from urllib.parse import urlsplit

    url = urlsplit(base)
    conn: http.client.HTTPConnection | None = None
    next_at = time.monotonic()
    with open(out, "w", buffering=1) as lines:
        while not stop.is_set():
            started, wall = time.perf_counter(), time.time()
            status, retry_after = 0, ""
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(
                        url.hostname or "127.0.0.1", url.port, timeout=10
                    )
                conn.request("GET", "/api/clients/me/", headers={"X-Client-Token": token})
                response = conn.getresponse()
                response.read()
                status = response.status
                retry_after = "+RA" if response.getheader("Retry-After") else ""
            except (OSError, http.client.HTTPException):
                if conn is not None:
                    conn.close()
                conn = None
            elapsed_ms = (time.perf_counter() - started) * 1000
            lines.write(f"{wall:.3f} {status}{retry_after} {elapsed_ms:.2f}\n")
            next_at = max(next_at + interval_s, time.monotonic())
            time.sleep(max(0.0, next_at - time.monotonic()))


def idle_main(
    base: str, count: int, per_client: int, out: str, ready: Any, stop: Any, opened: Any
) -> None:
    """Hold ``count`` session streams open; every open, drop, status and event goes to
    ``out`` as ``<unix time> <kind> <detail>``, and ``gauge <open>`` once a second."""
    asyncio.run(_hold_idle(base, count, per_client, out, ready, stop, opened))


async def _hold_idle(
    base: str, count: int, per_client: int, out: str, ready: Any, stop: Any, opened: Any
) -> None:
    lines = open(out, "w", buffering=1)  # noqa: SIM115 - closed below, after every task
    state = {"open": 0}

    def note(kind: str, detail: object = "") -> None:
        lines.write(f"{time.time():.3f} {kind} {detail}\n")

    limits = httpx.Limits(max_connections=count + 50, max_keepalive_connections=count + 50)
    client = httpx.AsyncClient(base_url=base, limits=limits, timeout=30)
    setup = asyncio.Semaphore(20)

    async def sessions_of_one_client(n: int) -> list[tuple[str, str]]:
        async with setup:
            found: list[tuple[str, str]] = []
            token = ""
            for _ in range(120):
                if len(found) == n:
                    break
                try:
                    if not token:
                        token = await mint(client)
                    created = await client.post(
                        "/api/chat/sessions/", json={}, headers={"X-Client-Token": token}
                    )
                    if created.status_code == 201:
                        found.append((token, created.json()["id"]))
                        continue
                    note("setup", created.status_code)
                except Exception as exc:
                    note("setup", type(exc).__name__)
                await asyncio.sleep(1)
            return found

    groups = [min(per_client, count - start) for start in range(0, count, per_client)]
    sessions = [s for group in await asyncio.gather(*map(sessions_of_one_client, groups))
                for s in group]  # fmt: skip
    first_open: list[asyncio.Future[None]] = []

    async def hold(token: str, session_id: str, first: asyncio.Future[None]) -> None:
        cursor = None
        while True:
            headers = {"X-Client-Token": token}
            if cursor:
                headers["Last-Event-ID"] = cursor
            wait = 1.0
            try:
                async with client.stream(
                    "GET",
                    f"/api/chat/sessions/{session_id}/stream/",
                    headers=headers,
                    timeout=httpx.Timeout(30, read=60),
                ) as response:
                    retry_after = "+RA" if "Retry-After" in response.headers else ""
                    note("status", f"{response.status_code}{retry_after}")
                    if response.status_code == 200:
                        state["open"] += 1
                        if not first.done():
                            first.set_result(None)
                        try:
                            async for event in sse_events(response):
                                note("event", event.get("event"))
                                cursor = event.get("id") or cursor
                        finally:
                            state["open"] -= 1
                        note("drop", "closed")
                    else:
                        await response.aread()
                        wait = min(15.0, float(response.headers.get("Retry-After") or 1))
            except httpx.HTTPError as exc:
                note("drop", type(exc).__name__)
            if not first.done():
                first.set_result(None)  # counted as failed to open; keeps trying
            await asyncio.sleep(wait + random.random())

    tasks = []
    for token, session_id in sessions:
        first: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        first_open.append(first)
        tasks.append(asyncio.create_task(hold(token, session_id, first)))
        await asyncio.sleep(0.005)  # a steady trickle, not one burst of connects
    try:
        await asyncio.wait_for(asyncio.gather(*first_open), timeout=120)
    except TimeoutError:
        pass
    opened.value = state["open"]
    ready.set()
    while not stop.is_set():
        note("gauge", state["open"])
        opened.value = state["open"]
        await asyncio.sleep(1)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await client.aclose()
    lines.close()


# -- chats ------------------------------------------------------------------------------


@dataclass
class Chat:
    lane: int
    phase: str
    token: str
    t_post: float
    post_status: int = 0
    post_code: str = ""
    run_id: str = ""
    stream_url: str = ""
    t_started: float | None = None
    t_end: float | None = None
    terminal: str = ""
    error_code: str = ""
    seqs: list[int] = field(default_factory=list)
    duplicates: int = 0
    disorder: int = 0
    resets: int = 0
    reconnects: int = 0
    attempts: set[int] = field(default_factory=set)
    stream_errors: Counter[str] = field(default_factory=Counter)
    # filled in by the checks
    stored: list[int] | None = None
    stored_reset: bool = False
    lost: int = 0
    phantom: int = 0
    log_gaps: int = 0
    db_status: str = ""
    db_error: str = ""


@dataclass
class Phase:
    name: str
    fault: str | None
    seconds: float
    start: float = 0.0
    end: float = 0.0
    fault_at: float | None = None
    fault_s: float | None = None
    fault_note: str = ""


class Soak:
    def __init__(self, stack: Stack, opts: argparse.Namespace) -> None:
        self.stack, self.opts = stack, opts
        self.phase = "setup"
        self.http: Counter[tuple[str, str, int, str, bool]] = Counter()
        self.samples_5xx: list[dict[str, Any]] = []
        self.chats: list[Chat] = []
        self.stop_starting = asyncio.Event()
        limits = httpx.Limits(
            max_connections=opts.concurrency * 2 + 20,
            max_keepalive_connections=opts.concurrency * 2 + 20,
        )
        self.client = httpx.AsyncClient(base_url=stack.base, limits=limits, timeout=30)

    # -- HTTP, recorded ---------------------------------------------------------------

    def note(self, kind: str, response: httpx.Response | None, exc: BaseException | None = None):
        if response is None:
            self.http[(self.phase, kind, 0, f"exc:{type(exc).__name__}", False)] += 1
            return
        code = ""
        if response.status_code >= 400:
            try:
                code = str(response.json()["error"]["code"])
            except Exception:
                code = "?"
        retry_after = "Retry-After" in response.headers
        self.http[(self.phase, kind, response.status_code, code, retry_after)] += 1
        if response.status_code >= 500 and len(self.samples_5xx) < 40:
            self.samples_5xx.append(
                {
                    "phase": self.phase,
                    "kind": kind,
                    "status": response.status_code,
                    "retry_after": response.headers.get("Retry-After"),
                    "body": response.text[:300],
                }
            )

    async def call(self, method: str, url: str, kind: str, **kwargs: Any) -> httpx.Response | None:
        try:
            response = await self.client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            self.note(kind, None, exc)
            return None
        self.note(kind, response)
        return response

    # -- a lane -----------------------------------------------------------------------

    async def lane(self, index: int) -> None:
        token = ""
        while not token:
            response = await self.call("POST", "/api/clients/", "mint")
            if response is not None and response.status_code == 201:
                token = str(response.json()["token"])
            elif self.stop_starting.is_set():
                return
            else:
                await backoff(response)
        headers = {"X-Client-Token": token}
        session_id, used = None, 0
        while not self.stop_starting.is_set():
            if session_id is None or used >= self.opts.messages_per_session:
                response = await self.call(
                    "POST", "/api/chat/sessions/", "session", json={"model": MODEL_ID},
                    headers=headers,
                )  # fmt: skip
                if response is None or response.status_code != 201:
                    await backoff(response)
                    continue
                session_id, used = response.json()["id"], 0
            chat = Chat(lane=index, phase=self.phase, token=token, t_post=time.time())
            self.chats.append(chat)
            response = await self.call(
                "POST", f"/api/chat/sessions/{session_id}/messages/", "message",
                json={"content": REQUEST}, headers=headers,
            )  # fmt: skip
            chat.post_status = response.status_code if response is not None else 0
            if response is None or response.status_code != 202:
                if response is not None and response.status_code >= 400:
                    chat.post_code = _error_code(response)
                if chat.post_status == 409:
                    session_id = None  # its last run is still going (a chat given up on)
                await backoff(response)
                continue
            used += 1
            body = response.json()
            chat.run_id, chat.stream_url = str(body["run_id"]), str(body["stream_url"])
            if not await self.follow(chat):
                session_id = None  # its run may never end: the next message goes elsewhere

    async def follow(self, chat: Chat) -> bool:
        """Read the run's stream to its end, across drops (``Last-Event-ID``). False when
        the client gave up: no event for ``--patience-s`` (a person would leave too)."""
        loop = asyncio.get_running_loop()
        cursor: str | None = None
        last_event = loop.time()
        wait = 0.5
        first = True
        while True:
            headers = {"Last-Event-ID": cursor} if cursor else {}
            if not first:
                chat.reconnects += 1
            first = False
            try:
                async with asyncio.timeout_at(last_event + self.opts.patience_s) as patience:
                    async with self.client.stream(
                        "GET", chat.stream_url, headers=headers, timeout=httpx.Timeout(30, read=60)
                    ) as response:
                        if response.status_code != 200:
                            await response.aread()
                            self.note("stream", response)
                            if response.status_code in (401, 403, 404):
                                chat.terminal = f"stream {response.status_code}"
                                return True
                            await backoff(response)
                            continue
                        self.note("stream", response)
                        async for event in sse_events(response):
                            cursor = event.get("id") or cursor
                            last_event = loop.time()
                            patience.reschedule(last_event + self.opts.patience_s)
                            if self.on_event(chat, event):
                                return True
                    chat.stream_errors["closed before the end"] += 1
                    await asyncio.sleep(wait + random.random() * 0.5)
            except httpx.HTTPError as exc:
                chat.stream_errors[type(exc).__name__] += 1
                self.note("stream", None, exc)
                await asyncio.sleep(wait + random.random() * 0.5)
            except TimeoutError:
                chat.stream_errors[f"no event for {self.opts.patience_s:g} s: gave up"] += 1
                return False
            wait = min(wait * 2, 5.0)

    def on_event(self, chat: Chat, event: dict[str, Any]) -> bool:
        """Account one event; True once the run has ended."""
        kind = event.get("event", "")
        data: dict[str, Any] = event["data"] if isinstance(event.get("data"), dict) else {}
        if kind == "stream.reset":  # a full replay follows: start over
            chat.resets += 1
            chat.seqs = []
            return False
        seq = data.get("seq")
        if isinstance(seq, int):
            if seq in chat.seqs:
                chat.duplicates += 1
            elif chat.seqs and seq < chat.seqs[-1]:
                chat.disorder += 1
            chat.seqs.append(seq)
        if isinstance(data.get("attempt"), int):
            chat.attempts.add(data["attempt"])
        if kind == "run.started" and chat.t_started is None:
            chat.t_started = time.time()
        if kind in TERMINAL:
            chat.terminal, chat.t_end = kind, time.time()
            error = (data.get("data") or {}).get("error") or {}
            chat.error_code = str(error.get("code", "")) if kind == "run.failed" else ""
            return True
        return False

    # -- the checks -------------------------------------------------------------------

    async def replay(self, chat: Chat) -> None:
        """The run's stored log (a full replay after its end) against what the client got."""
        try:
            async with self.client.stream(
                "GET", chat.stream_url, timeout=httpx.Timeout(30, read=30)
            ) as response:
                if response.status_code != 200:
                    return
                stored: list[int] = []
                async for event in sse_events(response):
                    kind = event.get("event", "")
                    if kind == "stream.reset":
                        chat.stored_reset, stored = True, []
                        continue
                    data: dict[str, Any] = (
                        event["data"] if isinstance(event.get("data"), dict) else {}
                    )
                    if isinstance(data.get("seq"), int):
                        stored.append(data["seq"])
                    if kind in TERMINAL:
                        break
        except httpx.HTTPError:
            return
        chat.stored = stored
        received = set(chat.seqs)
        expected = (
            set(stored)
            if chat.terminal in TERMINAL
            else {seq for seq in stored if seq <= max(received, default=0)}
        )
        chat.lost = len(expected - received)
        chat.phantom = len(received - set(stored))
        if stored and not chat.stored_reset:
            chat.log_gaps = max(stored) - len(set(stored))

    async def check_all(self, statuses: dict[str, tuple[str, str]]) -> int:
        """Replay every finished run; returns how many could not be checked in time."""
        semaphore = asyncio.Semaphore(16)

        async def one(chat: Chat) -> None:
            async with semaphore:
                await self.replay(chat)

        todo = [c for c in self.chats if statuses.get(_key(c.run_id), ("",))[0] in FINAL_STATUSES]
        if not todo:
            return 0
        tasks = [asyncio.create_task(one(chat)) for chat in todo]
        _done, pending = await asyncio.wait(tasks, timeout=self.opts.check_seconds)
        for task in pending:
            task.cancel()
        return len(pending)


def _key(run_id: object) -> str:
    """A run id as both databases give it back (SQLite keeps UUIDs as 32 hex digits)."""
    return str(run_id).replace("-", "")


def _error_code(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["code"])
    except Exception:
        return "?"


async def backoff(response: httpx.Response | None) -> None:
    wait = 1.0
    if response is not None:
        try:
            wait = float(response.headers.get("Retry-After") or 1)
        except ValueError:
            pass
    await asyncio.sleep(min(wait, 15.0) + random.random() * 0.5)


# -- sampling ---------------------------------------------------------------------------


class Sampler:
    """Once a second: connections by process and state, pool stats, RSS."""

    def __init__(self, stack: Stack, extra_pids: dict[str, int]) -> None:
        self.stack, self.extra_pids = stack, extra_pids
        self.samples: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="sampler")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        conn = None
        while not self._stop.is_set():
            sample: dict[str, Any] = {"t": time.time()}
            if isinstance(self.stack, ProductionStack):
                try:
                    if conn is None:
                        import psycopg

                        conn = psycopg.connect(
                            with_application_name(self.stack.database_url, "bench-probe"),
                            autocommit=True,
                            connect_timeout=2,
                        )
                    rows = conn.execute(
                        "SELECT application_name, coalesce(state, ''), count(*)"
                        " FROM pg_stat_activity WHERE datname = current_database()"
                        " AND application_name LIKE 'bench-%%'"
                        " AND application_name <> 'bench-probe' GROUP BY 1, 2"
                    ).fetchall()
                    sample["connections"] = {
                        f"{name.removeprefix('bench-')}:{state}": n for name, state, n in rows
                    }
                except Exception:
                    sample["connections"] = None
                    if conn is not None:
                        try:
                            conn.close()
                        except Exception:
                            pass
                    conn = None
                sample["pools"] = {
                    name: stats["pools"]
                    for name, stats in read_pool_stats(self.stack.pool_stats).items()
                }
            if len(self.samples) % 5 == 0:  # reading smaps costs: every 5 s
                pids = {**self.stack.pids(), **self.extra_pids}
                sample["mem_mb"] = {
                    # The bench's own tree holds every process it started: itself only.
                    name: round(proc_pss_mb(pid or 0) if name == "bench" else tree_pss_mb(pid), 1)
                    for name, pid in pids.items()
                }
            self.samples.append(sample)
            self._stop.wait(1.0)
        if conn is not None:
            conn.close()


def _generic(text: str) -> str:
    """A log line without its ids, addresses and ports, so that lines of one kind group."""
    text = re.sub(r"0x[0-9a-f]+|[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}",
                  "…", text)  # fmt: skip
    return re.sub(r"\d+", "N", text)


class LogReader:
    """New lines of every log since the last read: pool timeouts and warnings/errors by
    event name."""

    def __init__(self, files: list[Path]) -> None:
        self.files = files
        self.offsets: dict[Path, int] = {}

    def read(self) -> dict[str, Any]:
        pool_timeouts: Counter[str] = Counter()
        events: Counter[str] = Counter()
        for path in self.files:
            if not path.exists():
                continue
            with path.open("rb") as handle:
                handle.seek(self.offsets.get(path, 0))
                chunk = handle.read()
                self.offsets[path] = handle.tell()
            text = chunk.decode(errors="replace")
            pool_timeouts[path.stem] += text.count(POOL_TIMEOUT_MARK)
            for line in text.splitlines():
                if line.startswith("{"):
                    try:
                        record = json.loads(line)
                    except ValueError:
                        continue
                    level = str(record.get("level", "")).lower()
                    if level in ("warning", "error", "critical"):
                        event = _generic(str(record.get("event", "")))[:90]
                        events[f"{path.stem}: {level} {event}"] += 1
                elif "Traceback" in line or " ERROR" in line or "FATAL" in line:
                    events[f"{path.stem}: {_generic(line.strip())[:100]}"] += 1
        return {"pool_timeouts": dict(+pool_timeouts), "events": dict(events.most_common(12))}


# -- the run ----------------------------------------------------------------------------


async def soak(stack: Stack, opts: argparse.Namespace, phases: list[Phase], root: Path) -> dict:
    ctx = multiprocessing.get_context("spawn")
    stop, ready = ctx.Event(), ctx.Event()
    opened = ctx.Value("i", 0)
    runner = Soak(stack, opts)
    probe_token = await mint(runner.client)
    prober = ctx.Process(
        target=prober_main,
        args=(
            stack.base,
            probe_token,
            str(root / "probe.txt"),
            stop,
            opts.probe_interval_ms / 1000,
        ),
        daemon=True,
    )
    idle = ctx.Process(
        target=idle_main,
        args=(stack.base, opts.idle_streams, opts.streams_per_client, str(root / "idle.txt"),
              ready, stop, opened),
        daemon=True,
    )  # fmt: skip
    logs = LogReader(stack.log_files())
    logs.read()  # start-up lines are not a phase's
    log_by_phase: dict[str, dict[str, Any]] = {}
    sampler: Sampler | None = None
    lanes: list[asyncio.Task[None]] = []
    setup: dict[str, Any] = {}
    try:
        prober.start()
        started = time.monotonic()
        if opts.idle_streams:
            idle.start()
            while not ready.is_set() and time.monotonic() - started < 600:
                await asyncio.sleep(0.5)
        setup = {"idle_streams_open": opened.value, "idle_setup_s": time.monotonic() - started}
        print(f"idle streams open: {opened.value} of {opts.idle_streams} "
              f"({setup['idle_setup_s']:.0f} s)", flush=True)  # fmt: skip
        sampler = Sampler(stack, {"bench": os.getpid(), "idle": idle.pid or 0,
                                  "prober": prober.pid or 0})  # fmt: skip
        sampler.start()
        faults = stack.faults()
        for phase in phases:
            phase.start = time.time()
            runner.phase = phase.name
            print(f"phase {phase.name} ({phase.seconds:g} s)", flush=True)
            if phase.name == "warm":
                ramp = min(10.0, phase.seconds / 3)
                for index in range(opts.concurrency):
                    lanes.append(asyncio.create_task(runner.lane(index)))
                    await asyncio.sleep(ramp / opts.concurrency)
            fault_task = None
            if phase.fault:
                await asyncio.sleep(max(0.0, phase.start + phase.seconds / 4 - time.time()))
                phase.fault_at = time.time()
                print(f"  fault {phase.fault}", flush=True)
                fault_task = asyncio.create_task(asyncio.to_thread(faults[phase.fault]))
            await asyncio.sleep(max(0.0, phase.start + phase.seconds - time.time()))
            if fault_task is not None:
                phase.fault_note = await fault_task
                phase.fault_s = time.time() - (phase.fault_at or 0)
            phase.end = time.time()
            log_by_phase[phase.name] = logs.read()
        runner.stop_starting.set()
        drain = Phase("drain", None, opts.drain_seconds, start=time.time())
        runner.phase = "drain"
        print("drain", flush=True)
        if lanes:
            _done, pending = await asyncio.wait(lanes, timeout=opts.drain_seconds)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        drain.end = time.time()
        phases.append(drain)
        log_by_phase["drain"] = logs.read()
    finally:
        stop.set()
        if sampler is not None:
            sampler.stop()
        for process in (prober, idle):
            if process.pid is not None:
                process.join(timeout=30)
                if process.is_alive():
                    process.terminate()
    runner.phase = "checks"
    last_fault = max((p.fault_at or 0) for p in phases)
    settled = await settle(stack, opts, last_fault)
    statuses = {
        _key(run_id): (status, code)
        for run_id, status, code in stack.query("SELECT id, status, error_code FROM runs_run")
    }
    unchecked = await runner.check_all(statuses)
    not_final = [
        [str(value) for value in row]
        for row in stack.query(
            "SELECT id, status, attempt, error_code, lease_expires_at, created_at FROM runs_run"
            " WHERE status NOT IN ('completed', 'failed', 'cancelled') ORDER BY created_at"
        )[:20]
    ]
    failures = [
        [str(value) for value in row]
        for row in stack.query(
            "SELECT error_code, substr(error_message, 1, 200), count(*) FROM runs_run"
            " WHERE status = 'failed' GROUP BY 1, 2 ORDER BY 3 DESC"
        )[:10]
    ]
    for chat in runner.chats:
        if chat.run_id:
            chat.db_status, chat.db_error = statuses.get(_key(chat.run_id), ("missing", ""))
    await runner.client.aclose()
    return {
        "runner": runner,
        "samples": sampler.samples if sampler else [],
        "logs": log_by_phase,
        "setup": setup,
        "settled": settled,
        "unchecked": unchecked,
        "not_final": not_final,
        "failures": failures,
    }


async def settle(stack: Stack, opts: argparse.Namespace, last_fault: float) -> dict[str, Any]:
    """Wait for the ledger to stop moving (a killed call's reservation expires after
    ``--reservation-ttl-s`` and is then settled), at most ``--settle-seconds``."""
    started = time.time()
    # expiry, then the reconcile job (every 60 s) that writes expired reservations
    earliest = last_fault + opts.reservation_ttl_s + 75 if last_fault else started
    previous, stable_since = None, time.time()
    while time.time() - started < opts.settle_seconds:
        total = stack.query("SELECT count(*), coalesce(sum(cost_usd), 0) FROM guard_llmcall")[0]
        if total != previous:
            previous, stable_since = total, time.time()
        elif time.time() - stable_since >= 15 and time.time() >= earliest:
            break
        await asyncio.sleep(5)
    return {"waited_s": time.time() - started, "ledger_rows": previous[0] if previous else None}


# -- the report -------------------------------------------------------------------------


def _window(t: float, phase: Phase) -> bool:
    return phase.start <= t < phase.end


def _ts(value: Any) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    text = str(value).replace(" ", "T")
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _pool_deltas(samples: list[dict[str, Any]], phase: Phase) -> dict[str, Any]:
    """Per process role and pool: requests that waited, wait ms, timeouts in the phase; the
    most waiting and checked out at once."""

    def at(t: float) -> dict[str, dict[str, dict[str, int]]]:
        found: dict[str, dict[str, dict[str, int]]] = {}
        for sample in samples:
            if sample["t"] >= t:
                break
            found = sample.get("pools") or found
        return found

    before, after = at(phase.start), at(phase.end)
    totals: dict[str, Counter[str]] = defaultdict(Counter)
    for proc, pools in after.items():
        role = proc.rsplit("-", 1)[0]
        for pool, stats in pools.items():
            old = before.get(proc, {}).get(pool, {})
            key = f"{role}/{pool.split(':')[0]}"
            for name in ("requests_queued", "requests_wait_ms", "requests_errors",
                         "requests_timeouts", "connections_lost",
                         "connections_errors"):  # fmt: skip
                totals[key][name] += max(0, stats.get(name, 0) - old.get(name, 0))
    for sample in samples:
        if not _window(sample["t"], phase):
            continue
        for proc, pools in (sample.get("pools") or {}).items():
            role = proc.rsplit("-", 1)[0]
            for pool, stats in pools.items():
                key = f"{role}/{pool.split(':')[0]}"
                held = stats.get("pool_size", 0) - stats.get("pool_available", 0)
                totals[key]["max_waiting"] = max(
                    totals[key]["max_waiting"], stats.get("requests_waiting", 0)
                )
                totals[key]["max_checked_out"] = max(totals[key]["max_checked_out"], held)
                totals[key]["pool_max"] = stats.get("pool_max", 0)
    return {key: dict(values) for key, values in sorted(totals.items())}


def summarize(
    result: dict[str, Any], phases: list[Phase], root: Path, billed: dict[str, Any],
    ledger: list[tuple[Any, ...]],
) -> list[dict[str, Any]]:  # fmt: skip
    runner: Soak = result["runner"]
    samples = result["samples"]
    probes = [line.split() for line in _lines(root / "probe.txt")]
    idle_lines = [line.split(" ", 2) for line in _lines(root / "idle.txt")]
    billed_rows = billed.get("billed", [])
    ledger_rows = [(_ts(created), Decimal(str(cost))) for _run, cost, created in ledger]
    rows = []
    for phase in phases:
        chats = [c for c in runner.chats if c.phase == phase.name]
        accepted = [c for c in chats if c.post_status == 202]
        posts = Counter(
            f"{c.post_status} {c.post_code}".strip() for c in chats if c.post_status != 202
        )
        client_end = Counter(
            (c.terminal + (f" {c.error_code}" if c.error_code else "")) or "unfinished"
            for c in accepted
        )
        final = Counter(
            (c.db_status or "?") + (f" {c.db_error}" if c.db_error else "") for c in accepted
        )
        unannounced = sum(
            1 for c in accepted if c.db_status in FINAL_STATUSES and c.terminal not in TERMINAL
        )
        silent = sum(
            1
            for c in accepted
            if c.db_status not in FINAL_STATUSES or (c.db_status == "failed" and not c.db_error)
        )
        checked = [c for c in accepted if c.stored is not None]
        http: Counter[str] = Counter()
        bad_5xx: Counter[str] = Counter()
        shed_503: Counter[str] = Counter()
        for (name, kind, status, code, retry_after), n in runner.http.items():
            if name != phase.name:
                continue
            http[f"{kind} {status}" + (f" {code}" if code else "")] += n
            if status >= 500:
                label = f"{kind} {status} {code}"
                if status == 503 and retry_after:
                    shed_503[label] += n
                else:
                    bad_5xx[label + ("" if retry_after else " (no Retry-After)")] += n
        in_probe = [p for p in probes if _window(float(p[0]), phase)]
        probe_ms = [float(p[2]) for p in in_probe if p[1] == "200"]
        idle_in = [p for p in idle_lines if len(p) >= 2 and _window(float(p[0]), phase)]
        gauges = [int(p[2]) for p in idle_in if p[1] == "gauge"]
        for who, answers in (
            ("probe /clients/me", Counter(p[1] for p in in_probe)),
            ("idle stream", Counter(p[2] for p in idle_in if p[1] == "status")),
        ):
            for answer, n in answers.items():
                if answer.startswith("5"):
                    label = f"{who} {answer.removesuffix('+RA')}"
                    if answer == "503+RA":
                        shed_503[label] += n
                    else:
                        bad_5xx[
                            label + ("" if answer.endswith("+RA") else " (no Retry-After)")
                        ] += n
        in_samples = [s for s in samples if _window(s["t"], phase)]
        connections: dict[str, int] = {}
        for sample in in_samples:
            counts = sample.get("connections") or {}
            by_process: Counter[str] = Counter()
            for key, n in counts.items():
                connections[key] = max(connections.get(key, 0), n)
                by_process[key.split(":")[0] + ":total"] += n
            for key, n in by_process.items():
                connections[key] = max(connections.get(key, 0), n)
        memory: dict[str, float] = {}
        for sample in in_samples:
            for name, mb in sample.get("mem_mb", {}).items():
                memory[name] = max(memory.get(name, 0.0), mb)
        billed_usd = sum((Decimal(str(cost)) for t, _k, cost in billed_rows
                          if _window(float(t), phase)), Decimal(0))  # fmt: skip
        recorded_usd = sum((cost for t, cost in ledger_rows if _window(t, phase)), Decimal(0))
        completed_in_window = [
            c for c in runner.chats if c.t_end and _window(c.t_end, phase) and
            c.terminal == "run.completed"
        ]  # fmt: skip
        rows.append(
            {
                "phase": phase.name,
                "seconds": round(phase.end - phase.start, 1),
                "fault": phase.fault,
                "fault_at_s": round(phase.fault_at - phase.start, 1) if phase.fault_at else None,
                "fault_took_s": round(phase.fault_s, 1) if phase.fault_s else None,
                "fault_note": phase.fault_note,
                "chats_started": len(chats),
                "chats_accepted": len(accepted),
                "post_failures": dict(posts),
                "client_saw": dict(client_end),
                "final_status": dict(final),
                "silent_runs": silent,
                # Ended in the database, but the client's stream never said so.
                "ended_unannounced": unannounced,
                "completed_in_phase": len(completed_in_window),
                "runs_per_s": len(completed_in_window) / max(0.001, phase.end - phase.start),
                "run_started_s_p50_p95": [
                    pct([c.t_started - c.t_post for c in accepted if c.t_started], p)
                    for p in (50, 95)
                ],
                "run_total_s_p50_p95": [
                    pct([c.t_end - c.t_post for c in accepted if c.t_end], p) for p in (50, 95)
                ],
                "events_received": sum(len(c.seqs) for c in accepted),
                "runs_checked": len(checked),
                "events_lost": sum(c.lost for c in checked),
                "events_duplicated": sum(c.duplicates for c in accepted),
                "events_out_of_order": sum(c.disorder for c in accepted),
                "events_phantom": sum(c.phantom for c in checked),
                "stored_log_gaps": sum(c.log_gaps for c in checked),
                "runs_with_loss": sum(1 for c in checked if c.lost),
                "stream_resets": sum(c.resets for c in accepted),
                "stream_reconnects": sum(c.reconnects for c in accepted),
                "resumed_runs": sum(1 for c in accepted if len(c.attempts) > 1),
                "http": dict(http.most_common()),
                "5xx_other": dict(bad_5xx),
                "503_with_retry_after": dict(shed_503),
                "spend_billed_usd": str(billed_usd),
                "spend_recorded_usd": str(recorded_usd),
                "pools": _pool_deltas(samples, phase),
                "pool_timeouts_logged": result["logs"].get(phase.name, {}).get("pool_timeouts", {}),
                "log_warnings_errors": result["logs"].get(phase.name, {}).get("events", {}),
                "db_connections_max": connections,
                "memory_mb_max": memory,
                "me_ms_p50_p95_p99_max": [
                    pct(probe_ms, 50),
                    pct(probe_ms, 95),
                    pct(probe_ms, 99),
                    max(probe_ms, default=float("nan")),
                ],
                "me_statuses": dict(Counter(p[1] for p in in_probe)),
                "idle_open_min_max": [min(gauges, default=0), max(gauges, default=0)],
                "idle_drops": dict(Counter(p[2] for p in idle_in if p[1] == "drop")),
                "idle_statuses": dict(Counter(p[2] for p in idle_in if p[1] == "status")),
                "idle_events": dict(Counter(p[2] for p in idle_in if p[1] == "event")),
            }
        )
    return rows


def chat_record(chat: Chat) -> dict[str, Any]:
    return {
        "lane": chat.lane,
        "phase": chat.phase,
        "t_post": round(chat.t_post, 3),
        "post": f"{chat.post_status} {chat.post_code}".strip(),
        "run_id": chat.run_id,
        "started_s": round(chat.t_started - chat.t_post, 3) if chat.t_started else None,
        "total_s": round(chat.t_end - chat.t_post, 3) if chat.t_end else None,
        "client_saw": (chat.terminal + f" {chat.error_code}").strip(),
        "db": (chat.db_status + f" {chat.db_error}").strip(),
        "events": len(chat.seqs),
        "lost": chat.lost,
        "duplicated": chat.duplicates,
        "resets": chat.resets,
        "reconnects": chat.reconnects,
        "attempts": sorted(chat.attempts),
        "stream_errors": dict(chat.stream_errors),
        **(
            {"seqs": chat.seqs, "stored": chat.stored, "stored_reset": chat.stored_reset}
            if chat.resets or chat.lost or chat.phantom or chat.duplicates
            else {}
        ),
    }


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if value != value else f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_fmt(v)}" for k, v in value.items()) or "-"
    if isinstance(value, list):
        return "/".join(_fmt(v) for v in value)
    return "-" if value in (None, "") else str(value)


TABLE: list[tuple[str, Any]] = [
    ("seconds", "seconds"),
    ("fault at +s (took s)", lambda r: f"{r['fault_at_s']} ({r['fault_took_s']})"
     if r["fault"] else "-"),
    ("chats started", "chats_started"),
    ("accepted (202)", "chats_accepted"),
    ("POST refused", "post_failures"),
    ("client saw", "client_saw"),
    ("final status (DB)", "final_status"),
    ("silent runs (not ended in DB)", "silent_runs"),
    ("ended, stream never said so", "ended_unannounced"),
    ("completed in phase", "completed_in_phase"),
    ("runs/s", "runs_per_s"),
    ("run.started p50/p95 s", "run_started_s_p50_p95"),
    ("run total p50/p95 s", "run_total_s_p50_p95"),
    ("events lost", "events_lost"),
    ("events duplicated", "events_duplicated"),
    ("out of order / phantom", lambda r: f"{r['events_out_of_order']}/{r['events_phantom']}"),
    ("stream.reset / reconnects", lambda r: f"{r['stream_resets']}/{r['stream_reconnects']}"),
    ("runs resumed (attempt>1)", "resumed_runs"),
    ("5xx (not 503+RA)", "5xx_other"),
    ("503 + Retry-After", "503_with_retry_after"),
    ("spend billed $", "spend_billed_usd"),
    ("spend recorded $", "spend_recorded_usd"),
    ("pool waits", lambda r: {k: v.get("requests_queued", 0) for k, v in r["pools"].items()
                              if v.get("requests_queued")}),
    ("pool timeouts", lambda r: {k: v.get("requests_timeouts", 0) for k, v in r["pools"].items()
                                 if v.get("requests_timeouts")} or r["pool_timeouts_logged"] or 0),
    ("pool waits given up", lambda r: {k: v.get("requests_errors", 0) for k, v in r["pools"].items()
                                       if v.get("requests_errors")} or 0),
    ("web conns checked out max", lambda r: r["pools"].get("web/django", {}).get(
        "max_checked_out", "-")),
    ("db conns max (total)", lambda r: {k.split(":")[0]: v for k, v in
                                        r["db_connections_max"].items() if k.endswith(":total")}),
    ("memory MB max (PSS)", "memory_mb_max"),
    ("/clients/me p50/p95/p99/max ms", "me_ms_p50_p95_p99_max"),
    ("/clients/me statuses", "me_statuses"),
    ("idle open min/max", "idle_open_min_max"),
    ("idle drops", "idle_drops"),
]  # fmt: skip


def print_table(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        print(f"\n== {row['phase']}" + (f" — {row['fault_note']}" if row["fault_note"] else ""))
        for label, getter in TABLE:
            value = getter(row) if callable(getter) else row[getter]
            print(f"  {label:<32} {_fmt(value)}")


def _short(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {k}" for k, n in counts.items()) or "0"


def _pool(row: dict[str, Any], stat: str) -> str:
    values = {k: v.get(stat, 0) for k, v in row["pools"].items() if v.get(stat)}
    return ", ".join(f"{k} {v}" for k, v in values.items()) or "0"


SUMMARY: list[tuple[str, Any]] = [
    ("chats started (202)", lambda r: f"{r['chats_started']} ({r['chats_accepted']})"),
    ("POST refused", lambda r: _short(r["post_failures"])),
    ("client saw", lambda r: _short(r["client_saw"])),
    ("final status", lambda r: _short(r["final_status"])),
    ("runs completed /s", lambda r: f"{r['runs_per_s']:.2f}"),
    ("run.started p50/p95 s", lambda r: _fmt(r["run_started_s_p50_p95"])),
    ("lost / duplicated events", lambda r: f"{r['events_lost']} / {r['events_duplicated']}"),
    ("ended, stream never said so", lambda r: str(r["ended_unannounced"])),
    ("5xx (not 503 + Retry-After)", lambda r: _short(r["5xx_other"])),
    ("503 + Retry-After", lambda r: _short(r["503_with_retry_after"])),
    ("spend billed / recorded $", lambda r: f"{r['spend_billed_usd']} / {r['spend_recorded_usd']}"),
    ("pool waits", lambda r: _pool(r, "requests_queued")),
    ("pool timeouts", lambda r: _pool(r, "requests_timeouts")),
    ("pool waits given up (timeouts, cancels)", lambda r: _pool(r, "requests_errors")),
    ("web connections checked out (max)", lambda r: str(
        r["pools"].get("web/django", {}).get("max_checked_out", "-"))),
    ("/api/clients/me/ p50/p95 ms", lambda r: _fmt(r["me_ms_p50_p95_p99_max"][:2])),
    ("memory MB (web, worker or up)", lambda r: " / ".join(
        f"{r['memory_mb_max'].get(k, 0):.0f}" for k in ("web", "worker", "up")
        if k in r["memory_mb_max"])),
]  # fmt: skip


def markdown_summary(rows: list[dict[str, Any]]) -> str:
    """One column per phase, for the README."""
    lines = ["| | " + " | ".join(r["phase"] for r in rows) + " |"]
    lines.append("|---" * (len(rows) + 1) + "|")
    for label, getter in SUMMARY:
        lines.append(f"| {label} | " + " | ".join(getter(r) for r in rows) + " |")
    return "\n".join(lines)


def targets(rows: list[dict[str, Any]], totals: dict[str, Any]) -> dict[str, Any]:
    calm = [r for r in rows if r["phase"] in CALM_PHASES]
    idle = next((r for r in rows if r["phase"] == "idle"), None)
    p95 = max((r["me_ms_p50_p95_p99_max"][1] for r in calm), default=float("nan"))
    checks = {
        "5xx other than 503 with Retry-After": sum(sum(r["5xx_other"].values()) for r in rows),
        "events lost": sum(r["events_lost"] for r in rows),
        "events duplicated": sum(r["events_duplicated"] for r in rows),
        "runs not ended, or failed without a code": sum(r["silent_runs"] for r in rows),
        "runs ended without the client's stream saying so": sum(
            r["ended_unannounced"] for r in rows
        ),
        "pool timeouts": sum(
            sum(v.get("requests_timeouts", 0) for v in r["pools"].values())
            + sum(r["pool_timeouts_logged"].values())
            for r in rows
        ),
        "web connections checked out with only idle streams open (1: the prober's)": (
            idle["pools"].get("web/django", {}).get("max_checked_out") if idle else None
        ),
        "/api/clients/me/ p95 outside fault phases (ms)": p95,
        "spend recorded - billed (USD)": totals["recorded_minus_billed_usd"],
    }
    verdict: dict[str, bool | None] = {name: value == 0 for name, value in checks.items()}
    verdict["/api/clients/me/ p95 outside fault phases (ms)"] = p95 < 100
    verdict["spend recorded - billed (USD)"] = Decimal(totals["recorded_minus_billed_usd"]) >= 0
    held = "web connections checked out with only idle streams open (1: the prober's)"
    verdict[held] = None if checks[held] is None else checks[held] <= 1
    return {"values": checks, "met": verdict}


def default_max_seconds(opts: argparse.Namespace, phases: list[Phase]) -> float:
    return (
        sum(p.seconds for p in phases)
        + opts.drain_seconds
        + opts.settle_seconds
        + opts.check_seconds
        + 900  # set-up (initdb, migrations, minting, opening the idle streams) and teardown
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--idle-streams", type=int, default=1000)
    parser.add_argument("--phase-seconds", type=float, default=60)
    parser.add_argument("--idle-phase-seconds", type=float, default=10)
    parser.add_argument(
        "--faults",
        help="comma-separated, in order (default: worker-kill,redis-restart,postgres-restart; "
        "embedded: process-kill); 'none' for none",
    )
    parser.add_argument("--embedded", action="store_true", help="insightstream up, no services")
    parser.add_argument("--token-delay-ms", type=int, default=100, help="the model's pace")
    parser.add_argument("--streams-per-client", type=int, default=5)
    parser.add_argument("--messages-per-session", type=int, default=5)
    parser.add_argument("--worker-pool", default="threads", choices=["threads", "prefork"])
    parser.add_argument("--worker-concurrency", type=int, default=16, help="run slots")
    parser.add_argument("--long-concurrency", type=int, default=8)
    parser.add_argument("--embedded-threads", type=int, help="TASK_RUNNER_THREADS (default 8)")
    parser.add_argument("--fault-down-s", type=float, default=2.0, help="Redis down time")
    parser.add_argument("--reservation-ttl-s", type=int, default=120)
    parser.add_argument("--drain-seconds", type=float, default=300)
    parser.add_argument("--settle-seconds", type=float, default=240)
    parser.add_argument("--check-seconds", type=float, default=300)
    parser.add_argument(
        "--patience-s",
        type=float,
        default=300,
        help="a chat's client gives up after this long without an event (queue waits count)",
    )
    parser.add_argument("--probe-interval-ms", type=float, default=100)
    parser.add_argument("--max-seconds", type=float, help="hard stop (default: the sum + 15 min)")
    parser.add_argument("--log-level", default="WARNING", help="the service's LOG_LEVEL")
    parser.add_argument("--out", help="write the JSON report here (with every chat)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    opts = parser.parse_args()
    if opts.faults is None:
        faults = list(EMBEDDED_FAULTS if opts.embedded else PRODUCTION_FAULTS)
    else:
        faults = [f.strip() for f in opts.faults.split(",") if f.strip() and f.strip() != "none"]
    allowed = EMBEDDED_FAULTS if opts.embedded else PRODUCTION_FAULTS
    if unknown := [f for f in faults if f not in allowed]:
        parser.error(f"faults {unknown} do not apply here; choose from {list(allowed)}")
    phases = [
        Phase("idle", None, opts.idle_phase_seconds),
        Phase("warm", None, opts.phase_seconds),
        Phase("steady", None, opts.phase_seconds),
        *(Phase(f, f, opts.phase_seconds) for f in faults),
        Phase("recovery", None, opts.phase_seconds),
    ]
    command = "uv run python tests/bench/bench_soak.py " + " ".join(sys.argv[1:])
    nofile = raise_open_files_limit()
    header = {
        "command": command,
        "git": git_commit(),
        "machine": {
            "cores": os.cpu_count(),
            "load_avg_at_start": os.getloadavg(),
            "open_files_limit": nofile,
        },
        "mode": "embedded" if opts.embedded else "production",
        "lifted_limits": LIFTED,
        "reservation_ttl_s": opts.reservation_ttl_s,
        "options": vars(opts),
    }
    print(json.dumps(header), flush=True)
    max_seconds = opts.max_seconds or default_max_seconds(opts, phases)

    def hard_stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, hard_stop)
    watchdog = threading.Timer(max_seconds, lambda: os.kill(os.getpid(), signal.SIGTERM))
    watchdog.daemon = True
    watchdog.start()
    root = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    print(f"scratch directory {root}", flush=True)
    stack: Stack | None = None
    try:
        stack = EmbeddedStack(root, opts) if opts.embedded else ProductionStack(root, opts)
        result = asyncio.run(soak(stack, opts, phases, root))
        billed = stack.model.billed()
        ledger = stack.query("SELECT run_id, cost_usd, created_at FROM guard_llmcall")
        run_costs = stack.query("SELECT coalesce(sum(cost_usd), 0), count(*) FROM runs_run")[0]
    finally:
        watchdog.cancel()
        if stack is not None:
            stack.stop()
    rows = summarize(result, phases, root, billed, ledger)
    billed_total = sum((Decimal(str(c)) for _t, _k, c in billed["billed"]), Decimal(0))
    recorded_total = sum((Decimal(str(cost)) for _r, cost, _c in ledger), Decimal(0))
    totals = {
        "billed_usd": str(billed_total),
        "billed_calls": len(billed["billed"]),
        "billed_by_kind": dict(Counter(k for _t, k, _c in billed["billed"])),
        "fake_server_own_bill_usd": billed.get("server_billed_total_usd"),
        "recorded_ledger_usd": str(recorded_total),
        "recorded_ledger_calls": len(ledger),
        "recorded_run_totals_usd": str(Decimal(str(run_costs[0]))),
        "runs_in_db": run_costs[1],
        "recorded_minus_billed_usd": str(recorded_total - billed_total),
        "settle": result["settled"],
        "runs_not_final": result["not_final"],
        "run_failures": result["failures"],
        "runs_unchecked_in_time": result["unchecked"],
        "setup": result["setup"],
        "5xx_samples": result["runner"].samples_5xx[:10],
    }
    verdict = targets(rows, totals)
    report = {**header, "phases": rounded(rows), "totals": rounded(totals), "targets": verdict}
    report["chats"] = [chat_record(chat) for chat in result["runner"].chats]
    report["logs"] = str(root / "logs") if opts.keep else None
    print_table(rows)
    print("\n" + markdown_summary(rows))
    print("\ntotals:", json.dumps(rounded(totals), default=str))
    print("targets:")
    for name, value in verdict["values"].items():
        met = verdict["met"][name]
        print(f"  {'PASS' if met else 'FAIL' if met is False else '----'} {name}: {_fmt(value)}")
    print(f"\ncommand: {command}\ngit: {json.dumps(header['git'])}")
    if opts.out:
        Path(opts.out).write_text(json.dumps(report, indent=1, default=str))
        print(f"report: {opts.out}")
    if not opts.keep:  # the logs stay
        for name in ("postgres", "redis", "data", "pool-stats"):
            shutil.rmtree(root / name, ignore_errors=True)
    print(f"{'kept' if opts.keep else 'logs in'} {root}")


if __name__ == "__main__":
    main()
