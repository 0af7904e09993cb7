"""Load benchmark: C concurrent chats through the real service path.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<your db> REDIS_URL=redis://127.0.0.1:6379/0 \
      uv run python tests/bench/bench_chat_load.py --levels 1,10,50,200 \
      [--token-delay-ms 100] [--endpoint ui-chat] [--idle-streams 100]

Starts `insightstream web` (uvicorn, ASGI) and `insightstream worker` (Celery, one pool per
queue; `TOOL_OFFLOAD=always` in the environment sends the offline model's tool calls to the
`long` queue too) on
PostgreSQL + Redis, then for each concurrency level C runs chats that each create a session,
POST a message and read the run's SSE stream to `run.completed`, with the offline model
answering a fixed request (plan → one tool → answer). Reports runs/s, events/s, time to
`run.started` and to the first `message.delta` (p50/p95/p99), full-run latency, errors,
RSS per process and CPU per run summed over web, worker, PostgreSQL and Redis — next to the
CPU of the same graph run bare in one process. Not a test: numbers, not assertions.

Each concurrent lane is its own client (a token of its own, as people are; ``--shared-client``
puts every chat on one token). ``--endpoint ui-chat`` drives ``POST /api/chat`` instead (the
AI SDK stream: one request creates the session, starts the run and streams it).
``--token-delay-ms`` paces the offline model (``OFFLINE_TOKEN_DELAY_MS``: 100 is a model's
pace, ~5 s a run). ``--idle-streams N`` holds N session streams open (idle: their sessions
get no runs) through every level. Per level it also reports errors by kind (``POST 500``,
``stream 429`` ...), ``GET /api/chat/sessions/`` probed once a second (status, p50/p95/max),
the web process's and workers' PostgreSQL connections (sampled from ``pg_stat_activity``,
max) and the pool timeouts the processes logged. The database is migrated and written to:
point ``DATABASE_URL`` at a database of your own, never one others test on.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench._harness import (
    POOL_TIMEOUT_MARK,
    MintFailed,
    descendants_of,
    log_count,
    migrate,
    mint,
    pct,
    pids_named,
    proc_cpu_s,
    proc_rss_mb,
    rounded,
    service_env,
    start_web,
    start_worker,
    stop_process,
    wait_live,
    with_application_name,
)

REQUEST = "hashtags for a home espresso channel"


class Service:
    def __init__(
        self,
        *,
        port: int,
        worker_concurrency: int,
        long_concurrency: int,
        worker_pool: str,
        token_delay_ms: int | None = None,
        db_pool_max_size: int | None = None,
    ) -> None:
        env = service_env(
            {
                "GUARD_REQUESTS_PER_MINUTE": "1000000",
                "CLIENT_MINT_PER_MINUTE": "1000000",
                "GUARD_MAX_CONCURRENT_CALLS": "100000",
            }
        )
        if token_delay_ms is not None:
            env["OFFLINE_TOKEN_DELAY_MS"] = str(token_delay_ms)
        if db_pool_max_size is not None:
            env["DB_POOL_MAX_SIZE"] = str(db_pool_max_size)
        self.logs = Path(tempfile.mkdtemp(prefix="bench-chat-load-"))
        database_url = os.environ["DATABASE_URL"]
        migrate(env)
        self.web = start_web(
            {**env, "DATABASE_URL": with_application_name(database_url, "bench-web")},
            port=port,
            log=self.logs / "web.log",
        )
        # As deployed (`insightstream worker`): one Celery worker, with its own pool, per
        # queue; runs on `default`, long tool calls (TOOL_OFFLOAD) and channel fetches on
        # `long`.
        self.worker = start_worker(
            {**env, "DATABASE_URL": with_application_name(database_url, "bench-worker")},
            args=[
                "--queues",
                "default,long",
                f"--concurrency={worker_concurrency}",
                f"--long-concurrency={long_concurrency}",
                f"--pool={worker_pool}",
            ],
            log=self.logs / "worker.log",
        )
        self.base = f"http://127.0.0.1:{port}"
        wait_live(self.base)
        time.sleep(3)  # worker start-up

    def pool_timeouts(self) -> dict[str, int]:
        """How often each process has logged a pool timeout so far."""
        return {
            name: log_count(self.logs / f"{name}.log", POOL_TIMEOUT_MARK)
            for name in ("web", "worker")
        }

    def pids(self) -> dict[str, list[int]]:
        return {
            "web": [self.web.pid],
            "worker": [self.worker.pid, *descendants_of(self.worker.pid)],
            "postgres": pids_named("postgres"),
            "redis": pids_named("redis-server"),
        }

    def stop(self) -> None:
        for process in (self.web, self.worker):
            stop_process(process)


def _note_event(result: dict, kind: str, t0: float) -> bool:
    """Record one stream event; True once the run has ended."""
    result["events"] += 1
    now = time.perf_counter() - t0
    if kind == "run.started":
        result.setdefault("started", now)
    elif kind == "message.delta":
        result.setdefault("first_delta", now)
    elif kind in ("run.completed", "run.failed", "run.cancelled"):
        result["ok"] = kind == "run.completed"
        result["total"] = now
        if not result["ok"]:
            result["error"] = kind
        return True
    return False


async def one_chat(client: httpx.AsyncClient, token: str, result: dict) -> dict:
    """One chat; ``result`` is filled in as it goes (``phase`` names where it failed)."""
    headers = {"X-Client-Token": token}
    result.update(ok=False, events=0, phase="session")
    created = await client.post("/api/chat/sessions/", json={}, headers=headers)
    if created.status_code != 201:
        result["error"] = f"session {created.status_code}"
        return result
    session = created.json()
    t0 = time.perf_counter()
    result["phase"] = "message"
    posted = await client.post(
        f"/api/chat/sessions/{session['id']}/messages/", json={"content": REQUEST}, headers=headers
    )
    if posted.status_code != 202:
        result["error"] = f"POST {posted.status_code}"
        return result
    result["post"] = time.perf_counter() - t0
    url = posted.json()["stream_url"]
    result["phase"] = "stream"
    async with client.stream("GET", url, timeout=120) as response:
        if response.status_code != 200:
            result["error"] = f"stream {response.status_code}"
            return result
        async for line in response.aiter_lines():
            if line.startswith("event: ") and _note_event(result, line.removeprefix("event: "), t0):
                break
    return result


CSRF_TOKEN = "b" * 32
# The AI SDK chunk types that stand for run events the bench times.
UI_CHUNK_EVENTS = {"data-run": "run.started", "text-delta": "message.delta"}


async def one_ui_chat(client: httpx.AsyncClient, token: str, result: dict) -> dict:
    """One chat through ``POST /api/chat``: the response is the run's UI message stream."""
    headers = {"X-Client-Token": token, "X-CSRFToken": CSRF_TOKEN}
    result.update(ok=False, events=0, phase="stream")
    body = {
        "id": uuid.uuid4().hex,
        "messages": [{"role": "user", "parts": [{"type": "text", "text": REQUEST}]}],
    }
    t0 = time.perf_counter()
    async with client.stream("POST", "/api/chat", json=body, headers=headers) as response:
        if response.status_code != 200:
            result["error"] = f"POST {response.status_code}"
            return result
        result["post"] = time.perf_counter() - t0
        async for line in response.aiter_lines():
            if not line.startswith("data: {"):
                continue
            kind = json.loads(line.removeprefix("data: ")).get("type")
            if kind in UI_CHUNK_EVENTS:
                _note_event(result, UI_CHUNK_EVENTS[kind], t0)
            elif kind == "finish":
                _note_event(result, "run.completed", t0)
                break
            elif kind in ("error", "abort"):
                _note_event(result, "run.failed" if kind == "error" else "run.cancelled", t0)
                break
            else:
                result["events"] += 1
    return result


