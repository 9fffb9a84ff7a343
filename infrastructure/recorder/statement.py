"""An append in one server-side statement: lock, insert, notify and commit, in one round trip.

The library's recorder locks the event table, inserts and notifies in one round trip and
commits in a second, so its lock is held while the client is scheduled again. Here a PL/pgSQL
function does all of it inside one autocommitted ``SELECT``: the lock is held only while the
server inserts and commits. Readers, tracking and notification ids are the library's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier, Literal

# Serialises this recorder's CREATE OR REPLACE FUNCTION across processes starting together
# (two sessions replacing one function at once fail with "tuple concurrently updated").
CREATE_LOCK_KEY = 0x5B0A_0002

# Lock: the library's EXCLUSIVE table lock, not an advisory lock. Readers (ACCESS SHARE) are
# not blocked by it, and every writer that appends through the library's own recorder (another
# process configured `library`, a tool of the library's) takes the same lock, so sequence
# values are handed out and committed in one order for all of them. An advisory lock would
# serialise only our own writers: one library writer beside them would interleave ids and let a
# tailing reader pass over an id that commits later. Both locks cost the same to take.
#
# Conflicts: a command's events lose when any of their (originator_id, originator_version) is
# already in the log or is claimed by an earlier command of the same batch; a losing command's
# rows are skipped whole, and its slots come back NULL. Its versions were checked under the
# lock, so the winners cannot be overtaken between the check and the insert.
APPEND_FUNCTION = """
CREATE OR REPLACE FUNCTION {schema}.{function}(
    ids {id_type}[], versions bigint[], topics text[], states bytea[], commands int[]
) RETURNS bigint[] LANGUAGE plpgsql AS $append$
DECLARE
    notification_ids bigint[];
BEGIN
    PERFORM set_config('lock_timeout', {lock_timeout}, true);
    LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE;
    WITH given AS (
        SELECT g.*, min(g.command) OVER (PARTITION BY g.originator_id, g.originator_version)
            AS first_claim
        FROM unnest(ids, versions, topics, states, commands) WITH ORDINALITY
            AS g(originator_id, originator_version, topic, state, command, n)
    ), losing AS (
        SELECT DISTINCT g.command FROM given g
        WHERE g.command > g.first_claim
           OR EXISTS (SELECT FROM {schema}.{table} e
                      WHERE e.originator_id = g.originator_id
                        AND e.originator_version = g.originator_version)
    ), inserted AS (
        INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state)
        SELECT g.originator_id, g.originator_version, g.topic, g.state FROM given g
        WHERE g.command NOT IN (SELECT command FROM losing)
        ORDER BY g.n
        RETURNING originator_id, originator_version, notification_id
    )
    SELECT array_agg(i.notification_id ORDER BY g.n) INTO notification_ids
    FROM given g LEFT JOIN inserted i
      ON i.originator_id = g.originator_id
     AND i.originator_version = g.originator_version
     AND g.command NOT IN (SELECT command FROM losing);
    NOTIFY {channel};
    RETURN notification_ids;
