"""SMTP with a deadline on each whole send.

Django's ``EMAIL_TIMEOUT`` bounds each network wait, so a server that answers a byte at a
time never trips it and holds the sending worker for as long as it likes. Here a timer
shuts the connection's socket down once ``EMAIL_DEADLINE_S`` has passed since the send
began (the blocked read then ends at once), and the send fails with ``TimeoutError``, an
``OSError`` like every other SMTP failure, so the email task's retry policy applies.
"""

from __future__ import annotations

import smtplib
import socket
import threading
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.mail.backends.smtp import EmailBackend
from django.core.mail.message import EmailMessage


class _Deadline:
    """Shuts down the sockets it watches when it expires."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def start(self) -> None:
        self._timer.start()

    def cancel(self) -> None:
        self._timer.cancel()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            expired = self.expired
        if expired:
            _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket | None) -> None:
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed, or detached into the TLS socket (watched as well)


class DeadlineSMTPBackend(EmailBackend):
    def __init__(self, *args: Any, deadline_s: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deadline_s = settings.EMAIL_DEADLINE_S if deadline_s is None else deadline_s
        self._deadline: _Deadline | None = None

    @property
    def connection_class(self) -> type[smtplib.SMTP]:
        backend = self
        base = smtplib.SMTP_SSL if self.use_ssl else smtplib.SMTP

        class WatchedSMTP(base):  # type: ignore[valid-type,misc]
            """Hands its socket to the deadline as soon as it connects, before the
            server's greeting is read."""

            def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
                sock: socket.socket = super()._get_socket(host, port, timeout)
                if backend._deadline is not None:
                    backend._deadline.watch(sock)
                return sock

            def starttls(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
                reply: tuple[int, bytes] = super().starttls(*args, **kwargs)
                if backend._deadline is not None:  # the TLS socket replaced the plain one
                    backend._deadline.watch(self.sock)
                return reply

        return WatchedSMTP

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        deadline = _Deadline(self.deadline_s)
        self._deadline = deadline
        deadline.start()
        try:
            sent: int = super().send_messages(email_messages)
        except OSError as exc:
            if deadline.expired:
                raise TimeoutError(
                    f"the mail server did not finish within {deadline.seconds:g} s"
                ) from exc
            raise
        finally:
            deadline.cancel()
            self._deadline = None
        return sent