class IdleStreams:
    """Session streams held open and idle (no runs), from clients of their own."""

    def __init__(self, base: str, count: int, per_client: int) -> None:
        self.base, self.count, self.per_client = base, count, per_client
        self.statuses: Counter[str] = Counter()
        self.tokens: list[str] = []
        self._tasks: list[asyncio.Task] = []
        self._client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> IdleStreams:
        if not self.count:
            return self
        limits = httpx.Limits(max_connections=self.count + 10)
        self._client = httpx.AsyncClient(base_url=self.base, limits=limits, timeout=30)
        opened: list[asyncio.Future] = []
        for index in range(self.count):
            if index % self.per_client == 0:
                self.tokens.append(await mint(self._client))
            headers = {"X-Client-Token": self.tokens[-1]}
            created = await self._client.post("/api/chat/sessions/", json={}, headers=headers)
            future: asyncio.Future = asyncio.get_running_loop().create_future()
            opened.append(future)
            self._tasks.append(asyncio.create_task(self._hold(created.json(), future)))
        await asyncio.gather(*opened)
        return self

    async def _hold(self, session: dict, opened: asyncio.Future) -> None:
        assert self._client is not None
        try:
            async with self._client.stream("GET", session["stream_url"], timeout=None) as resp:
                self.statuses[f"stream {resp.status_code}"] += 1
                opened.set_result(None)
                async for _chunk in resp.aiter_raw():
                    pass
        except Exception as exc:
            self.statuses[type(exc).__name__] += 1
            if not opened.done():
                opened.set_result(None)

    async def __aexit__(self, *exc: object) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()


