"""A slow peer: a TCP server that sends its reply one byte at a time.

Each byte arrives well inside any per-read timeout, so only a deadline on the whole
exchange ends it early. Works for protocols where the client speaks first (HTTP: the
request is read up to its blank line and its body, then the reply drips) and where the
server does (SMTP: the greeting drips at once). Every connection is recorded: how many
bytes went out, and whether the client hung up before the reply was complete.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass


@dataclass
class Connection:
    sent: int = 0
    finished: bool = False  # the whole reply went out
    hung_up: bool = False  # the client closed before that
    done: threading.Event | None = None

    def __post_init__(self) -> None:
        self.done = threading.Event()


class DripServer:
    def __init__(
        self, reply: bytes, *, interval_s: float = 0.5, client_speaks_first: bool = True
    ) -> None:
        self.reply = reply
        self.interval_s = interval_s
        self.client_speaks_first = client_speaks_first
        self.connections: list[Connection] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._stopped = threading.Event()

    @property
    def port(self) -> int:
        return int(self._sock.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}/hook"

    @property
    def drip_s(self) -> float:
        """How long the whole reply takes to drip."""
        return len(self.reply) * self.interval_s

    def start(self) -> DripServer:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._sock.close()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            record = Connection()
            self.connections.append(record)
            threading.Thread(target=self._serve, args=(conn, record), daemon=True).start()

    def _serve(self, conn: socket.socket, record: Connection) -> None:
        with conn:
            try:
                if self.client_speaks_first:
                    _read_request(conn)
                for byte in self.reply:
                    conn.sendall(bytes([byte]))
                    record.sent += 1
                    time.sleep(self.interval_s)
                    if _closed_by_peer(conn):
                        record.hung_up = True
                        break
                else:
                    record.finished = True
            except OSError:
                record.hung_up = True
            finally:
                assert record.done is not None
                record.done.set()


def _read_request(conn: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return
        body += chunk


def _closed_by_peer(conn: socket.socket) -> bool:
    conn.setblocking(False)
    try:
        return conn.recv(1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        conn.setblocking(True)
