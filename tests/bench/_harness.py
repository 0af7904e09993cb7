"""Shared pieces of the benches in ``tests/bench`` (not a test module).

- /proc helpers: CPU, RSS, process trees (psutil is not installed here).
- The service's processes as deployed (``insightstream web``, ``worker``, ``beat``, ``up``),
  each in a session of its own with its log appended to a file.
- A PostgreSQL and a Redis of the bench's own, on free ports in a scratch directory (Redis
  with an append-only file), so a bench can restart them without touching the machine's
  shared servers.
- The scripted OpenAI-compatible model (``tests/fakes/openai_server.py``) in a process of
  its own, priced and paced, that reports every reply it billed.
- Connection-pool statistics of the service's processes: a ``sitecustomize`` on the
  children's ``PYTHONPATH`` writes each process's psycopg pool stats to a file once a
  second (no change to the service's code).
- SSE parsing and client minting.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlparse, urlunparse

import httpx

REPO = Path(__file__).resolve().parents[2]
CLK = os.sysconf("SC_CLK_TCK")
CLI = [sys.executable, "-m", "backend.cli"]
# psycopg_pool's PoolTimeout text, as the processes log it.
POOL_TIMEOUT_MARK = "couldn't get a connection"
# The SECRET_KEY every process of one bench shares (local settings with DATABASE_URL or
# REDIS_URL refuse to start without one).
BENCH_SECRET_KEY = "bench-only-secret-key-" + "0" * 40


# -- numbers ----------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def rounded(value: object) -> object:
    if isinstance(value, float):
        return round(value, 1)
    if isinstance(value, dict):
        return {key: rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [rounded(item) for item in value]
    return value


# -- /proc ------------------------------------------------------------------------------


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


def proc_cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


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


def proc_pss_mb(pid: int) -> float:
    """Proportional set size: shared pages split between the processes sharing them, so
    a process tree's sum does not count PostgreSQL's shared buffers once per backend."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def tree_pss_mb(pid: int | None) -> float:
    """PSS of a process and all its descendants."""
    if not pid:
        return 0.0
    return sum(proc_pss_mb(p) for p in (pid, *descendants_of(pid)))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def raise_open_files_limit() -> tuple[int, int]:
    """The soft limit on open files raised to the hard one (children inherit it)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def git_commit() -> dict[str, Any]:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, check=False
        ).stdout.strip()

    dirty = [line for line in git("status", "--porcelain").splitlines() if line.strip()]
    return {
        "commit": git("rev-parse", "HEAD"),
        "subject": git("log", "-1", "--format=%s")[:120],
        "uncommitted_files": len(dirty),
    }


# -- the service's processes ------------------------------------------------------------


def with_application_name(database_url: str, name: str) -> str:
    """The URL with ``application_name`` set, so ``pg_stat_activity`` tells processes apart."""
    parsed = urlparse(database_url)
    query = "&".join(filter(None, [parsed.query, urlencode({"application_name": name})]))
    return urlunparse(parsed._replace(query=query))


def service_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of the service's processes: local settings, warnings only, the
    bench's ``SECRET_KEY`` (unless one is set), plus ``extra``."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backend.config.settings.local",
        "LOG_LEVEL": "WARNING",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or BENCH_SECRET_KEY,
        **(extra or {}),
    }


def start_process(
    command: list[str], *, env: dict[str, str], log: Path, cwd: Path = REPO
) -> subprocess.Popen[bytes]:
    """``command`` in a session of its own (so its whole tree can be signalled), output
    appended to ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen(
            command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [*CLI, "manage", "migrate", "--noinput"],
        cwd=REPO,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def start_web(env: dict[str, str], *, port: int, log: Path) -> subprocess.Popen[bytes]:
    return start_process([*CLI, "web", "--port", str(port)], env=env, log=log)


def start_worker(env: dict[str, str], *, args: list[str], log: Path) -> subprocess.Popen[bytes]:
    """``insightstream worker`` (one Celery worker, with its own pool, per queue)."""
    return start_process([*CLI, "worker", *args], env=env, log=log)


def wait_live(base: str, *, timeout_s: float = 60) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/livez", timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    return False


def stop_process(process: subprocess.Popen[bytes] | None, *, timeout_s: float = 20) -> None:
    """SIGTERM to the process's session, SIGKILL if it is still there after ``timeout_s``."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=timeout_s)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        process.wait(timeout=10)


def log_count(path: Path, mark: str) -> int:
    text = path.read_text(errors="replace") if path.exists() else ""
    return text.count(mark)


# -- PostgreSQL and Redis of the bench's own --------------------------------------------


class OwnPostgres:
    """A PostgreSQL cluster in ``root`` on ``port`` (``initdb`` as the ``postgres`` OS user
    when run as root: PostgreSQL refuses root). Socket in ``root`` too, never the shared
    server's directory."""

    def __init__(self, root: Path, port: int, *, max_connections: int = 200) -> None:
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
        if not bins:
            raise RuntimeError("no PostgreSQL binaries under /usr/lib/postgresql/*/bin")
        self.bin = bins[-1]
        self.port = port
        self.root = root / "postgres"
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.root.mkdir(parents=True)
        self._as_pg: list[str] = []
        if os.geteuid() == 0:
            self._as_pg = ["runuser", "-u", "postgres", "--"]
            root.chmod(root.stat().st_mode | 0o055)  # let postgres reach its directory
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
            "--no-sync",
        )  # fmt: skip
        self.options = (
            f"-p {port} -k {self.root} -c listen_addresses=127.0.0.1 "
            f"-c max_connections={max_connections}"
        )

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self._as_pg, str(self.bin / tool), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=self.root,
        )

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", self.options,
                  "-w", "-t", "60", "start")  # fmt: skip

    def restart(self) -> None:
        """``pg_ctl restart -m fast``: every session is terminated, then the server is back."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-m", "fast",
                  "-w", "-t", "60", "restart")  # fmt: skip

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            except subprocess.CalledProcessError:
                pass

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None


class OwnRedis:
    """A ``redis-server`` on ``port`` with an append-only file in ``root``."""

    def __init__(self, root: Path, port: int) -> None:
        self.port = port
        self.dir = root / "redis"
        self.dir.mkdir(parents=True)
        self.log = self.dir / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *, timeout_s: float = 20) -> None:
        command = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
            "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
            "--dir", str(self.dir), "--logfile", str(self.log),
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.ping():
                return
            time.sleep(0.1)
        raise RuntimeError(f"redis-server on {self.port} did not answer; see {self.log}")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self, *, timeout_s: float = 30) -> None:
        """SIGTERM: Redis writes the append-only file out and exits."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def restart(self, *, down_s: float) -> None:
        """SIGTERM, ``down_s`` seconds down, then start again on the same port and file."""
        self.stop()
        time.sleep(down_s)
        self.start()

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"


