"""`insightstream` — start the service, its workers, or run Django management commands.

insightstream up        everything on one machine: migrations, API (ASGI), task execution,
                        periodic jobs and the chat UI. Embedded default with no settings;
                        with REDIS_URL it also starts a Celery worker and beat.
insightstream web       the ASGI server only (production web service)
insightstream worker    Celery workers, one pool per queue (production)
insightstream beat      Celery beat (production)
insightstream manage …  any Django management command
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

DEFAULT_SETTINGS = "backend.config.settings.local"
WORKER_POOL_ARGS = ["--pool=threads", "--concurrency=16"]
# The queues `insightstream worker` (and `up` with REDIS_URL) serve, one pool each.
DEFAULT_QUEUES = "default,long,outbound"
OUTBOUND_CONCURRENCY = 4
# `--run-processes auto` starts one run process per usable core, at most this many: each
# process has a connection pool of its own (DB_POOL_MAX_SIZE), and the sum over every
# process must stay under the PostgreSQL server's max_connections.
RUN_PROCESSES_AUTO_MAX = 4
# `--run-nice`: the run processes' niceness (0-19).
RUN_NICE_DEFAULT = 5


def usable_cores(cpu_max: Path = Path("/sys/fs/cgroup/cpu.max")) -> int:
    """The cores this process may run on: its CPU affinity, within the cgroup v2 CPU quota
    (a container's share) when one is set."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    try:
        quota, period = cpu_max.read_text().split()[:2]
        if quota != "max":
            cores = min(cores, int(quota) // int(period))
    except (OSError, ValueError):
        pass
    return max(1, cores)


def run_processes_arg(value: str) -> int:
    """``--run-processes``: a count of at least 1, or ``auto``."""
    if value.strip().lower() == "auto":
        return min(usable_cores(), RUN_PROCESSES_AUTO_MAX)
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(
            f"expected a whole number of at least 1 or auto, got {value!r}"
        )
    return count


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", DEFAULT_SETTINGS)
    import django

    django.setup()


def _check_settings() -> None:
    """Load the settings module before handing over to Celery, so a missing secret
    (``SECRET_KEY`` with services configured, say) stops the command with its message."""
    import importlib

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", DEFAULT_SETTINGS)
    importlib.import_module(os.environ["DJANGO_SETTINGS_MODULE"])


def _prepare(*, quiet: bool = True) -> None:
    from django.conf import settings
    from django.core.management import call_command

    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    call_command("migrate", interactive=False, verbosity=0 if quiet else 1)
    call_command("collectstatic", interactive=False, verbosity=0)


def _serve(*, host: str, port: int, embedded_jobs: bool) -> None:
    import uvicorn
    from django.conf import settings

    from backend.core import task_runner

    if embedded_jobs and not task_runner.uses_celery():
        from backend.runs.lease import runs_release_all_leases

        # Runs a restart interrupted are resumed by the reaper's first tick, right away.
        runs_release_all_leases()
        task_runner.start_embedded_scheduler()
    print(f"InsightStream is running at http://{host}:{port}/", flush=True)
    uvicorn.run(
        "backend.config.asgi:application",
        host=host,
        port=port,
        lifespan="off",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=settings.ENV.GRACEFUL_SHUTDOWN_TIMEOUT_S,
        timeout_keep_alive=settings.ENV.HTTP_KEEP_ALIVE_S,
    )
    task_runner.shutdown(wait=False)


def _celery(args: Sequence[str]) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "backend.config.celery_app", *args]


def _build_frontend() -> None:
    from backend.core.frontend_build import ensure_built

    frontend = Path(__file__).resolve().parents[1] / "frontend"
    try:
        ensure_built(frontend, say=lambda line: print(line, flush=True))
    except subprocess.CalledProcessError as exc:
        print(f"Building the chat UI failed ({exc}); serving the API only.", flush=True)


def cmd_up(opts: argparse.Namespace) -> int:
    if os.environ.get("DJANGO_SETTINGS_MODULE", DEFAULT_SETTINGS) == DEFAULT_SETTINGS:
        from backend.config.env import get_settings
        from backend.config.secret_key import local_secret_key

        local_secret_key(get_settings())  # no SECRET_KEY with services: stop before building
    # Before Django starts: settings decide at import whether there is an export to serve.
    if not opts.skip_frontend_build:
        _build_frontend()
    _setup_django()
    from django.conf import settings

    from backend.core import task_runner

    _prepare()
    supervisor = None
    if task_runner.uses_celery() and not opts.web_only:
        import threading

        from backend.core.supervisor import Supervisor

        schedule_file = str(settings.DATA_DIR / "celerybeat-schedule")
        commands = worker_commands(
            queues=DEFAULT_QUEUES,
            pool="threads",
            concurrency=16,
            long_concurrency=8,
            outbound_concurrency=OUTBOUND_CONCURRENCY,
            run_nice=int(os.environ.get("RUN_NICE") or RUN_NICE_DEFAULT),
        )
        commands.append(_celery(["beat", "--loglevel=INFO", "-s", schedule_file]))
        supervisor = Supervisor(commands)
        supervisor.start()
        threading.Thread(target=supervisor.watch, name="supervisor", daemon=True).start()
    try:
        _serve(
            host=opts.host or settings.ENV.HOST,
            port=opts.port or settings.ENV.PORT,
            embedded_jobs=True,
        )
    finally:
        if supervisor is not None:
            supervisor.stop(signal.SIGTERM, timeout_s=30)
    return 0


def cmd_web(opts: argparse.Namespace) -> int:
    _setup_django()
    from django.conf import settings

    if opts.migrate:
        _prepare()
    _serve(
        host=opts.host or settings.ENV.HOST, port=opts.port or settings.ENV.PORT, embedded_jobs=True
    )
    return 0


def worker_commands(
    *,
    queues: str,
    pool: str,
    concurrency: int,
    long_concurrency: int,
    outbound_concurrency: int = 4,
    run_processes: int = 1,
    run_nice: int = 0,
) -> list[list[str]]:
    """One Celery worker (its own pool) per queue. Runs on ``default`` wait for their long
    tool calls on ``long``; were both queues served by one pool, runs could fill every slot
    while the tool tasks they wait for sit behind them (see backend/chat/tool_calls.py)."""
    commands = []
    for queue in [name.strip() for name in queues.split(",") if name.strip()]:
        slots = {"long": long_concurrency, "outbound": outbound_concurrency}.get(queue, concurrency)
        # Runs (default) are tasks on one loop per process, so one process uses one core
        # at most; ``run_processes`` copies of it share the queue.
        copies = run_processes if queue == "default" else 1
        # Runs are background work: on a machine the web shares, its requests go first.
        nice = ["nice", "-n", str(run_nice)] if queue == "default" and run_nice > 0 else []
        if nice and shutil.which("nice") is None:
            nice = []  # pragma: no cover - every POSIX system has nice
        for number in range(copies):
            name = queue if copies == 1 else f"{queue}{number + 1}"
            commands.append(
                nice
                + _celery(
                    [
                        "worker",
                        "--loglevel=INFO",
                        "-Q",
                        queue,
                        f"--pool={pool}",
                        f"--concurrency={slots}",
                        f"--hostname={name}@%h",
                    ]
                )
            )
    return commands


def _supervise(commands: list[list[str]]) -> int:
    """Run the worker processes side by side and keep them running: one that exits by
    itself (kombu gives up on a broker reconnect) is started again after a backoff; a
    SIGTERM or SIGINT goes to all of them and ends the supervision."""
    import logging

    from backend.core.supervisor import Supervisor

    logging.basicConfig(
        level=logging.INFO, format="[%(asctime)s: %(levelname)s/supervisor] %(message)s"
    )
    supervisor = Supervisor(commands)
    received: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        received.append(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    supervisor.start()
    while not received:
        supervisor.check()
        time.sleep(supervisor.poll_s)
    return supervisor.stop(received[0])


def cmd_worker(opts: argparse.Namespace) -> int:
    _check_settings()
    commands = worker_commands(
        queues=opts.queues,
        pool=opts.pool,
        concurrency=opts.concurrency,
        long_concurrency=opts.long_concurrency,
        outbound_concurrency=opts.outbound_concurrency,
        run_processes=opts.run_processes,
        run_nice=opts.run_nice,
    )
    return _supervise(commands)


def cmd_beat(opts: argparse.Namespace) -> int:
    _check_settings()
    os.execv(sys.executable, _celery(["beat", "--loglevel=INFO"]))
    return 0  # pragma: no cover


def cmd_manage(opts: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", DEFAULT_SETTINGS)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["insightstream manage", *opts.args])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="insightstream",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="start the whole service on this machine")
    up.add_argument("--host")
    up.add_argument("--port", type=int)
    up.add_argument("--web-only", action="store_true", help="with REDIS_URL: no worker/beat")
    up.add_argument(
        "--skip-frontend-build",
        action="store_true",
        help="serve the chat UI's existing build (if any) without checking it is current",
    )
    up.set_defaults(func=cmd_up)

    web = sub.add_parser("web", help="the ASGI server only")
    web.add_argument("--host")
    web.add_argument("--port", type=int)
    web.add_argument("--migrate", action="store_true", help="apply migrations first")
    web.set_defaults(func=cmd_web)

    worker = sub.add_parser("worker", help="Celery workers, one pool per queue")
    # Each queue gets its own worker process and pool: runs (default) wait for their long
    # tool calls (long), so the two must never compete for the same slots.
    # outbound: webhook deliveries and emails, whose targets may be slow; each attempt has
    # a deadline, and a few slots of their own keep them from ever taking a run's.
    worker.add_argument("--queues", default=DEFAULT_QUEUES)
    # Runs are asyncio work on one long-lived loop per process: a thread pool lets many
    # runs share it (measured: run.started p50 at 10 concurrent chats 225 ms with threads
    # vs 717 ms with 4 prefork processes; tests/bench/bench_chat_load.py). Runs enforce
    # their own deadline, so the prefork-only time limits are not needed.
    worker.add_argument("--pool", choices=["threads", "prefork"], default="threads")
    worker.add_argument("--concurrency", type=int, default=16, help="slots per queue but long")
    worker.add_argument("--long-concurrency", type=int, default=8, help="slots for long")
    worker.add_argument(
        "--outbound-concurrency",
        type=int,
        default=OUTBOUND_CONCURRENCY,
        help="slots for outbound",
    )
    worker.add_argument(
        "--run-processes",
        type=run_processes_arg,
        default=os.environ.get("RUN_PROCESSES") or "auto",
        help=(
            "worker processes for runs (default queue), one core each at most; each holds "
            "RUN_MAX_IN_FLIGHT runs (default auto: one per usable core, "
            f"{RUN_PROCESSES_AUTO_MAX} at most)"
        ),
    )
    worker.add_argument(
        "--run-nice",
        type=int,
        choices=range(20),
        metavar="0-19",
        default=int(os.environ.get("RUN_NICE") or RUN_NICE_DEFAULT),
        help=(
            "scheduling niceness of the run processes, so that on a machine they share the "
            f"web's requests go first (default {RUN_NICE_DEFAULT}; 0: as the web)"
        ),
    )
    worker.set_defaults(func=cmd_worker)

    beat = sub.add_parser("beat", help="Celery beat")
    beat.set_defaults(func=cmd_beat)

    manage = sub.add_parser("manage", help="a Django management command")
    manage.add_argument("args", nargs=argparse.REMAINDER)
    manage.set_defaults(func=cmd_manage)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from backend.config.env import SettingsError

    opts = build_parser().parse_args(argv)
    try:
        result: int = opts.func(opts)
    except SettingsError as exc:
        # A setting is missing or wrong: say which, without a traceback.
        print(f"insightstream: {exc}", file=sys.stderr, flush=True)
        return 2
    return result


if __name__ == "__main__":
    raise SystemExit(main())
