"""Load benchmark: C concurrent chats through the real service path.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/0 \
      uv run python tests/bench/bench_chat_load.py --levels 1,10,50,200

Starts `insightstream web` (uvicorn, ASGI) and `insightstream worker` (Celery, one pool per
queue; `TOOL_OFFLOAD=always` in the environment sends the offline model's tool calls to the
`long` queue too) on
PostgreSQL + Redis, then for each concurrency level C runs chats that each create a session,
POST a message and read the run's SSE stream to `run.completed`, with the offline model
answering a fixed request (plan → one tool → answer). Reports runs/s, events/s, time to
`run.started` and to the first `message.delta` (p50/p95/p99), full-run latency, errors,
RSS per process and CPU per run summed over web, worker, PostgreSQL and Redis — next to the
CPU of the same graph run bare in one process. Not a test: numbers, not assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
REQUEST = "hashtags for a home espresso channel"
CLK = os.sysconf("SC_CLK_TCK")


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def proc_cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # utime + stime, plus cutime + cstime: PostgreSQL backends that exit during a level
    # (their CPU moves to the postmaster when it reaps them) still count.
    return (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / CLK


def proc_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def pids_named(name: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip().startswith(name):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def descendants_of(pid: int) -> list[int]:
    found = []
    for child in children_of(pid):
        found += [child, *descendants_of(child)]
    return found


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == pid:
                found.append(int(entry.name))
    return found


class Service:
    def __init__(
        self, *, port: int, worker_concurrency: int, long_concurrency: int, worker_pool: str
    ) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "backend.config.settings.local",
            "LOG_LEVEL": "WARNING",
            "GUARD_REQUESTS_PER_MINUTE": "1000000",
            "CLIENT_MINT_PER_MINUTE": "1000000",
            "GUARD_MAX_CONCURRENT_CALLS": "100000",
            "DB_POOL_MAX_SIZE": "40",
        }
        run = [sys.executable, "-m", "backend.cli"]
        subprocess.run(
            [*run, "manage", "migrate", "--noinput"],
            cwd=REPO,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self.web = subprocess.Popen(
            [*run, "web", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        # As deployed (`insightstream worker`): one Celery worker, with its own pool, per
        # queue; runs on `default`, long tool calls (TOOL_OFFLOAD) and channel fetches on
        # `long`.
        self.worker = subprocess.Popen(
            [
                *run,
                "worker",
                "--queues",
                "default,long",
                f"--concurrency={worker_concurrency}",
                f"--long-concurrency={long_concurrency}",
                f"--pool={worker_pool}",
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base + "/livez", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        time.sleep(3)  # worker start-up

    def pids(self) -> dict[str, list[int]]:
        return {
            "web": [self.web.pid],
            "worker": [self.worker.pid, *descendants_of(self.worker.pid)],
            "postgres": pids_named("postgres"),
            "redis": pids_named("redis-server"),
        }

    def stop(self) -> None:
        for process in (self.web, self.worker):
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(process.pid, signal.SIGKILL)


async def one_chat(client: httpx.AsyncClient, token: str, result: dict) -> dict:
    """One chat; ``result`` is filled in as it goes (``phase`` names where it failed)."""
    headers = {"X-Client-Token": token}
    result.update(ok=False, events=0, phase="session")
    session = (await client.post("/api/chat/sessions/", json={}, headers=headers)).json()
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
        async for line in response.aiter_lines():
            if not line.startswith("event: "):
                continue
            kind = line.removeprefix("event: ")
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
                break
    return result


async def level(base: str, concurrency: int, runs: int) -> tuple[list[dict], float]:
    limits = httpx.Limits(max_connections=concurrency * 2 + 10)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as client:
        token = (await client.post("/api/clients/")).json()["token"]
        queue = list(range(runs))
        results: list[dict] = []

        async def lane() -> None:
            while queue:
                queue.pop()
                result: dict = {}
                try:
                    results.append(await one_chat(client, token, result))
                except Exception as exc:  # a benchmark records errors, it does not stop
                    error = f"{type(exc).__name__} in {result.get('phase')}: {exc}"[:160]
                    results.append({"ok": False, "error": error, "events": 0})

        started = time.perf_counter()
        await asyncio.gather(*(lane() for _ in range(concurrency)))
        return results, time.perf_counter() - started


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

    class NoData:
        async def videos_for_channel(self, channel_id):
            return []

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
    )
    rows = []
    try:
        asyncio.run(level(service.base, 2, 4))  # warm-up
        for concurrency in [int(c) for c in opts.levels.split(",")]:
            runs = opts.runs_per_level or max(20, 2 * concurrency)
            pids = service.pids()
            cpu_before = {k: sum(proc_cpu_s(p) for p in v) for k, v in pids.items()}
            profilers = start_profilers(service, opts.profile, concurrency)
            client_before = time.process_time()
            results, wall = asyncio.run(level(service.base, concurrency, runs))
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
                    "error_kinds": sorted({r.get("error", "") for r in results if not r["ok"]}),
                }
            )
    finally:
        service.stop()
    print(
        f"machine: {os.cpu_count()} cores; worker concurrency {opts.worker_concurrency}, "
        f"long {opts.long_concurrency}; TOOL_OFFLOAD={os.environ.get('TOOL_OFFLOAD', 'auto')}"
    )
    print(
        f"bare graph (same request, in-process, in-memory checkpointer): {bare_ms:.1f} ms CPU/run"
    )
    for row in rows:
        total_cpu = sum(row["cpu_ms_per_run"].values())
        print(
            json.dumps(
                {
                    **row,
                    "cpu_ms_per_run_total": round(total_cpu, 1),
                    "overhead_vs_bare": round((total_cpu - bare_ms) / bare_ms, 2),
                },
                default=lambda v: round(v, 1) if isinstance(v, float) else v,
            )
        )
    print("command: uv run python tests/bench/bench_chat_load.py --levels", opts.levels)


if __name__ == "__main__":
    main()