# -- the scripted model in a process of its own -----------------------------------------

MODEL_ID = "bench/priced"
# USD per million tokens, as declared to the service (DECLARED_MODELS). Cheap enough that a
# five-message session's worst case stays under the anonymous plan's per-call cap ($0.02:
# at $1/$2 the third message of a session was refused).
MODEL_PRICE = {"input_per_million": "0.5", "output_per_million": "1"}
ANSWER_WORDS = 50


def declared_models() -> str:
    return json.dumps([{"id": MODEL_ID, **MODEL_PRICE, "context_length": 128000}])


def _priced(prompt_tokens: int, completion_tokens: int) -> float:
    usd = (
        Decimal(prompt_tokens) * Decimal(MODEL_PRICE["input_per_million"])
        + Decimal(completion_tokens) * Decimal(MODEL_PRICE["output_per_million"])
    ) / Decimal(1_000_000)
    return float(usd)


def _tool_results_since_the_question(messages: list[dict[str, Any]]) -> bool:
    """Whether the newest user message has been followed by tool results (a session's
    history holds earlier runs' tool messages too)."""
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    return any(m.get("role") == "tool" for m in messages[last_user + 1 :])


def serve_scripted_model(url_file: str, token_delay_ms: int) -> None:
    """The model as a provider: plan → ``hashtags`` (whose own call gets JSON) → a
    ``ANSWER_WORDS``-word answer streamed at ``token_delay_ms`` a chunk. Every reply is
    billed (tokens × the declared price, sent as ``usage.cost``) when it is sent, whether or
    not the caller reads it to the end; ``GET /bench/billed`` lists them."""
    from tests.fakes.openai_server import OpenAIServer, Reply, ToolCallReply

    delay_s = token_delay_ms / 1000
    answer = " ".join(f"word{index}" for index in range(ANSWER_WORDS))

    class BenchModel(OpenAIServer):
        def __init__(self) -> None:
            self.billing: list[tuple[float, str, float]] = []
            self.request_count = 0
            super().__init__()
            # socketserver listens with a backlog of 5; hundreds of runs connect at once.
            self._httpd.socket.listen(1024)
            self.script(self.reply)

        def _record(self, body: dict[str, Any], headers: dict[str, str]) -> None:
            with self.arrived:  # counted, not kept: a soak sends tens of thousands
                self.request_count += 1

        def reply(self, body: dict[str, Any]) -> Reply:
            if "tools" not in body:  # the hashtags tool's own call
                kind, prompt, completion = "tool", 300, 30
                reply = Reply(
                    text='{"hashtags": ["espressoathome", "homebarista", "latteart"]}',
                    chunk_delay_s=delay_s,
                )
            elif not _tool_results_since_the_question(body.get("messages", [])):
                kind, prompt, completion = "plan", 900, 20
                reply = Reply(
                    tool_calls=[ToolCallReply(name="hashtags", arguments={"topic": "espresso"})],
                    chunk_delay_s=delay_s,
                )
            else:
                kind, prompt, completion = "answer", 1400, ANSWER_WORDS + 10
                reply = Reply(text=answer, chunk_delay_s=delay_s)
            reply.prompt_tokens, reply.completion_tokens = prompt, completion
            reply.cost = _priced(prompt, completion)
            with self._lock:
                self.billing.append((time.time(), kind, reply.cost))
            return reply

        def _handler_class(self) -> type:
            base: Any = super()._handler_class()
            server = self

            class Handler(base):
                def do_GET(self) -> None:
                    if self.path.startswith("/bench/billed"):
                        with server._lock:
                            billed = list(server.billing)
                        total = getattr(type(server), "billed_total_usd", None)
                        self._send_json(
                            200,
                            {
                                "billed": billed,
                                "requests": server.request_count,
                                # The fake's own bill, where it keeps one.
                                "server_billed_total_usd": (
                                    str(server.billed_total_usd) if total is not None else None
                                ),
                            },
                        )
                    else:
                        super().do_GET()

            return Handler

    server = BenchModel().start()
    Path(url_file).write_text(server.base_url)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    server.stop()


