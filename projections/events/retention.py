"""Retention of the Events read model and the webhooks' delivery log: what is older than the
retention goes, in bounded batches, run by the worker's scheduler.

What stays, whatever its age:
- an Event that some webhook still has to deliver (a pending delivery: the sender reads the
  Event from this table), and that delivery;
- everything younger than the retention, which is also how far back a replay or the feed
  reaches (``POST /v1/webhooks/{id}/replay`` and ``GET /v1/events?after=``);
- what the Events are derived from for chats still open (their messages as shown, until the
  chat closes; every chat's external id, bot and operator: a closed chat may still be rated).

The position up to which deliveries were pruned is kept beside them (``outbox.pruned``): a
rebuild of the read model, or a replay applied again, never schedules those again (they were
delivered, or failed for good, long ago). A rebuild does bring the old Events back into the
read model's table until the next pruning pass.

Each batch is one transaction holding the read model's batch lock, so the follower (which
schedules deliveries and replays) never interleaves with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import Cursor

from projections.events.tables import DELIVERIES, PRUNED

BATCH = 5_000  # Events looked at per transaction
MAX_BATCHES = 20  # per pass: a pass stays short; the next one carries on


@dataclass
class Pruned:
    events: int = 0
    deliveries: int = 0
    messages: int = 0
    horizon: int = 0  # deliveries up to this position are never scheduled again


def horizon(curs: Cursor) -> int:
    """The position up to which deliveries were pruned (0: none yet)."""
    row = curs.execute(f"SELECT COALESCE(max(upto), 0) AS upto FROM {PRUNED}").fetchone()
    return int(row["upto"] if isinstance(row, dict) else row[0])


def prune_batch(
    curs: Cursor, table: Callable[[str], str], before: datetime, after: int, batch: int
) -> tuple[Pruned, int, bool]:
    """One batch, in the caller's transaction (which holds the read model's batch lock): the
    first ``batch`` Events after position ``after``, as far as they are older than
    ``before``. Returns what went, the position it reached, and whether older ones may
    follow (False: it reached young Events, or the end)."""
    events = table("events")
    rows = curs.execute(
        f"SELECT position, occurred_at < %s AS old FROM {events} WHERE position > %s "
        "ORDER BY position LIMIT %s",
        (before, after, batch),
    ).fetchall()
    old = []
    for row in rows:
        if not row["old"]:
            break  # positions follow time: what comes after is younger still
        old.append(row["position"])
    pruned = Pruned()
    if not old:
        return pruned, after, False
    upto = old[-1]
    # Delivered or failed for good, up to here; pending ones (and their Events) stay.
    pruned.deliveries = curs.execute(
        f"DELETE FROM {DELIVERIES} WHERE position <= %s AND status <> 'pending'", (upto,)
    ).rowcount
    # A closed chat's messages change no more: what edits and deletes were shown from goes.
    pruned.messages = curs.execute(
        f"DELETE FROM {table('event_messages')} WHERE chat_id IN (SELECT chat_id FROM {events} "
        "WHERE position > %s AND position <= %s AND type = 'chat.closed')",
        (after, upto),
    ).rowcount
    pruned.events = curs.execute(
        f"DELETE FROM {events} e WHERE e.position > %s AND e.position <= %s AND NOT EXISTS "
        f"(SELECT 1 FROM {DELIVERIES} d WHERE d.position = e.position AND d.status = 'pending')",
        (after, upto),
    ).rowcount
    pruned.horizon = max(horizon(curs), upto)
    curs.execute(
        f"INSERT INTO {PRUNED} (id, upto) VALUES (true, %s) "
        "ON CONFLICT (id) DO UPDATE SET upto = excluded.upto",
        (pruned.horizon,),
    )
    return pruned, upto, len(old) == batch


def prune(
    model: Any, before: datetime, *, batch: int = BATCH, batches: int = MAX_BATCHES
) -> Pruned:
    """One pass over the Events read model ``model`` (``EventsOut``): at most ``batches``
    transactions of ``batch`` Events each, from the oldest, while they are older than
    ``before``."""
    total, after = Pruned(), 0
    for _ in range(batches):
        with model.datastore.transaction(commit=True) as curs:
            model.lock_position(curs)  # the follower waits (and we wait for its batch)
            pruned, after, more = prune_batch(curs, model.table, before, after, batch)
        total.events += pruned.events
        total.deliveries += pruned.deliveries
        total.messages += pruned.messages
        total.horizon = max(total.horizon, pruned.horizon)
        if not more:
            break
    return total
