"""Test infrastructure: a PostgreSQL server for the session, a fresh database per test.

Which server: ``SWITCHBOARD_TEST_DATABASE_URL`` when given (CI sets it to the machine's
PostgreSQL); otherwise an embedded one from pgserver, so ``make test`` passes on a laptop.
Under ``CI=true`` a missing or unreachable server fails the run instead of skipping.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """A maintenance URL for a server on which tests may create databases."""
    url = os.environ.get("SWITCHBOARD_TEST_DATABASE_URL")
    if url:
        try:
            with psycopg.connect(url, connect_timeout=5) as conn:
                conn.execute("SELECT 1")
        except psycopg.OperationalError as error:
            pytest.fail(f"PostgreSQL at SWITCHBOARD_TEST_DATABASE_URL is unreachable: {error}")
        yield url
        return
    if IN_CI:
        pytest.fail("CI=true but SWITCHBOARD_TEST_DATABASE_URL is not set")
    from infrastructure.database import EmbeddedPostgres

    with tempfile.TemporaryDirectory(prefix="switchboard-test-") as data_dir:
        embedded = EmbeddedPostgres(Path(data_dir))
        database = embedded.start()
        try:
            yield database.url
        finally:
            embedded.stop()


def database_url_for(server_url: str, dbname: str) -> str:
    params = conninfo_to_dict(server_url)
    params["dbname"] = dbname
    return make_conninfo(**params)


@contextmanager
def scratch_database(server_url: str, prefix: str = "sb_test") -> Iterator[str]:
    """A new, empty database on the server; dropped (connections and all) on exit."""
    dbname = f"{prefix}_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
    try:
        yield database_url_for(server_url, dbname)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


@pytest.fixture
def database_url(pg_server_url: str) -> Iterator[str]:
    """A database of this test's own, dropped afterwards."""
    with scratch_database(pg_server_url) as url:
        yield url


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The modules holding ``slow`` tests first (each in its collection order): run in
    parallel, a long module started last would leave the other processes idle at the end."""
    slow_modules = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_modules)