class ScriptedModel:
    """``serve_scripted_model`` in a child process."""

    def __init__(self, root: Path, *, token_delay_ms: int, env: dict[str, str]) -> None:
        url_file = root / "model-url"
        code = (
            "import sys; sys.path.insert(0, sys.argv[1]);"
            "from tests.bench._harness import serve_scripted_model;"
            "serve_scripted_model(sys.argv[2], int(sys.argv[3]))"
        )
        self.process = start_process(
            [sys.executable, "-c", code, str(REPO), str(url_file), str(token_delay_ms)],
            env=env,
            log=root / "model.log",
        )
        deadline = time.monotonic() + 30
        while not url_file.exists() or not url_file.read_text():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"the scripted model did not start; see {root / 'model.log'}")
            time.sleep(0.1)
        self.base_url = url_file.read_text()

    def billed(self) -> dict[str, Any]:
        root = self.base_url.removesuffix("/v1")
        return dict(httpx.get(root + "/bench/billed", timeout=30).json())

    def stop(self) -> None:
        stop_process(self.process, timeout_s=10)


# -- connection-pool statistics of the service's processes ------------------------------

POOL_STATS_ENV = "BENCH_POOL_STATS_DIR"


def pool_stats_env(directory: Path) -> dict[str, str]:
    """Environment for the service's processes so that each writes its psycopg pools'
    ``get_stats()`` to ``directory/<role>-<pid>.json`` once a second."""
    site = directory / "site"
    site.mkdir(parents=True, exist_ok=True)
    (site / "sitecustomize.py").write_text(
        "from tests.bench._harness import start_pool_stats\nstart_pool_stats()\n"
    )
    path = os.pathsep.join(filter(None, [str(site), str(REPO), os.environ.get("PYTHONPATH")]))
    return {"PYTHONPATH": path, POOL_STATS_ENV: str(directory)}


