"""Rebuild a read model from the event log beside the live one, then swap, with no downtime.

The new tables are built in a staging schema while the API keeps reading the old ones and the
live runner keeps them current. When the new tables are close to the head, one transaction
takes the read model's batch lock (so the live runner waits), applies the last few events,
drops the old tables and moves the new ones into place. The live runner then finds a tracking
position at least as far as its own and carries on from there: nothing is applied twice.

Several read models rebuild together from one reading of the log: each page is read and
decoded once and applied to every staged model, and each is swapped in on its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor
from psycopg.sql import SQL, Identifier

from projections.machinery.readmodel import ReadModel

STAGING_SCHEMA = "readmodels_rebuild"
PAGE = 1_000
# Close enough to the head to swap: the rest is applied inside the swap transaction.
SWAP_WITHIN = 2_000


def table_names(model: ReadModel) -> list[str]:
    """A read model's own tables, its tracking table included."""
    return [*model.table_names(), model.tracking_table_name]


@dataclass
class Progress:
    model: str
    position: int
    head: int


def rebuild_together(
    lives: Sequence[ReadModel],
    log: Application[Any],
    staging_store: PostgresDatastore,
    *,
    on_progress: Callable[[Progress], None] = lambda progress: None,
    swap_within: int = SWAP_WITHIN,
    page: int = PAGE,
) -> dict[str, int]:
    """Rebuild read models from one reading of the log (each page is read and decoded once,
    then applied to every model) and swap each in; returns the positions they were swapped at.
    """
    schema = staging_store.schema
    with staging_store.transaction(commit=True) as curs:
        curs.execute(SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(Identifier(schema)))
        curs.execute(SQL("CREATE SCHEMA {}").format(Identifier(schema)))
    staged = stage(lives, staging_store)
    position = 0
    while True:
        head = log.recorder.max_notification_id() or 0
        if head - position <= swap_within:
            break
        position = _catch_up(staged, log, position, head, on_progress, page)
    build_indexes(staged)

    positions = {}
    for live, model in zip(lives, staged, strict=True):
        positions[live.name] = _swap(live, model, log, position)
        on_progress(Progress(live.name, positions[live.name], positions[live.name]))
    with staging_store.transaction(commit=True) as curs:
        curs.execute(SQL("DROP SCHEMA {} CASCADE").format(Identifier(schema)))
    return positions


def stage(lives: Sequence[ReadModel], staging_store: PostgresDatastore) -> list[ReadModel]:
    """Staged copies of the read models, their tables created without secondary indexes
    (``build_indexes`` makes those once the tables are loaded)."""
    staged = [type(live)(staging_store, application_name=live.application_name) for live in lives]
    for model in staged:
        model.create_table(indexes=False)
    return staged


def build_indexes(staged: Sequence[ReadModel]) -> None:
    """Index the loaded tables: one sorted build per index, not a row-by-row insert into each
    (the live models' catch-up reads only primary keys)."""
    for model in staged:
        model.create_indexes()


def _swap(live: ReadModel, staged: ReadModel, log: Application[Any], position: int) -> int:
    """In one transaction, holding the live model's batch lock: apply the rest of the log to
    the staged tables, drop the live ones and move the staged ones into their place."""
    live_schema, schema = live.datastore.schema, staged.datastore.schema
    with live.datastore.transaction(commit=True) as curs:
        curs.execute("SELECT pg_advisory_xact_lock(%s)", (live.lock_key,))
        head = log.recorder.max_notification_id() or 0
        last = _apply_range(staged, log, curs, position, head)
        if last is not None:
            # Also tells every process's waiters where the swapped-in model stands.
            staged.record_position(curs, last)
            position = last.notification_id
        for name in table_names(live):
            curs.execute(
                SQL("DROP TABLE IF EXISTS {}.{} CASCADE").format(
                    Identifier(live_schema), Identifier(name)
                )
            )
            curs.execute(
                SQL("ALTER TABLE {}.{} SET SCHEMA {}").format(
                    Identifier(schema), Identifier(name), Identifier(live_schema)
                )
            )
    return position


def _catch_up(
    staged: Sequence[ReadModel],
    log: Application[Any],
    position: int,
    head: int,
    on_progress: Callable[[Progress], None],
    page_size: int,
) -> int:
    while position < head:
        page = log.recorder.select_notifications(start=position + 1, limit=page_size, stop=head)
        if not page:
            break
        batch = [(log.mapper.to_domain_event(n), Tracking(log.name, n.id)) for n in page]
        for model in staged:
            model.process_batch(batch)
            on_progress(Progress(model.name, batch[-1][1].notification_id, head))
        position = batch[-1][1].notification_id
    return position


def _apply_range(
    staged: ReadModel, log: Application[Any], curs: Cursor, position: int, head: int
) -> Tracking | None:
    last = None
    while position < head:
        page = log.recorder.select_notifications(start=position + 1, limit=PAGE, stop=head)
        if not page:
            break
        events = [log.mapper.to_domain_event(notification) for notification in page]
        staged.begin_batch()
        staged.prepare_batch(curs, events)
        for event, notification in zip(events, page, strict=True):
            staged.apply_at(event, notification.id, curs)
        staged.end_batch(curs)
        last = Tracking(log.name, page[-1].id)
        position = page[-1].id
    return last


def fingerprint(model: ReadModel) -> str:
    """What a read model's tables look like: changes whenever its DDL does."""
    return hashlib.sha256("\n".join(model.ddl("{schema}")).encode()).hexdigest()[:16]


def create_or_reset(model: ReadModel, connect: Callable[..., Any]) -> bool:
    """Create the model's tables; when their shape changed since they were made (an upgrade),
    drop them first, so that the model is rebuilt from the log. True if it was reset.

    Run under the schema lock, before any runner starts.
    """
    schema = model.datastore.schema
    registry = SQL("{}.{}").format(Identifier(schema), Identifier("read_model_schemas"))
    tracking = f"{schema}.{model.tracking_table_name}"
    current = fingerprint(model)
    reset = False
    with connect(autocommit=False) as conn, conn.cursor() as curs:
        curs.execute(
            SQL(
                "CREATE TABLE IF NOT EXISTS {} (name text PRIMARY KEY, fingerprint text NOT NULL)"
            ).format(registry)
        )
        row = curs.execute(
            SQL("SELECT fingerprint FROM {} WHERE name = %s").format(registry), (model.name,)
        ).fetchone()
        existed = curs.execute("SELECT to_regclass(%s) IS NOT NULL", (tracking,)).fetchone()[0]
        if existed and row is not None and row[0] == current:
            # Already there, in this shape: touch nothing. (Even CREATE INDEX IF NOT EXISTS
            # locks its table, and another process's runner may be writing to it: a worker
            # restarting beside a running one would deadlock with its batches.)
            return False
        # Tables made by a version that kept no fingerprint are of unknown shape too.
        if existed and (row is None or row[0] != current):
            for name in table_names(model):
                curs.execute(
                    SQL("DROP TABLE IF EXISTS {}.{} CASCADE").format(
                        Identifier(schema), Identifier(name)
                    )
                )
            reset = True
        curs.execute(
            SQL(
                "INSERT INTO {} VALUES (%s, %s) ON CONFLICT (name) DO UPDATE "
                "SET fingerprint = excluded.fingerprint"
            ).format(registry),
            (model.name, current),
        )
    model.create_table()
    return reset
