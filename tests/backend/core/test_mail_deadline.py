"""A mail server that answers a byte at a time: the send ends at its deadline (not when
the server is done), fails with a timeout, and the email task retries it as before."""

from __future__ import annotations

import pytest

from backend.accounts.tasks import send_email
from tests.fakes.drip_server import DripServer

GREETING = b"220 mail.example.test ESMTP ready\r\n"


@pytest.fixture
def dripping_smtp(settings):
    # One byte every 0.2 s: each read is far inside EMAIL_TIMEOUT, the greeting alone
    # takes 7 s, far beyond the test's 1 s deadline.
    server = DripServer(GREETING, interval_s=0.2, client_speaks_first=False).start()
    settings.EMAIL_BACKEND = "backend.core.mail.DeadlineSMTPBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 10
    settings.EMAIL_DEADLINE_S = 1
    yield server
    server.stop()


def test_email_timeout_is_set():
    from django.conf import settings

    assert settings.EMAIL_TIMEOUT == 10
    assert settings.EMAIL_DEADLINE_S == 30


def test_a_dripping_mail_server_fails_at_the_deadline_and_is_retried(dripping_smtp):
    result = send_email.apply(args=("someone@example.test", "Subject", "Body"))
    with pytest.raises(TimeoutError, match="did not finish within 1 s"):
        result.get()
    # The task's policy (autoretry on OSError, 5 retries): six attempts in all.
    assert len(dripping_smtp.connections) == 1 + send_email.max_retries
    for connection in dripping_smtp.connections:
        assert connection.done.wait(timeout=10)
        assert connection.hung_up and not connection.finished
