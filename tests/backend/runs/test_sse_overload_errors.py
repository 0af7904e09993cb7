"""A database pool that gave no connection in time is a 503 ``SERVICE_OVERLOADED`` with
``Retry-After`` wherever it surfaces, never a 500 (the end-to-end case, on a real server,
is in test_sse_under_load.py)."""

from __future__ import annotations

import json

from django.db import OperationalError
from psycopg_pool import PoolTimeout, TooManyRequests

from backend.core.errors import from_exception, server_error_view
from tests.backend.db_errors import as_django_raises


def test_pool_exhaustion_maps_to_503_with_retry_after():
    for driver_error in (
        PoolTimeout("couldn't get a connection after 5.00 sec"),
        TooManyRequests("the pool has already 10 requests waiting"),
    ):
        error = from_exception(as_django_raises(driver_error))
        assert error is not None
        assert (error.status, error.code) == (503, "SERVICE_OVERLOADED")
        assert int(error.headers()["Retry-After"]) >= 1
    # Any other database failure is still unexpected.
    assert from_exception(OperationalError("server closed the connection")) is None


def test_the_500_handler_answers_503_for_an_exhausted_pool(rf):
    # Raised in a middleware outside ErrorBodyMiddleware, Django calls handler500 while
    # handling the exception.
    try:
        raise as_django_raises(PoolTimeout("couldn't get a connection after 5.00 sec"))
    except OperationalError:
        response = server_error_view(rf.get("/api/clients/me/"))
    assert response.status_code == 503
    assert int(response["Retry-After"]) >= 1
    assert json.loads(response.content)["error"]["code"] == "SERVICE_OVERLOADED"

    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        response = server_error_view(rf.get("/api/clients/me/"))
    assert response.status_code == 500
    assert json.loads(response.content)["error"]["code"] == "INTERNAL_ERROR"