# ``PoolTimeout``s by pool (``id``): psycopg's ``requests_errors`` also counts a request
# cancelled while it waited (a run cancelled at a worker's shutdown), which is no timeout.
_pool_timeouts: dict[int, int] = {}


def start_pool_stats() -> None:
    """In a service process (from ``sitecustomize``): the stats thread, if asked for."""
    directory = os.environ.get(POOL_STATS_ENV)
    if directory:
        _count_pool_timeouts()
        threading.Thread(
            target=_pool_stats_loop, args=(Path(directory),), daemon=True, name="bench-pool-stats"
        ).start()


def _count_pool_timeouts() -> None:
    import psycopg_pool

    sync_getconn = psycopg_pool.ConnectionPool.getconn
    async_getconn = psycopg_pool.AsyncConnectionPool.getconn

    def getconn(self: Any, timeout: float | None = None) -> Any:
        try:
            return sync_getconn(self, timeout)
        except psycopg_pool.PoolTimeout:
            _pool_timeouts[id(self)] = _pool_timeouts.get(id(self), 0) + 1
            raise

    async def agetconn(self: Any, timeout: float | None = None) -> Any:
        try:
            return await async_getconn(self, timeout)
        except psycopg_pool.PoolTimeout:
            _pool_timeouts[id(self)] = _pool_timeouts.get(id(self), 0) + 1
            raise

    psycopg_pool.ConnectionPool.getconn = getconn  # type: ignore[method-assign]
    psycopg_pool.AsyncConnectionPool.getconn = agetconn  # type: ignore[method-assign]


def _stats_of(pool: Any) -> dict[str, int]:
    return {**pool.get_stats(), "requests_timeouts": _pool_timeouts.get(id(pool), 0)}


def _process_role() -> str:
    argv = sys.argv
    if "-Q" in argv[:-1]:
        return "worker-" + argv[argv.index("-Q") + 1]
    for word in ("web", "up", "beat", "worker"):
        if word in argv:
            return word
    return "python"


def _pool_stats_loop(directory: Path) -> None:
    path: Path | None = None
    while True:
        time.sleep(1)
        try:
            pools: dict[str, dict[str, int]] = {}
            base = sys.modules.get("django.db.backends.postgresql.base")
            if base is not None:
                for alias, pool in list(base.DatabaseWrapper._connection_pools.items()):
                    pools[f"django:{alias}"] = _stats_of(pool)
            checkpoints = sys.modules.get("backend.runs.checkpoints")
            for index, pool in enumerate(list(getattr(checkpoints, "_process_pools", {}).values())):
                pools[f"checkpoints:{index}"] = _stats_of(pool)
            if not pools:
                continue
            if path is None:
                path = directory / f"{_process_role()}-{os.getpid()}.json"
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"t": time.time(), "pid": os.getpid(), "pools": pools}))
            tmp.replace(path)
        except Exception:  # never disturb the process measured
            continue


def read_pool_stats(directory: Path) -> dict[str, dict[str, Any]]:
    """The latest stats file of every process, by file name (``<role>-<pid>``)."""
    found = {}
    for path in directory.glob("*.json"):
        try:
            found[path.stem] = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
    return found


# -- client side ------------------------------------------------------------------------


class MintFailed(Exception):
    pass


async def mint(client: httpx.AsyncClient) -> str:
    response = await client.post("/api/clients/")
    if response.status_code != 201:
        raise MintFailed(f"mint {response.status_code}: {response.text[:80]}")
    return str(response.json()["token"])


async def sse_events(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """The events of an SSE response: ``{"id", "event", "data"}`` (``data`` parsed as JSON
    when it is JSON); comments (``: ping``) are skipped."""
    event: dict[str, Any] = {}
    data: list[str] = []
    async for line in response.aiter_lines():
        if not line:
            if data or event:
                text = "\n".join(data)
                try:
                    event["data"] = json.loads(text)
                except ValueError:
                    event["data"] = text
                yield event
            event, data = {}, []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "data":
            data.append(value)
        elif field in ("id", "event"):
            event[field] = value
