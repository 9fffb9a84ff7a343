"""Retention of the Events read model and the delivery log, on real PostgreSQL: what is past
the retention goes in batches, except what a webhook still has to deliver; a rebuild or a
replay afterwards schedules nothing that was pruned."""

from __future__ import annotations

import threading
from datetime import timedelta
from functools import partial
from typing import Any

import psycopg

from infrastructure.bootstrap import retention_chores
from infrastructure.config import Config
from infrastructure.scheduler import Chore, Scheduler
from projections.events.retention import prune
from projections.events.tables import DELIVERIES, PRUNED
from projections.machinery.readmodel import SCHEMA
from projections.machinery.rebuild import STAGING_SCHEMA, rebuild_together
from tests.clock import FakeClock
from tests.integration.test_events_out import register, rows
from tests.integration.test_exactly_once import ADMIN, caught_up, running, some_traffic, staff

KEEP = timedelta(days=30)


def positions(database_url: str, table: str, where: str = "true") -> list[int]:
    found = rows(database_url, f"SELECT position FROM {table} WHERE {where} ORDER BY position")
    return [row["position"] for row in found]


def test_old_events_and_deliveries_go_except_what_is_still_to_deliver(database_url: str) -> None:
    clock = FakeClock()
    # ``running`` starts no scheduler: no deadline acts when the clock jumps a month.
    with running(database_url, clock) as container:
        assert container.scheduler is None
        app = container.app
        sales = app.create_group(actor=ADMIN.actor, name="Sales").value.id
        staff(app, "alice@example.com", [sales])
        hook = register(app)
        old_chats = some_traffic(app, clock, "old", [sales], 9)
        caught_up(container)
        old_upto = app.head()
        clock.advance(days=31)
        some_traffic(app, clock, "new", [sales], 4)
        caught_up(container)
        container.sender.stop()  # the deliveries' statuses stay as set below
        waiting = old_chats[1]  # its receiver has not taken its Events yet
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f"UPDATE {DELIVERIES} SET status = 'delivered', attempts = 1")
            conn.execute(
                f"UPDATE {DELIVERIES} SET status = 'pending' WHERE chat_id = %s", (waiting,)
            )
            conn.execute(
                f"UPDATE {DELIVERIES} SET status = 'failed' WHERE chat_id = %s", (old_chats[2],)
            )
        events = f"{SCHEMA}.events"
        before = rows(database_url, f"SELECT * FROM {events} ORDER BY position")
        old = [e for e in before if e["position"] <= old_upto]
        kept_old = [e["position"] for e in old if e["chat_id"] == waiting]
        young = [e["position"] for e in before if e["position"] > old_upto]
        assert kept_old and young and len(old) > 8

        pruned = prune(container.events_out, clock.now() - KEEP, batch=4)

        assert pruned.events == len(old) - len(kept_old)
        assert pruned.deliveries == len(old) - len(kept_old)
        assert pruned.horizon == old[-1]["position"]
        assert positions(database_url, events) == kept_old + young
        assert positions(database_url, DELIVERIES) == kept_old + young
        closed_old = {e["chat_id"] for e in old if e["type"] == "chat.closed"}
        left = rows(database_url, f"SELECT chat_id FROM {SCHEMA}.event_messages")
        assert closed_old and not closed_old & {row["chat_id"] for row in left}
        assert {row["chat_id"] for row in left}, "open chats' messages stay"

        # Once delivered, the kept one goes too at the next pass; young Events stay.
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f"UPDATE {DELIVERIES} SET status = 'delivered'")
        again = prune(container.events_out, clock.now() - KEEP)
        assert again.events == len(kept_old)
        after_pruning = rows(database_url, f"SELECT * FROM {events} ORDER BY position")
        assert [e["position"] for e in after_pruning] == young
        deliveries = rows(database_url, f"SELECT * FROM {DELIVERIES} ORDER BY position")

        # A rebuild brings the old Events back into the table, and schedules none of them;
        # the replay applied again during it neither.
        app.replay_webhook(hook.id, 1, actor=ADMIN.actor)
        caught_up(container)
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f"UPDATE {DELIVERIES} SET status = 'delivered'")
        staging = container.database.read_store(STAGING_SCHEMA, pool_size=2)
        try:
            rebuild_together([container.events_out], app, staging)
        finally:
            staging.close()
        assert positions(database_url, DELIVERIES) == [r["position"] for r in deliveries]
        assert positions(database_url, events)[: len(old)] == [e["position"] for e in old]
        prune(container.events_out, clock.now() - KEEP)
        assert rows(database_url, f"SELECT * FROM {events} ORDER BY position") == after_pruning
        assert rows(database_url, f"SELECT upto FROM {PRUNED}") == [{"upto": old[-1]["position"]}]


def test_nothing_young_goes_and_zero_days_keeps_everything(database_url: str) -> None:
    clock = FakeClock()
    with running(database_url, clock) as container:
        app = container.app
        sales = app.create_group(actor=ADMIN.actor, name="Sales").value.id
        staff(app, "alice@example.com", [sales])
        some_traffic(app, clock, "x", [sales], 4)
        caught_up(container)
        before = positions(database_url, f"{SCHEMA}.events")
        pruned = prune(container.events_out, clock.now() - KEEP)
        assert (pruned.events, pruned.deliveries, pruned.horizon) == (0, 0, 0)
        assert positions(database_url, f"{SCHEMA}.events") == before
        off: Any = Config(SWITCHBOARD_EVENTS_RETENTION_DAYS=0)
        assert retention_chores(off, container.events_out, clock) == []
        on = retention_chores(Config(), container.events_out, clock)
        assert [chore.every_s for chore in on] == [600.0]


def test_the_scheduler_runs_its_chores_on_time_and_past_failures(database_url: str) -> None:
    calls: list[str] = []
    twice = threading.Event()

    class NoDeadlines:
        def tick(self) -> None:
            pass

    def failing() -> None:
        calls.append("failing")
        raise RuntimeError("a chore that fails")

    def pruning() -> None:
        calls.append("pruning")
        if calls.count("pruning") >= 2:
            twice.set()

    scheduler = Scheduler(
        NoDeadlines(),  # type: ignore[arg-type]
        partial(psycopg.connect, database_url),
        interval_s=0.01,
        chores=[Chore("failing", 0.05, failing), Chore("pruning", 0.05, pruning)],
    )
    scheduler.start()
    try:
        assert twice.wait(10), calls
    finally:
        scheduler.stop()
    assert calls.count("failing") >= 2, "a failure does not stop it, nor the others"
