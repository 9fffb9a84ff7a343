"""What every read model shares: its tables, and exactly-once batches with tracking.

A read model is a ``PostgresTrackingRecorder`` (the library's own pattern for materialised
views): each batch of events is applied and its tracking position recorded in one
transaction, so a crash at any point neither loses nor repeats an event. After commit the
transaction's NOTIFY tells every process which position the model has reached.
"""

from __future__ import annotations

import inspect
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg import Cursor
from psycopg.sql import SQL, Identifier, Literal

SCHEMA = "readmodels"
POSITIONS_CHANNEL = "switchboard_readmodels"


@dataclass(frozen=True)
class Index:
    """A secondary index: ``using`` is what follows ``ON table`` (columns, method, predicate)."""

    name: str
    using: str
    # The projection reads through it while it applies events: a rebuild loads with it.
    while_loading: bool = False

    def ddl(self, schema: str, table: str) -> str:
        return f"CREATE INDEX IF NOT EXISTS {self.name} ON {schema}.{table} {self.using}"


@dataclass(frozen=True)
class Table:
    """One of a read model's tables, declared as data: its columns and its indexes."""

    name: str
    columns: str  # what stands between CREATE TABLE's parentheses
    indexes: tuple[Index, ...] = ()

    def ddl(self, schema: str) -> list[str]:
        """The statements that create the table and its indexes in ``schema``."""
        return [self.table_ddl(schema), *self.index_ddl(schema)]

    def table_ddl(self, schema: str) -> str:
        return f"CREATE TABLE IF NOT EXISTS {schema}.{self.name} ({self.columns})"

    def index_ddl(self, schema: str, *, while_loading: bool | None = None) -> list[str]:
        """Its indexes' statements (``while_loading``: only those kept, or not kept, while a
        rebuild loads the table)."""
        return [
            index.ddl(schema, self.name)
            for index in self.indexes
            if while_loading is None or index.while_loading == while_loading
        ]


