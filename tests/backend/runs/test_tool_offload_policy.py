"""Which tool calls leave the run, and how `insightstream worker` lays out the queues."""

from __future__ import annotations

import argparse
import os
from decimal import Decimal

import pytest

from agents.guard import ModelPrice
from backend.chat.tool_calls import offloads, tool_task_id
from backend.cli import worker_commands

REAL = ModelPrice(model_id="x/y", input_per_token=Decimal("1e-6"), output_per_token=Decimal(0))
OFFLINE = ModelPrice(
    model_id="offline", input_per_token=Decimal(0), output_per_token=Decimal(0), offline=True
)


@pytest.mark.parametrize(
    ("runner", "mode", "tool", "price", "expected"),
    [
        ("celery", "auto", "hashtags", REAL, True),
        ("celery", "auto", "hashtags", OFFLINE, False),  # a round trip for microseconds
        ("celery", "always", "hashtags", OFFLINE, True),
        ("celery", "always", "upload_streak", REAL, False),  # fast tools stay inline
        ("celery", "never", "content_ideas", REAL, False),
        ("thread", "always", "content_ideas", REAL, False),  # embedded: always inline
    ],
)
def test_which_calls_are_offloaded(settings, env, runner, mode, tool, price, expected):
    settings.TASK_RUNNER = runner
    env(TOOL_OFFLOAD=mode)
    assert offloads(tool_name=tool, price=price) is expected


def test_task_id_is_stable_per_run_and_call():
    run = "5f0c6a52-2f7c-4d1e-9a55-3a1b1c1d1e1f"
    assert tool_task_id(run_id=run, call_id="call_1") == tool_task_id(run_id=run, call_id="call_1")
    assert tool_task_id(run_id=run, call_id="call_1") != tool_task_id(run_id=run, call_id="call_2")


def test_worker_gives_each_queue_its_own_pool():
    commands = worker_commands(
        queues="default,long", pool="threads", concurrency=16, long_concurrency=8
    )
    assert len(commands) == 2
    by_queue = {command[command.index("-Q") + 1]: command for command in commands}
    assert set(by_queue) == {"default", "long"}
    assert "--concurrency=16" in by_queue["default"]
    assert "--concurrency=8" in by_queue["long"]
    assert "--hostname=long@%h" in by_queue["long"]
    [single] = worker_commands(queues="long", pool="threads", concurrency=16, long_concurrency=4)
    assert "--concurrency=4" in single


def test_run_processes_start_that_many_workers_on_the_run_queue_only():
    commands = worker_commands(
        queues="default,long", pool="threads", concurrency=16, long_concurrency=8, run_processes=3
    )
    queues = [command[command.index("-Q") + 1] for command in commands]
    assert queues == ["default", "default", "default", "long"]
    names = {arg for command in commands for arg in command if arg.startswith("--hostname=")}
    assert len(names) == 4  # Celery needs a distinct node name per process


def test_run_processes_auto_is_one_per_usable_core_within_the_cap(monkeypatch):
    from backend import cli

    monkeypatch.setattr(cli, "usable_cores", lambda: 2)
    assert cli.run_processes_arg("auto") == 2
    monkeypatch.setattr(cli, "usable_cores", lambda: 64)
    assert cli.run_processes_arg("AUTO") == cli.RUN_PROCESSES_AUTO_MAX
    assert cli.run_processes_arg("3") == 3


@pytest.mark.parametrize("value", ["0", "-1", "many", ""])
def test_run_processes_refuses_what_is_not_a_count(value):
    from backend import cli

    with pytest.raises(argparse.ArgumentTypeError, match="at least 1 or auto"):
        cli.run_processes_arg(value)


def test_usable_cores_keeps_within_a_containers_cpu_quota(tmp_path):
    from backend.cli import usable_cores

    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text("100000 100000\n")  # one CPU's worth
    assert usable_cores(cpu_max) == 1
    cpu_max.write_text("50000 100000\n")  # half a CPU still runs one process
    assert usable_cores(cpu_max) == 1
    cpu_max.write_text("max 100000\n")
    assert usable_cores(cpu_max) == len(os.sched_getaffinity(0))
    assert usable_cores(tmp_path / "absent") == len(os.sched_getaffinity(0))


def test_run_processes_are_started_nicer_than_the_web_and_the_other_queues_are_not():
    commands = worker_commands(
        queues="default,long,outbound",
        pool="threads",
        concurrency=16,
        long_concurrency=8,
        run_processes=2,
        run_nice=5,
    )
    by_queue = {command[command.index("-Q") + 1]: command for command in commands}
    runs = [command for command in commands if command[command.index("-Q") + 1] == "default"]
    assert len(runs) == 2 and all(command[:3] == ["nice", "-n", "5"] for command in runs)
    assert by_queue["long"][0] != "nice" and by_queue["outbound"][0] != "nice"
    [plain] = worker_commands(
        queues="default", pool="threads", concurrency=16, long_concurrency=8, run_nice=0
    )
    assert plain[0] != "nice"
