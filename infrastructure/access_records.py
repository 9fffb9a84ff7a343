"""Access records in PostgreSQL, shared by every process: failed sign-ins (the throttle), when
each token was last used and last active, operators' heartbeats.

Plain tables beside the event store, not events: they are written on many requests, say
nothing an auditor needs, and losing them costs a few minutes of presence, nothing more. They
are not in the read models' schema, so rebuilding the read models leaves them alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore

FAILURES = "public.switchboard_sign_in_failures"
TOKENS = "public.switchboard_token_activity"
PRESENCE = "public.switchboard_presence"

DDL = (
    f"CREATE TABLE IF NOT EXISTS {FAILURES} (key text NOT NULL, at timestamptz NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS switchboard_sign_in_failures_key ON {FAILURES} (key, at)",
    f"CREATE INDEX IF NOT EXISTS switchboard_sign_in_failures_at ON {FAILURES} (at)",
    f"CREATE TABLE IF NOT EXISTS {TOKENS} (token_id uuid PRIMARY KEY, "
    "last_used_at timestamptz NOT NULL, last_active_at timestamptz)",
    f"CREATE TABLE IF NOT EXISTS {PRESENCE} (operator_id uuid PRIMARY KEY, "
    "heartbeat_at timestamptz NOT NULL)",
)
_THROTTLE_LOCK = 0x5B_0A_CC  # advisory lock namespace: one key's attempts at a time


class PostgresAccessRecords:
    def __init__(self, datastore: PostgresDatastore) -> None:
        self.datastore = datastore

    def create_tables(self) -> None:
        with self.datastore.transaction(commit=True) as curs:
            for statement in DDL:
                curs.execute(statement)

    def attempt(
        self, key: str, *, at: datetime, since: datetime, wait: Callable[[list[datetime]], float]
    ) -> float:
        with self.datastore.transaction(commit=True) as curs:
            # Attempts for one e-mail queue here, in whichever process they arrive.
            curs.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_THROTTLE_LOCK, key))
            curs.execute(f"SELECT at FROM {FAILURES} WHERE key = %s AND at > %s", (key, since))
            seconds = wait([row["at"] for row in curs.fetchall()])
            if not seconds:
                curs.execute(f"INSERT INTO {FAILURES} (key, at) VALUES (%s, %s)", (key, at))
                # What left the window of every e-mail is of no use any more.
                curs.execute(f"DELETE FROM {FAILURES} WHERE at <= %s", (since,))
            return seconds

    def forget(self, key: str) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(f"DELETE FROM {FAILURES} WHERE key = %s", (key,))

    def touch(self, token_id: UUID, at: datetime, *, active: bool) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                f"INSERT INTO {TOKENS} AS t (token_id, last_used_at, last_active_at) "
                "VALUES (%s, %s, %s) ON CONFLICT (token_id) DO UPDATE SET "
                "last_used_at = GREATEST(t.last_used_at, EXCLUDED.last_used_at), "
                "last_active_at = GREATEST(t.last_active_at, EXCLUDED.last_active_at)",
                (token_id, at, at if active else None),
            )

    def last_active(self, token_id: UUID) -> datetime | None:
        with self.datastore.cursor() as curs:
            curs.execute(f"SELECT last_active_at FROM {TOKENS} WHERE token_id = %s", (token_id,))
            row = curs.fetchone()
        return row["last_active_at"] if row else None

    def last_used(self, token_ids: Sequence[UUID]) -> dict[UUID, datetime]:
        with self.datastore.cursor() as curs:
            curs.execute(
                f"SELECT token_id, last_used_at FROM {TOKENS} WHERE token_id = ANY(%s)",
                (list(token_ids),),
            )
            return {row["token_id"]: row["last_used_at"] for row in curs.fetchall()}

    def heartbeat(self, operator_id: UUID, at: datetime) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                f"INSERT INTO {PRESENCE} AS p (operator_id, heartbeat_at) VALUES (%s, %s) "
                "ON CONFLICT (operator_id) DO UPDATE SET "
                "heartbeat_at = GREATEST(p.heartbeat_at, EXCLUDED.heartbeat_at)",
                (operator_id, at),
            )

    def last_heartbeat(self, operator_id: UUID) -> datetime | None:
        with self.datastore.cursor() as curs:
            curs.execute(
                f"SELECT heartbeat_at FROM {PRESENCE} WHERE operator_id = %s", (operator_id,)
            )
            row = curs.fetchone()
        return row["heartbeat_at"] if row else None
