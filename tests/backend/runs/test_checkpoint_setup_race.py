"""Several processes creating the checkpoint tables on a fresh PostgreSQL database at once.

LangGraph's ``setup()`` is not safe to run concurrently: on a fresh database the first
runs of two workers failed (a duplicate key on its migrations table, or a deadlock). The
backend runs it under an advisory lock, and ``migrate`` creates the tables up front.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from django.db import connection

from backend.runs import checkpoints

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def fresh_dsn():
    """A new, empty database on the test server (dropped afterwards)."""
    base = checkpoints.postgres_dsn()
    assert base
    name = f"cp_race_{uuid.uuid4().hex[:10]}"
    admin = base.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_concurrent_setups_on_a_fresh_database_all_succeed(fresh_dsn):
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: checkpoints.setup_postgres_sync(fresh_dsn), range(8)))
    assert results == [None] * 8
    with psycopg.connect(fresh_dsn) as conn:
        versions = conn.execute("SELECT count(*) FROM checkpoint_migrations").fetchone()
    assert versions and versions[0] > 0


def test_migrate_created_the_checkpoint_tables():
    # The test database was made by migrate: the tables are there before any run.
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('checkpoints'), to_regclass('checkpoint_writes')")
        assert all(cursor.fetchone())