class ReadModel(PostgresTrackingRecorder):
    name: ClassVar[str]
    tables: ClassVar[Sequence[Table]] = ()

    def __init__(self, datastore: PostgresDatastore, application_name: str) -> None:
        super().__init__(datastore, tracking_table_name=f"{self.name}_tracking")
        self.application_name = application_name
        schema = datastore.schema
        for table in self.tables:
            self.sql_create_statements.append(SQL(table.table_ddl(schema)))
            self.sql_create_statements.extend(
                SQL(ddl) for ddl in table.index_ddl(schema, while_loading=True)
            )
        self.index_statements = [
            SQL(ddl)
            for table in self.tables
            for ddl in table.index_ddl(schema, while_loading=False)
        ]

    def create_table(self, *, indexes: bool = True) -> None:
        """Create the tracking table and this model's tables, and (``indexes``) their
        secondary indexes; a rebuild loads its tables first and indexes them after."""
        super().create_table()
        if indexes:
            self.create_indexes()

    def create_indexes(self) -> None:
        """The secondary indexes, each built once over whatever the tables hold: after a bulk
        load, a sorted build instead of an insert into every index for every row."""
        with self.datastore.transaction(commit=True) as curs:
            for statement in self.index_statements:
                curs.execute(statement)

    @classmethod
    def ddl(cls, schema: str) -> list[str]:
        """Every statement that creates this read model's tables in ``schema``."""
        return [ddl for table in cls.tables for ddl in table.ddl(schema)]

    @classmethod
    def table_names(cls) -> list[str]:
        """This read model's own tables (its tracking table aside)."""
        return [table.name for table in cls.tables]

    def position(self) -> int:
        return self.max_tracking_id(self.application_name) or 0

    def process_batch(self, batch: Sequence[tuple[Any, Tracking]]) -> int:
        """Apply a batch of (event, tracking) and record the last position, atomically."""
        last = batch[-1][1]
        news = None
        with self.datastore.transaction(commit=True) as curs:
            committed = self.lock_position(curs)
            # Pipeline mode: statements whose results nobody reads go without waiting for
            # their answers (a batch is mostly such writes); a read waits for what precedes it.
            with curs.connection.pipeline():
                self.begin_batch()
                # Another process may have committed part of this batch: skip that part.
                todo = [(e, t.notification_id) for e, t in batch if t.notification_id > committed]
                self.prepare_batch(curs, [event for event, _ in todo])
                for event, position in todo:
                    self.apply_at(event, position, curs)
                self.end_batch(curs)
            if last.notification_id > committed:
                self.record_position(curs, last)
                news = self.changes(curs, committed, last.notification_id)
        if news is not None:
            self.announce(news)
        return max(last.notification_id, committed)

    def begin_batch(self) -> None:
        """A batch's events follow (read models that keep state per batch reset it here)."""

    def prepare_batch(self, curs: Cursor, events: Sequence[Any]) -> None:
        """The batch's events, before they are applied: read models that keep rows in memory
        for the batch read the ones these events touch here, in one statement."""

    def read_rows(
        self,
        curs: Cursor,
        table: str,
        columns: Sequence[str],
        ids: set[Any],
        rows: dict[Any, dict[str, Any] | None],
    ) -> None:
        """Put into ``rows`` the rows of ``table`` whose ``id`` is one of ``ids`` and that
        ``rows`` does not hold yet, read in one statement (``None`` where there is none)."""
        missing = ids - rows.keys()
        if not missing:
            return
        curs.execute(
            f"SELECT {', '.join(columns)} FROM {self.table(table)} WHERE id = ANY(%b)",
            (list(missing),),
        )
        found = {row["id"]: row for row in curs.fetchall()}
        rows.update((row_id, found.get(row_id)) for row_id in missing)

    def end_batch(self, curs: Cursor) -> None:
        """The batch's events are applied: write what was kept for the end, in its transaction."""

    def apply_at(self, event: Any, position: int, curs: Cursor) -> None:
        """Apply one event found at ``position`` of the log (read models that keep it override)."""
        self.handler(type(event))(self, event, curs)

    @classmethod
    def handler(cls, event_type: type) -> Callable[[Any, Any, Cursor], None]:
        """``apply``'s implementation for ``event_type``, found once per class and event type.

        Reading ``self.apply`` makes the ``singledispatchmethod`` build and wrap a new bound
        method every time: a tenth of a rebuild's time went there.
        """
        handlers = cls.__dict__.get("_handlers")
        if handlers is None:
            handlers = {}
            cls._handlers = handlers
        found = handlers.get(event_type)
        if found is None:
            method = inspect.getattr_static(cls, "apply")
            method.__get__(None, cls)  # the library's deferred registrations, if any, now
            found = handlers[event_type] = method.dispatcher.dispatch(event_type)
        return found

    def changes(self, curs: Cursor, after: int, upto: int) -> Any:
        """What changed between the positions, read in the batch's transaction, to announce
        once it commits; ``None`` (the default) announces nothing."""
        return None

    def announce(self, news: Any) -> None:
        """Tell listeners about a committed batch; must never fail the batch."""

    def lock_position(self, curs: Cursor) -> int:
        """Serialise this read model's writers for the transaction; return its position."""
        curs.execute("SELECT pg_advisory_xact_lock(%s)", (self.lock_key,))
        return self._max_tracking_id(self.application_name, curs) or 0

    @property
    def lock_key(self) -> int:
        # Per schema: a rebuild's staging copy does not hold up the live model's batches.
        return zlib.crc32(f"switchboard-batch:{self.datastore.schema}.{self.name}".encode())

    def record_position(self, curs: Cursor, tracking: Tracking) -> None:
        """Track the position in the caller's transaction and announce it on commit."""
        self._insert_tracking(curs, tracking)
        payload = f"{self.name}:{tracking.notification_id}"
        curs.execute(SQL("NOTIFY {}, {}").format(Identifier(POSITIONS_CHANNEL), Literal(payload)))

    def apply(self, event: Any, curs: Cursor) -> None:
        """Each read model defines its own ``singledispatchmethod`` (a registry per class).

        Events a read model does not show change nothing; their position is still tracked.
        """
        raise NotImplementedError

    def table(self, name: str) -> str:
        return f"{self.datastore.schema}.{name}"
