"""Read models that keep a batch's rows in memory give the same rows wherever batches end.

The dashboard and history read each touched row once per batch and write it once at the end
of the batch; the directory adds up what chats do to each operator over the batch; the
Events model gathers a batch's Events, chats and messages and writes each table once. A live
runner's batches are small and end anywhere; a rebuild's are pages of a thousand events.
Replaying the same log with batches cut at random places (one event each, everything at
once, anything between) must give exactly the rows the live read models hold.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from eventsourcing.persistence import Tracking
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.client import client_id_of
from infrastructure.bootstrap import Services
from projections.dashboard import Dashboard
from projections.directory import Directory
from projections.events.projection import EventsOut
from projections.history import History
from projections.machinery.readmodel import ReadModel
from tests.clock import FakeClock
from tests.integration.test_history import ADMIN, BOT, operator

TABLES = {
    Dashboard: {
        "dashboard_chats": "id",
        "dashboard_departures": "position, chat_id",
        "dashboard_clients": "client_key",
        "dashboard_group_sl": "group_id",
        "dashboard_groups": "group_id",
    },
    History: {"history_chats": "id", "history_messages": "chat_id, message_id"},
    Directory: {"operators": "id", "groups": "id", "tokens": "id"},
    EventsOut: {
        "events": "position",
        "event_chats": "id",
        "event_operators": "id",
        "event_messages": "id",
    },
}


@pytest.fixture
def story(container: Services, clock: FakeClock) -> int:
    """Chats through every kind of event the two read models show; returns the log's head."""
    app = container.app
    sales = app.create_group(actor=ADMIN.actor, name="Sales", sl_first_response_s=30).value.id
    support = app.create_group(actor=ADMIN.actor, name="Support").value.id
    boss = operator(container, "boss@example.com", [], role="supervisor", max_chats=0)
    alice = operator(container, "alice@example.com", [sales])
    bob = operator(container, "bob@example.com", [sales, support])
    chats = []
    for n in range(6):
        client = {"id": f"u{n % 4}", "channel": "web"}
        if n % 2:
            client["phone"] = f"+4470000000{n}"
        chats.append(
            app.handoff(
                bot=BOT,
                external_id=f"c{n}",
                client=client,
                group_id=sales if n % 3 else support,
                topic="billing",
                transcript=[
                    {"author": "client", "text": f"parcel {n} lost"},
                    {"author": "bot", "text": "An operator will answer"},
                ],
            ).value.id
        )
        clock.advance(seconds=7)
    a, b, c, d, e, _ = chats
    holder = {chat: app.get_chat(chat).operator_id for chat in chats}
    caller = {alice.operator_id: alice, bob.operator_id: bob}
    for chat in (a, b, c):
        app.intercept(chat, caller=caller[holder[chat]])
    reply = app.reply(a, "Your tracking number is wrong", caller=caller[holder[a]]).value
    app.relay_client_message(a, "Where is it then?", bot=BOT)
    # Renamed between two of its Events: each tells the name of its time, wherever batches end.
    app.update_operator(holder[a], actor=ADMIN.actor, first_name="Renamed")
    app.edit_message(a, reply["id"], "Your parcel ships today", caller=caller[holder[a]])
    app.relay_client_message(a, "Thanks, and the refund?", bot=BOT)
    clock.advance(seconds=40)
    app.mute(b, caller=caller[holder[b]], minutes=5)
    app.relay_client_message(b, "spam spam spam", bot=BOT)
    app.unmute(b, caller=caller[holder[b]])
    app.relay_client_message(b, "sorry, the invoice please", bot=BOT)
    app.change_topic(b, caller=caller[holder[b]], topic="delivery", subtopic="late")
    app.update_group(sales, actor=ADMIN.actor, sl_next_response_s=90)
    app.reassign(c, caller=boss, group_id=support)
    other = alice if holder[d] == bob.operator_id else bob
    app.reassign(d, caller=boss, operator_id=other.operator_id)
    deleted = app.reply(c, "wrong chat, sorry", caller=boss).value
    app.delete_message(c, deleted["id"], caller=boss)
    clock.advance(minutes=3)
    # A card's phone edited, then cleared: the labels of all the client's chats follow.
    app.edit_client(
        client_id_of({"id": "u0", "channel": "web"}), {"phone": "+4470099"}, caller=boss
    )
    app.edit_client(client_id_of({"id": "u1", "channel": "web"}), {"phone": None}, caller=boss)
    app.close_chat(a, caller=caller[holder[a]], reason="solved")
    app.rate(a, 4, "quick", bot=BOT)
    app.close_chat(e, caller=boss, reason=None)
    head = app.head() or 0
    for name in ("dashboard", "history", "directory", "events", "dispatcher"):
        assert container.wait_for(name, head, 10)
    assert (app.head() or 0) == head, "the dispatcher added events: settle again"
    return head


@pytest.fixture
def replays(container: Services) -> Iterator[dict[type, ReadModel]]:
    """Empty read models in a schema of their own."""
    store = container.database.read_store("batch_replay", pool_size=1)
    with store.transaction(commit=True) as curs:
        curs.execute("CREATE SCHEMA batch_replay")
    models = {kind: kind(store, application_name=container.app.name) for kind in TABLES}
    try:
        yield models
    finally:
        with store.transaction(commit=True) as curs:
            curs.execute("DROP SCHEMA batch_replay CASCADE")
        store.close()


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(cuts=st.lists(st.integers(1, 40), max_size=40))
def test_rows_do_not_depend_on_where_batches_end(
    container: Services, story: int, replays: dict[type, ReadModel], cuts: list[int]
) -> None:
    app = container.app
    log = [
        (app.mapper.to_domain_event(n), Tracking(app.name, n.id))
        for n in app.recorder.select_notifications(start=1, limit=10_000)
    ]
    assert log[-1][1].notification_id == story
    # Batch sizes from the cuts, then one batch for whatever is left.
    batches, start = [], 0
    for size in cuts:
        if start < len(log):
            batches.append(log[start : start + size])
            start += size
    if start < len(log):
        batches.append(log[start:])
    live = {
        Dashboard: container.dashboard,
        History: container.history,
        Directory: container.directory,
        EventsOut: container.read_model("events"),
    }
    for kind, model in replays.items():
        with model.datastore.transaction(commit=True) as curs:
            for table in TABLES[kind]:
                curs.execute(f"DROP TABLE IF EXISTS {model.table(table)}")
            curs.execute(f"DROP TABLE IF EXISTS {model.table(model.tracking_table_name)}")
        model.create_table()
        for batch in batches:
            model.process_batch(batch)
        for table, order in TABLES[kind].items():
            replayed = rows(model, table, order)
            assert replayed == rows(live[kind], table, order), table
            assert replayed, table


def rows(model: ReadModel, table: str, order: str) -> list[dict[str, Any]]:
    with model.datastore.transaction() as curs:
        # The vector as text: its words and their positions.
        extra = ", search::text AS search_text" if table == "history_chats" else ""
        curs.execute(f"SELECT *{extra} FROM {model.table(table)} ORDER BY {order}")
        return curs.fetchall()
