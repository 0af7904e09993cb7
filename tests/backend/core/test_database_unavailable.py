"""PostgreSQL going away under a request (the soak's PostgreSQL restart: three 500s, from
``AdminShutdown`` in the message post and a stream's run lookup) is a 503
``SERVICE_UNAVAILABLE`` with ``Retry-After``; nothing such a request wrote was committed,
so sending it again is safe. A query's own failure is still unexpected."""

from __future__ import annotations

import socket

import psycopg
import pytest
from django.db import OperationalError, connections
from psycopg import errors as pg

from backend.core.errors import api_exception_handler, from_exception
from tests.backend.db_errors import as_django_raises


def _assert_503(exc: BaseException) -> None:
    error = from_exception(exc)
    assert error is not None, exc
    assert (error.status, error.code) == (503, "SERVICE_UNAVAILABLE")
    assert error.details["reason"] == "database_unavailable"
    response = api_exception_handler(exc, {})  # type: ignore[arg-type]
    assert response.status_code == 503
    assert int(response["Retry-After"]) >= 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_terminated_is_a_503():
    """The real error: a Django connection whose backend the server terminates (what a
    restart does to every connection), then a query on it."""
    conn = connections.create_connection("default")
    try:
        conn.ensure_connection()
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        with connections["default"].cursor() as other:
            other.execute("SELECT pg_terminate_backend(%s)", [pid])
        with pytest.raises(OperationalError) as caught, conn.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        conn.close()
    assert isinstance(caught.value.__cause__, pg.AdminShutdown)
    _assert_503(caught.value)


def test_a_refused_connection_is_a_503():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(psycopg.OperationalError) as caught:
        psycopg.connect(f"postgresql://nobody@127.0.0.1:{port}/x", connect_timeout=2)
    assert caught.value.sqlstate is None
    _assert_503(as_django_raises(caught.value))


def test_a_query_of_its_own_failing_is_still_unexpected():
    # A lock timeout is an OperationalError too, but the database is there: a 500 to look at.
    assert from_exception(as_django_raises(pg.LockNotAvailable("lock timeout"))) is None
    assert from_exception(OperationalError("server closed the connection")) is None
    response = api_exception_handler(RuntimeError("bug"), {})  # type: ignore[arg-type]
    assert response.status_code == 500
    assert response.data["error"]["code"] == "INTERNAL_ERROR"
