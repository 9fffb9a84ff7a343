"""The Events read model on real PostgreSQL: a delivery per Event and matching webhook,
scheduled with its tracking; a rebuild gives the same Events and sends nothing again."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from projections.events.tables import DELIVERIES
from projections.machinery.readmodel import SCHEMA
from projections.machinery.rebuild import STAGING_SCHEMA, rebuild_together
from tests.clock import FakeClock
from tests.integration.test_exactly_once import (
    ADMIN,
    BOT,
    caught_up,
    running,
    some_traffic,
    staff,
)

# Resolves nowhere: the sender's attempts fail and the deliveries stay as scheduled.
NOWHERE = "https://hooks.invalid/switchboard"


def rows(database_url: str, sql: str) -> list[dict[str, Any]]:
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        return conn.execute(sql).fetchall()


def register(app, **fields: Any):
    values = {"url": NOWHERE, "events": [], "bot": None, "description": None, **fields}
    return app.register_webhook(actor=ADMIN.actor, allow_private=False, **values).value.webhook


def test_each_event_is_scheduled_for_each_matching_webhook(database_url: str) -> None:
    clock = FakeClock()
    with running(database_url, clock) as container:
        app = container.app
        sales = app.create_group(actor=ADMIN.actor, name="Sales").value.id
        staff(app, "alice@example.com", [sales])
        everything = register(app)
        closes = register(app, events=["chat.closed"])
        other_bot = register(app, bot="another-bot")
        some_traffic(app, clock, "x", [sales], 6)
        late = register(app)  # registered after: gets what comes after it only
        some_traffic(app, clock, "y", [sales], 3)
        caught_up(container)
    events = rows(database_url, f"SELECT * FROM {SCHEMA}.events ORDER BY position")
    scheduled = rows(database_url, f"SELECT * FROM {DELIVERIES}")
    by_hook: dict[Any, list[int]] = {}
    for row in scheduled:
        by_hook.setdefault(row["webhook_id"], []).append(row["position"])
    assert {e["bot"] for e in events} == {BOT.name}
    assert sorted(by_hook[everything.id]) == [e["position"] for e in events]
    closed = [e["position"] for e in events if e["type"] == "chat.closed"]
    assert closed and sorted(by_hook[closes.id]) == closed
    assert other_bot.id not in by_hook
    later = [e["position"] for e in events if e["external_id"].startswith("y-")]
    assert sorted(by_hook[late.id]) == later
    assert all(row["event_id"] in {e["id"] for e in events} for row in scheduled)


def test_a_rebuild_gives_the_same_events_and_schedules_nothing_again(database_url: str) -> None:
    clock = FakeClock()
    with running(database_url, clock) as container:
        app = container.app
        sales = app.create_group(actor=ADMIN.actor, name="Sales").value.id
        staff(app, "alice@example.com", [sales])
        hook = register(app)
        some_traffic(app, clock, "x", [sales], 6)
        app.replay_webhook(hook.id, 1, actor=ADMIN.actor)
        caught_up(container)
        container.sender.stop()  # what the deliveries say stays put from here
        before_events = rows(database_url, f"SELECT * FROM {SCHEMA}.events ORDER BY position")
        before = rows(database_url, f"SELECT * FROM {DELIVERIES} ORDER BY position")
        # The sender's progress, as if some had been delivered.
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f"UPDATE {DELIVERIES} SET status = 'delivered', attempts = 1")
        staging = container.database.read_store(STAGING_SCHEMA, pool_size=2)
        try:
            rebuild_together([container.events_out], app, staging)
        finally:
            staging.close()
    after_events = rows(database_url, f"SELECT * FROM {SCHEMA}.events ORDER BY position")
    after = rows(database_url, f"SELECT * FROM {DELIVERIES} ORDER BY position")
    assert after_events == before_events, "the same facts, with the same ids"
    assert [(r["position"], r["event_id"]) for r in after] == [
        (r["position"], r["event_id"]) for r in before
    ]
    assert all(r["status"] == "delivered" and r["attempts"] == 1 for r in after), (
        "a rebuild (the replay request applied again too) sends nothing again"
    )


def test_an_event_keeps_its_message_and_time_exactly(database_url: str) -> None:
    """A batch's Events and messages go as one JSON document: text of any kind, and times to
    the microsecond, come back as they went in."""
    text = 'é "quoted" \\ back\\slash\nnew line\ttab ✓ 😀 </script> {"not": "json"}'
    clock = FakeClock()
    with running(database_url, clock) as container:
        app = container.app
        sales = app.create_group(actor=ADMIN.actor, name="Sales").value.id
        alice = staff(app, "alice@example.com", [sales])
        clock.advance(seconds=7, microseconds=123_457)
        chat = app.handoff(bot=BOT, external_id="t-1", client={"id": "t"}, group_id=sales).value
        app.relay_client_message(chat.id, text, bot=BOT)
        app.intercept(chat.id, caller=alice)
        clock.advance(microseconds=1)
        reply = app.reply(chat.id, "first", caller=alice).value
        app.edit_message(chat.id, reply["id"], text, caller=alice)
        caught_up(container)
    events = rows(database_url, f"SELECT * FROM {SCHEMA}.events ORDER BY position")
    by_type = {e["type"]: e for e in events}
    created = [e["data"]["text"] for e in events if e["type"] == "message.created"]
    assert created[0] == text and created[-1] == "first"
    assert by_type["message.edited"]["data"]["text"] == text
    assert by_type["message.edited"]["operator"] == {
        "id": str(alice.operator_id),
        "first_name": "Alice",
    }
    assert by_type["chat.assigned"]["occurred_at"] == datetime(
        2026, 1, 1, 9, 0, 7, 123_457, tzinfo=UTC
    )
    assert by_type["message.edited"]["occurred_at"] == datetime(
        2026, 1, 1, 9, 0, 7, 123_458, tzinfo=UTC
    )
    messages = rows(database_url, f"SELECT * FROM {SCHEMA}.event_messages")
    # The client's message and the edited reply, as the read model keeps them.
    assert [m["message"]["text"] for m in messages].count(text) == 2
