"""S3 for tests: moto's server mode in a subprocess, and a peer that never answers.

``MotoS3Server`` runs ``python -m moto.server`` on a free local port: a real HTTP server
speaking S3's REST API (path-style buckets, SigV4, presigned GETs), so boto3 and
django-storages run unchanged against it. Nothing is mocked in the test process. What it
checks, as moto 5 does in server mode: an unsigned GET of a private object is refused
(403, from the object's ACL), a presigned one is served; it does **not** verify presigned
signatures or their expiry (its IAM mode, ``INITIAL_NO_AUTH_ACTION_COUNT``, fails on
query-string auth), so tests read ``X-Amz-Expires`` instead.

``HungServer`` accepts connections, reads the request and never replies: an S3 endpoint
that hangs, for the client's timeouts.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ACCESS_KEY_ID = "moto-test-key"
SECRET_ACCESS_KEY = "moto-test-secret"  # moto accepts any
REGION = "us-east-1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MotoS3Server:
    def __init__(self) -> None:
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        # Its request log (a pipe nobody reads would fill and stall it), for a failed start.
        fd, log_path = tempfile.mkstemp(prefix="moto-server-", suffix=".log")
        os.close(fd)
        self._log_path = Path(log_path)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, timeout_s: float = 30.0) -> MotoS3Server:
        # The port is free when picked; another process may take it before moto binds, so
        # a server that exits at once is started again on another.
        for _ in range(3):
            self.port = _free_port()
            with self._log_path.open("wb") as log:
                self._process = subprocess.Popen(
                    [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    # Credentials and endpoints of the machine never reach it.
                    env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
                )
            if self._wait_ready(timeout_s):
                return self
            self._end()
        tail = self._log_path.read_bytes()[-2000:].decode(errors="replace")
        self._log_path.unlink(missing_ok=True)
        raise RuntimeError(f"moto's server did not start:\n{tail}")

    def _wait_ready(self, timeout_s: float) -> bool:
        assert self._process is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            try:
                if httpx.get(f"{self.url}/moto-api/", timeout=1).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        self._end()
        self._log_path.unlink(missing_ok=True)

    def _end(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def reset(self) -> None:
        """Every bucket and object gone (moto's own reset endpoint)."""
        httpx.post(f"{self.url}/moto-api/reset", timeout=10).raise_for_status()

    def client(self) -> Any:
        """A boto3 S3 client for the test's own look at the buckets."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def settings(self, bucket: str) -> dict[str, Any]:
        """The THUMBNAIL_S3_* settings that point the thumbnails storage at ``bucket``."""
        return {
            "THUMBNAIL_S3_BUCKET": bucket,
            "THUMBNAIL_S3_ENDPOINT_URL": self.url,
            "THUMBNAIL_S3_REGION": REGION,
            "THUMBNAIL_S3_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "THUMBNAIL_S3_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "THUMBNAIL_S3_ADDRESSING_STYLE": "path",
        }


class HungServer:
    """Accepts, reads the request, never answers; ``connections`` counts the attempts."""

    def __init__(self) -> None:
        self.connections = 0
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._stopped = threading.Event()
        self._open: list[socket.socket] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def start(self) -> HungServer:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._sock.close()
        for conn in self._open:
            conn.close()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            self._open.append(conn)  # held open, unanswered, until stop()