END;
$append$
"""


class VersionTaken(IntegrityError):
    """Another command saved this aggregate version first; the command retries on fresh state.

    An ``IntegrityError`` of the library's, as its own recorder raises for a unique violation.
    """


class OneStatementRecorder(PostgresApplicationRecorder):
    """The library's application recorder, its append made one server-side statement."""

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        self.append_function_name = f"{self.events_table_name}_append"
        self.check_identifier_length(self.append_function_name)
        schema = Identifier(self.datastore.schema)
        function = Identifier(self.append_function_name)
        self.sql_create_statements.append(
            SQL(APPEND_FUNCTION).format(
                schema=schema,
                function=function,
                table=Identifier(self.events_table_name),
                id_type=SQL(self.datastore.originator_id_type),
                lock_timeout=Literal(f"{self.datastore.lock_timeout}s"),
                channel=Identifier(self.channel_name),
            )
        )
        self.append_statement = SQL(
            "SELECT {schema}.{function}(%b, %b::bigint[], %b::text[], %b, %b::int[])"
            " AS notification_ids"
        ).format(schema=schema, function=function)

        # Several aggregates' newer events in one statement (the application's repository
        # brings all the aggregates of a command up to date at once).
        self.select_events_after_statement = SQL(
            "SELECT e.originator_id, e.originator_version, e.topic, e.state "
            "FROM unnest(%s::{id_type}[], %s::bigint[]) AS k(id, after) "
            "JOIN {schema}.{table} e ON e.originator_id = k.id AND e.originator_version > k.after "
            "ORDER BY e.originator_id, e.originator_version"
        ).format(
            schema=schema,
            table=Identifier(self.events_table_name),
            id_type=SQL(self.datastore.originator_id_type),
        )
        # The log's head and, up to it, the events of some topics after a position, in one
        # statement (one snapshot): what a process checks before it trusts its cached grants.
        self.select_topics_since_statement = SQL(
            "SELECT h.head, e.notification_id, e.originator_id "
            "FROM (SELECT max(notification_id) AS head FROM {schema}.{table}) h "
            "LEFT JOIN LATERAL (SELECT notification_id, originator_id FROM {schema}.{table} "
            "WHERE notification_id > %s AND notification_id <= h.head AND topic = ANY(%s) "
            "ORDER BY notification_id LIMIT %s) e ON true"
        ).format(schema=schema, table=Identifier(self.events_table_name))

    def _create_table(self, curs: Cursor[DictRow]) -> None:
        curs.execute("SELECT pg_advisory_xact_lock(%s)", (CREATE_LOCK_KEY,))
        super()._create_table(curs)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_events_after(self, after: Mapping[Any, int]) -> list[StoredEvent]:
        """The events of each aggregate in ``after`` with a version above the one given."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                self.select_events_after_statement,
                (list(after), list(after.values())),
                prepare=True,
            )
            return [
                StoredEvent(
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in curs.fetchall()
            ]

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_topics_since(
        self, after: int, topics: Sequence[str], limit: int
    ) -> tuple[int, list[tuple[int, Any]]]:
        """The log's head, and the (notification id, originator id) of at most ``limit``
        events of ``topics`` after ``after`` up to that head, read in one snapshot."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                self.select_topics_since_statement, (after, list(topics), limit), prepare=True
            )
            rows = curs.fetchall()
        head = (rows[0]["head"] if rows else None) or 0
        found = [(r["notification_id"], r["originator_id"]) for r in rows if r["notification_id"]]
        return head, found

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if not stored_events:
            return None
        (outcome,) = self.append_commands([stored_events])
        if outcome is None:
            raise version_taken(stored_events)
        return outcome

    def append_commands(self, commands: Sequence[Sequence[StoredEvent]]) -> list[list[int] | None]:
        """Append each command's events in one call and one transaction: per command, its
        notification ids, or None when one of its versions was taken (nothing of it saved)."""
        ids: list[Any] = []
        versions: list[int] = []
        topics: list[str] = []
        states: list[bytes] = []
        owners: list[int] = []
        for command, events in enumerate(commands):
            for event in events:
                ids.append(event.originator_id)
                versions.append(event.originator_version)
                topics.append(event.topic)
                states.append(event.state)
                owners.append(command)
        with self.datastore.get_connection() as conn, conn.cursor(binary=True) as curs:
            curs.execute(
                self.append_statement, (ids, versions, topics, states, owners), prepare=True
            )
            row = curs.fetchone()
        assert row is not None
        notification_ids: list[int | None] = row["notification_ids"]
        outcomes: list[list[int] | None] = []
        start = 0
        for events in commands:
            mine = notification_ids[start : start + len(events)]
            start += len(events)
            outcomes.append(None if None in mine else list(mine))  # type: ignore[arg-type]
        return outcomes


def version_taken(stored_events: Sequence[StoredEvent]) -> VersionTaken:
    first = stored_events[0]
    return VersionTaken(
        "duplicate key value violates unique constraint: a version of "
        f"{first.originator_id} (from {first.originator_version}) was saved first"
    )
