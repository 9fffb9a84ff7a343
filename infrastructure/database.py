"""Where the PostgreSQL comes from: ``DATABASE_URL``, or an embedded server from pgserver."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from eventsourcing.postgres import PostgresDatastore
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from infrastructure.recorder import TOPICS, RecorderChoice

log = logging.getLogger(__name__)

# Taken while creating tables, so that processes starting together do not race on DDL.
SCHEMA_LOCK_KEY = 0x5B0A_0001


@dataclass(frozen=True)
class Database:
    """Connection parameters, in the forms psycopg and the eventsourcing library want."""

    url: str

    @property
    def params(self) -> dict[str, str]:
        return {k: str(v) for k, v in conninfo_to_dict(self.url).items()}

    def eventsourcing_env(
        self, *, pool_size: int, recorder: RecorderChoice = "grouped"
    ) -> dict[str, str]:
        """The library's settings for the event store; ``recorder`` chooses who appends
        (``infrastructure.recorder``). Never ``POSTGRES_ENABLE_DB_FUNCTIONS``: its function
        appends without the table lock, and a tailing reader then skips events."""
        p = self.params
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": p.get("dbname", "postgres"),
            "POSTGRES_HOST": p.get("host", "127.0.0.1"),
            "POSTGRES_PORT": p.get("port", "5432"),
            "POSTGRES_USER": p.get("user", "postgres"),
            "POSTGRES_PASSWORD": p.get("password", ""),
            "POSTGRES_POOL_SIZE": str(pool_size),
            "POSTGRES_MAX_OVERFLOW": str(pool_size),
            # Also how long a command waits for a pooled connection; the library retries a
            # failed one 10 times, so a command caught by an outage answers within ~25 s.
            "POSTGRES_CONNECT_TIMEOUT": "2",
            # No round trip to check each connection taken from the pool (a fifth of a
            # handoff's time): a connection broken by a database restart fails its statement,
            # the library retries on another, and the pool drops the broken one.
            "POSTGRES_PRE_PING": "n",
            # Appends hold an exclusive table lock: waiting for it longer than this is an error.
            "POSTGRES_LOCK_TIMEOUT": "10",
            "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "30",
        }
        topic = TOPICS[recorder]
        if topic is not None:
            env["APPLICATION_RECORDER_TOPIC"] = topic
        return env

    def connect(self, **kwargs) -> psycopg.Connection:
        return psycopg.connect(self.url, connect_timeout=5, **kwargs)

    def read_store(self, schema: str, *, pool_size: int) -> PostgresDatastore:
        """A pool on the read models' side of the database, its tables in ``schema``."""
        self.turn_off_jit()
        p = self.params
        return PostgresDatastore(
            dbname=p.get("dbname", "postgres"),
            host=p.get("host", "127.0.0.1"),
            port=p.get("port", "5432"),
            user=p.get("user", "postgres"),
            password=p.get("password", ""),
            pool_size=pool_size,
            max_overflow=pool_size,
            schema=schema,
            pre_ping=False,  # as for the event store: see eventsourcing_env
        )

    def turn_off_jit(self) -> bool:
        """No JIT compilation for this role's sessions in this database, from the next one on.

        Every read-model query is a short index-driven one, but a plan whose estimated cost
        passes jit_above_cost (a page of full-text hits with a headline each, at a million
        chats) spent ~180 ms compiling for a query that runs in 1 ms. A role's default in
        its database costs no round trip per connection or transaction, and any role may
        set its own; where the server refuses, it is logged and queries may be compiled.
        """
        with self.connect(autocommit=True) as conn:
            if conn.execute("SELECT current_setting('jit')").fetchone()[0] == "off":
                return True
            dbname = conn.execute("SELECT current_database()").fetchone()[0]
            try:
                conn.execute(
                    sql.SQL("ALTER ROLE CURRENT_USER IN DATABASE {} SET jit = off").format(
                        sql.Identifier(dbname)
                    )
                )
            except psycopg.Error as error:
                log.warning(
                    "cannot turn JIT off for this role in database %s (%s): run "
                    "ALTER ROLE ... IN DATABASE ... SET jit = off as its owner",
                    dbname,
                    error,
                )
                return False
        return True


@contextmanager
def schema_lock(database: Database) -> Iterator[None]:
    """Serialise table creation across processes with a session advisory lock."""
    with database.connect(autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK_KEY,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK_KEY,))


class EmbeddedPostgres:
    """A private PostgreSQL from the pgserver wheel, its data under ``data_dir/pgdata``.

    Started on first use, reused when already running (a second process shares it), and
    stopped when the last process using it exits. ``settings`` (memory, by PostgreSQL's
    names) go into a file of ours that the server's configuration includes: the first start
    of a new data directory restarts the server once so that all of them apply; a server
    already running takes the reloadable ones at once and the rest at its next start.
    """

    CONF = "switchboard.conf"

    def __init__(self, data_dir: Path, settings: Mapping[str, str] | None = None) -> None:
        self.pgdata = (data_dir / "pgdata").resolve()
        self.settings = dict(settings or {})
        self._server = None

    def start(self) -> Database:
        import pgserver  # imported here: only the embedded mode needs it

        self.pgdata.mkdir(parents=True, exist_ok=True)
        log.info("starting embedded PostgreSQL in %s", self.pgdata)
        fresh = not (self.pgdata / "PG_VERSION").exists()
        if not fresh:
            self._write_settings()
        self._server = pgserver.get_server(self.pgdata, cleanup_mode="stop")
        database = Database(self._server.get_uri())
        if fresh and self.settings:
            self._write_settings()
            if self._apply(database):  # shared_buffers waits for a restart: do it now
                self._server.cleanup()
                self._server = pgserver.get_server(self.pgdata, cleanup_mode="stop")
                database = Database(self._server.get_uri())
        elif self.settings and self._apply(database):
            log.warning(
                "the embedded PostgreSQL was already running: some of its settings (%s) "
                "apply at its next start",
                ", ".join(self.settings),
            )
        return database

    def _write_settings(self) -> None:
        """Our settings in a file of their own, included by the server's configuration."""
        lines = [f"{name} = '{value}'\n" for name, value in self.settings.items()]
        (self.pgdata / self.CONF).write_text("".join(lines))
        conf = self.pgdata / "postgresql.conf"
        include = f"include_if_exists = '{self.CONF}'"
        text = conf.read_text()
        if include not in text:
            conf.write_text(f"{text.rstrip()}\n{include}\n")

    def _apply(self, database: Database) -> bool:
        """Reload the configuration; True when a setting waits for a restart."""
        with database.connect(autocommit=True) as conn:
            conn.execute("SELECT pg_reload_conf()")
            time.sleep(0.2)  # the postmaster signals its children; let them read it
            pending = conn.execute(
                "SELECT count(*) FROM pg_settings WHERE pending_restart AND name = ANY(%s)",
                (list(self.settings),),
            ).fetchone()[0]
        return bool(pending)

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