class Probe:
    """``GET /api/chat/sessions/`` once a second, and the database's connections per process
    (``pg_stat_activity`` by application_name), for as long as a level runs."""

    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.client, self.token = client, token
        self.latencies_ms: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.max_connections: Counter[str] = Counter()
        self._stop = asyncio.Event()

    async def run(self) -> None:
        import psycopg

        database_url = os.environ["DATABASE_URL"]
        pg = await psycopg.AsyncConnection.connect(
            with_application_name(database_url, "bench-probe"), autocommit=True
        )
        try:
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    response = await self.client.get(
                        "/api/chat/sessions/", headers={"X-Client-Token": self.token}, timeout=30
                    )
                    self.statuses[response.status_code] += 1
                except httpx.HTTPError:
                    self.statuses[0] += 1
                self.latencies_ms.append((time.perf_counter() - started) * 1000)
                cursor = await pg.execute(
                    "SELECT application_name, count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND application_name LIKE 'bench-%%'"
                    " AND application_name <> 'bench-probe' GROUP BY 1"
                )
                for name, count in await cursor.fetchall():
                    key = name.removeprefix("bench-")
                    self.max_connections[key] = max(self.max_connections[key], count)
                try:
                    await asyncio.wait_for(self._stop.wait(), timeout=1.0)
                except TimeoutError:
                    pass
        finally:
            await pg.close()

    def stop(self) -> None:
        self._stop.set()

    def summary(self) -> dict:
        return {
            "statuses": dict(self.statuses),
            "ms_p50_p95_max": [
                pct(self.latencies_ms, 50),
                pct(self.latencies_ms, 95),
                max(self.latencies_ms, default=float("nan")),
            ],
        }


async def level(
    base: str, concurrency: int, runs: int, *, endpoint: str, shared_client: bool
) -> tuple[list[dict], float, dict]:
    limits = httpx.Limits(max_connections=concurrency * 2 + 10)
    chat = one_ui_chat if endpoint == "ui-chat" else one_chat
    # POST /api/chat is a plain Django view: CSRF wants the cookie and header to match.
    cookies = {"csrftoken": CSRF_TOKEN}
    async with httpx.AsyncClient(
        base_url=base, limits=limits, timeout=120, cookies=cookies
    ) as client:
        probe = Probe(client, await mint(client))
        shared = await mint(client) if shared_client else None
        queue = list(range(runs))
        results: list[dict] = []

        async def lane() -> None:
            try:
                token = shared or await mint(client)
            except (MintFailed, httpx.HTTPError) as exc:
                if queue:
                    queue.pop()
                    results.append({"ok": False, "error": str(exc)[:160], "events": 0})
                return
            while queue:
                queue.pop()
                result: dict = {}
                try:
                    results.append(await chat(client, token, result))
                except Exception as exc:  # a benchmark records errors, it does not stop
                    error = f"{type(exc).__name__} in {result.get('phase')}: {exc}"[:160]
                    results.append({"ok": False, "error": error, "events": 0})

        probing = asyncio.create_task(probe.run())
        started = time.perf_counter()
        await asyncio.gather(*(lane() for _ in range(concurrency)))
        wall = time.perf_counter() - started
        probe.stop()
        await probing
        return (
            results,
            wall,
            {"sessions_list": probe.summary(), "db_connections_max": dict(probe.max_connections)},
        )


