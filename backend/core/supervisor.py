"""Keep a set of worker processes running: one that exits on its own is started again.

A Celery worker can stop by itself — kombu gives up on a broker reconnect it cannot finish
("Unrecoverable error") and the worker makes a warm shutdown — and nothing else on a
laptop or a plain VM starts it again, so the runs it gave back would wait forever. The
supervisor restarts such a child after a delay that doubles while the child keeps failing
quickly (1 s, 2 s, 4 s … at most ``max_backoff_s``) and starts from the bottom again once
a child has stayed up ``healthy_after_s``. A signal sent to the supervisor goes to every
child and ends the supervision; then nothing is restarted.
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)


@dataclass
class _Child:
    command: list[str]
    process: subprocess.Popen[bytes]
    started_at: float
    restart_at: float | None = None
    failures: int = 0
    restarts: int = 0


@dataclass
class Supervisor:
    commands: Sequence[Sequence[str]]
    backoff_s: float = 1.0
    max_backoff_s: float = 30.0
    healthy_after_s: float = 60.0
    poll_s: float = 0.25
    _children: list[_Child] = field(default_factory=list, init=False)
    _stopping: threading.Event = field(default_factory=threading.Event, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def start(self) -> None:
        with self._lock:
            for command in self.commands:
                process = subprocess.Popen(list(command))
                self._children.append(_Child(list(command), process, time.monotonic()))

    def _launch(self, child: _Child) -> None:
        child.process = subprocess.Popen(child.command)
        child.started_at = time.monotonic()
        child.restart_at = None

    @property
    def restarts(self) -> int:
        return sum(child.restarts for child in self._children)

    def watch(self) -> None:
        """Poll the children until ``stop``; restart the ones that exited by themselves."""
        while not self._stopping.is_set():
            self.check()
            self._stopping.wait(self.poll_s)

    def check(self) -> None:
        now = time.monotonic()
        with self._lock:
            if self._stopping.is_set():
                return
            for child in self._children:
                if child.restart_at is not None:
                    if now >= child.restart_at:
                        child.restarts += 1
                        logger.warning("supervisor: starting %s again", _name(child.command))
                        self._launch(child)
                    continue
                if child.process.poll() is None:
                    continue
                uptime = now - child.started_at
                child.failures = 0 if uptime >= self.healthy_after_s else child.failures + 1
                delay = min(self.max_backoff_s, self.backoff_s * (2 ** max(0, child.failures - 1)))
                child.restart_at = now + delay
                logger.error(
                    "supervisor: %s exited with code %s after %.1f s; restarting in %.1f s",
                    _name(child.command),
                    child.process.returncode,
                    uptime,
                    delay,
                )

    def stop(self, signum: int, *, timeout_s: float | None = None) -> int:
        """Send ``signum`` to every running child, stop restarting, wait for them; the first
        non-zero exit code (0 when all ended cleanly)."""
        with self._lock:
            self._stopping.set()
            running = [c.process for c in self._children if c.process.poll() is None]
            for process in running:
                process.send_signal(signum)
        code = 0
        for process in running:
            try:
                result = process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                result = process.wait()
            code = code or (result or 0)
        return code


def _name(command: Sequence[str]) -> str:
    for part in command:
        if part.startswith("--hostname="):
            return part.removeprefix("--hostname=").split("@")[0]
    return " ".join(command[-3:])
