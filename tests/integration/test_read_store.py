"""The read models' pool: no JIT compilation, for the embedded server's superuser and for an
ordinary role given by ``DATABASE_URL`` alike."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from infrastructure.database import Database


@pytest.fixture
def ordinary_role_url(database_url: str) -> Iterator[str]:
    """``database_url`` as a role that owns nothing and is no superuser."""
    role = f"sb_plain_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'plain'").format(sql.Identifier(role)))
    params = conninfo_to_dict(database_url)
    params.update(user=role, password="plain")
    try:
        yield make_conninfo(**params)
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def jit_of(database: Database) -> str:
    store = database.read_store("public", pool_size=1)
    try:
        with store.transaction() as curs:
            curs.execute("SHOW jit")
            return curs.fetchone()["jit"]
    finally:
        store.close()


def test_a_read_store_of_the_database_owner_runs_without_jit(database_url: str) -> None:
    assert jit_of(Database(database_url)) == "off"


def test_a_read_store_of_an_ordinary_role_runs_without_jit(ordinary_role_url: str) -> None:
    database = Database(ordinary_role_url)
    with database.connect() as conn:
        is_superuser = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        assert is_superuser.fetchone()[0] is False
    assert jit_of(database) == "off"
    # A role's own default in its database: the next process finds it set and sets nothing.
    assert database.turn_off_jit() is True
    with database.connect() as conn:
        assert conn.execute("SHOW jit").fetchone()[0] == "off"