async def run_level(
    base: str,
    concurrency: int,
    runs: int,
    *,
    endpoint: str,
    shared_client: bool,
    idle_streams: int,
    streams_per_client: int,
) -> tuple[list[dict], float, dict]:
    async with IdleStreams(base, idle_streams, streams_per_client) as idle:
        results, wall, probed = await level(
            base, concurrency, runs, endpoint=endpoint, shared_client=shared_client
        )
        if idle_streams:
            probed["idle_streams"] = dict(idle.statuses)
        return results, wall, probed


def start_profilers(service: Service, directory: str | None, concurrency: int) -> list:
    """py-spy on the web and worker processes (children too), CPU samples only (--idle off)."""
    if not directory:
        return []
    Path(directory).mkdir(parents=True, exist_ok=True)
    profilers = []
    for name, pid in (("web", service.web.pid), ("worker", service.worker.pid)):
        out = Path(directory) / f"{name}-c{concurrency}.txt"
        profilers.append(
            subprocess.Popen(
                [
                    "py-spy",
                    "record",
                    "--pid",
                    str(pid),
                    "--subprocesses",
                    "--rate",
                    "200",
                    "--gil",  # only the thread holding the GIL: Python CPU, not waits
                    "--format",
                    "raw",
                    "--output",
                    str(out),
                    "--nonblocking",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    time.sleep(1)
    return profilers


def stop_profilers(profilers: list) -> None:
    for profiler in profilers:
        profiler.send_signal(signal.SIGINT)
    for profiler in profilers:
        profiler.wait(timeout=60)


def bare_graph_cpu_ms(runs: int) -> float:
    """CPU per run of the same request through the graph alone (in-memory checkpointer)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.config.settings.local")
    from langchain_core.messages import HumanMessage
    from langgraph.checkpoint.memory import InMemorySaver

    from agents import AgentDeps, Context, ModelFactory, ModelSettings, compile_graph
    from agents.guard import CostGuard
    from agents.guard.limits import GuardLimits, PlanLimits
    from agents.guard.memory_store import MemoryBudgetStore
    from agents.workspace import Workspace

    class NoData:
        async def videos_for_channel(self, channel_id):
            return []

        async def workspace(self):
            return Workspace()

        async def corpus_videos(self, query):
            return []

        async def save_factoid(self, **kwargs):
            raise RuntimeError("not stored")

    guard = CostGuard(
        store=MemoryBudgetStore(),
        limits=GuardLimits(
            plans={"anonymous": PlanLimits(client_daily_usd=None)}, global_daily_usd=None
        ),
    )
    factory = ModelFactory(settings=ModelSettings(), guard=guard, catalogue=lambda _m: None)
    graph = compile_graph(checkpointer=InMemorySaver())

    async def go() -> None:
        for index in range(runs):
            context = Context(deps=AgentDeps(models=factory, data=NoData()), run_id=str(index))
            config = {"configurable": {"thread_id": f"t{index}"}}
            async for _ in graph.astream(
                {"messages": [HumanMessage(REQUEST)]},
                config=config,
                context=context,
                stream_mode=["messages", "custom"],
            ):
                pass

    asyncio.run(go())  # warm-up imports excluded below
    start = time.process_time()
    asyncio.run(go())
    return (time.process_time() - start) / runs * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--levels", default="1,10,50,200")
    parser.add_argument("--runs-per-level", type=int, default=0, help="default: max(20, 2*C)")
    parser.add_argument("--port", type=int, default=8911)
    parser.add_argument("--worker-concurrency", type=int, default=4)
    parser.add_argument("--long-concurrency", type=int, default=8, help="the long queue's pool")
    parser.add_argument(
        "--worker-pool",
        default="prefork",
        choices=["prefork", "threads"],
        help="threads: runs share the process's event loop, several at once",
    )
    parser.add_argument(
        "--token-delay-ms",
        type=int,
        help="OFFLINE_TOKEN_DELAY_MS for the web and worker (100: a model's pace)",
    )
    parser.add_argument(
        "--db-pool-max-size", type=int, help="DB_POOL_MAX_SIZE (default: the service's own)"
    )
    parser.add_argument("--endpoint", choices=["messages", "ui-chat"], default="messages")
    parser.add_argument(
        "--shared-client", action="store_true", help="every chat on one client token"
    )
    parser.add_argument("--idle-streams", type=int, default=0)
    parser.add_argument(
        "--streams-per-client", type=int, default=10, help="idle streams per client token"
    )
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="record py-spy samples of the web and worker processes during the levels "
        "(collapsed stacks, one file per process, in DIR)",
    )
    opts = parser.parse_args()
    if not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        sys.exit("Set DATABASE_URL and REDIS_URL: this benchmark measures the production path.")
    bare_ms = bare_graph_cpu_ms(20)
    service = Service(
        port=opts.port,
        worker_concurrency=opts.worker_concurrency,
        long_concurrency=opts.long_concurrency,
        worker_pool=opts.worker_pool,
        token_delay_ms=opts.token_delay_ms,
        db_pool_max_size=opts.db_pool_max_size,
    )
    rows = []
    try:
        # warm-up
        asyncio.run(level(service.base, 2, 4, endpoint=opts.endpoint, shared_client=True))
        for concurrency in [int(c) for c in opts.levels.split(",")]:
            runs = opts.runs_per_level or max(20, 2 * concurrency)
            pids = service.pids()
            cpu_before = {k: sum(proc_cpu_s(p) for p in v) for k, v in pids.items()}
            profilers = start_profilers(service, opts.profile, concurrency)
            client_before = time.process_time()
            timeouts_before = service.pool_timeouts()
            results, wall, probed = asyncio.run(
                run_level(
                    service.base,
                    concurrency,
                    runs,
                    endpoint=opts.endpoint,
                    shared_client=opts.shared_client,
                    idle_streams=opts.idle_streams,
                    streams_per_client=opts.streams_per_client,
                )
            )
            timeouts_after = service.pool_timeouts()
            client_cpu = time.process_time() - client_before
            stop_profilers(profilers)
            pids = service.pids()
            cpu_after = {k: sum(proc_cpu_s(p) for p in v) for k, v in pids.items()}
            ok = [r for r in results if r["ok"]]
            cpu_ms = {k: (cpu_after[k] - cpu_before[k]) / max(1, len(ok)) * 1000 for k in pids}
            rows.append(
                {
                    "C": concurrency,
                    "runs": runs,
                    "ok": len(ok),
                    "errors": len(results) - len(ok),
                    "runs_per_s": len(ok) / wall,
                    "events_per_s": sum(r["events"] for r in ok) / wall,
                    "started_ms": [
                        pct([r["started"] * 1000 for r in ok if "started" in r], p)
                        for p in (50, 95, 99)
                    ],
                    "post_ms": [pct([r["post"] * 1000 for r in ok], p) for p in (50, 95, 99)],
                    "first_delta_ms": [
                        pct([r["first_delta"] * 1000 for r in ok if "first_delta" in r], p)
                        for p in (50, 95, 99)
                    ],
                    "total_ms": [pct([r["total"] * 1000 for r in ok], p) for p in (50, 95, 99)],
                    "cpu_ms_per_run": cpu_ms,
                    # The load generator shares the machine's cores; not part of the total.
                    "client_cpu_ms_per_run": client_cpu / max(1, len(ok)) * 1000,
                    "rss_mb": {
                        k: round(sum(proc_rss_mb(p) for p in v), 1) for k, v in pids.items()
                    },
                    "errors_by_kind": dict(
                        Counter(r.get("error", "") for r in results if not r["ok"]).most_common()
                    ),
                    "pool_timeouts": {
                        k: timeouts_after[k] - timeouts_before[k] for k in timeouts_after
                    },
                    **probed,
                }
            )
    finally:
        service.stop()
    print(
        f"machine: {os.cpu_count()} cores; worker concurrency {opts.worker_concurrency}, "
        f"long {opts.long_concurrency}; TOOL_OFFLOAD={os.environ.get('TOOL_OFFLOAD', 'auto')}; "
        f"endpoint {opts.endpoint}; token delay {opts.token_delay_ms} ms; "
        f"idle streams {opts.idle_streams}; logs in {service.logs}"
    )
    print(
        f"bare graph (same request, in-process, in-memory checkpointer): {bare_ms:.1f} ms CPU/run"
    )
    for row in rows:
        total_cpu = sum(row["cpu_ms_per_run"].values())
        print(
            json.dumps(
                rounded(
                    {
                        **row,
                        "cpu_ms_per_run_total": total_cpu,
                        "overhead_vs_bare": round((total_cpu - bare_ms) / bare_ms, 2),
                    }
                ),
            )
        )
    print("command: uv run python tests/bench/bench_chat_load.py", " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
