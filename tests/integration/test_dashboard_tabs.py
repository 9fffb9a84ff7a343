"""The dashboard's tabs new, active and help, its status filter, and the help queue that a
deleted group's waiting chats move to, on real PostgreSQL after real commands (read models
and dispatcher running)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import psycopg

from application.auth import Principal
from domain.chat import ACTIVE, ASSIGNED, CLOSED, QUEUED
from domain.visibility import ChatFacts, Viewer
from infrastructure.bootstrap import Services
from projections.dashboard.tabs import TABS, in_tab
from projections.machinery.readmodel import SCHEMA
from tests.clock import FakeClock
from tests.integration.test_exactly_once import caught_up, running, snapshot
from tests.integration.test_read_models import ADMIN, group, handoff, settled, staff

STATUS_FILTERS = (None, QUEUED, ASSIGNED, ACTIVE, CLOSED)


@dataclass
class Floor:
    """A day on the floor: who works where, and a chat in each place a tab can show."""

    alice: Principal  # Sales, full with two chats
    bob: Principal  # Billing, not working
    carl: Principal  # in no group, not working
    sue: Principal  # a supervisor in Billing
    sales: UUID
    billing: UUID
    gone: UUID  # deleted, with a chat that waited in it
    chats: dict[str, UUID]


def a_floor(container: Services, clock: FakeClock) -> Floor:
    app = container.app
    sales = group(container, "Sales")
    billing = group(container, "Billing", routing="manual")
    gone = group(container, "Gone", routing="manual")
    alice = staff(container, "alice@example.com", [sales], max_chats=2)
    bob = staff(container, "bob@example.com", [billing], working=False)
    carl = staff(container, "carl@example.com", [], working=False)
    sue = staff(container, "sue@example.com", [billing], role="supervisor", working=False)
    chats: dict[str, UUID] = {}

    def chat(name: str, group_id: UUID | None = None) -> UUID:
        clock.advance(seconds=1)
        chats[name] = handoff(container, name, group_id).value.id
        return chats[name]

    closed = chat("closed", sales)
    app.intercept(closed, caller=alice)
    app.close_chat(closed, caller=alice, reason="done")
    app.intercept(chat("active", sales), caller=alice)
    chat("new", sales)  # Alice is now full
    chat("sales queue", sales)
    chat("billing queue", billing)
    chat("help", None)
    chat("gone", gone)
    app.delete_group(gone, actor=ADMIN.actor)
    settled(container)
    return Floor(alice, bob, carl, sue, sales, billing, gone, chats)


def viewer(container: Services, who: Principal) -> Viewer:
    """Anyone's own groups (a supervisor's "new" tab is their groups' queues)."""
    groups = frozenset(container.directory.groups_of(who.operator_id)) if who.operator_id else ()
    return Viewer(who.operator_id, who.supervises, frozenset(groups))


def rows(container: Services, tab: str, who: Viewer, status: str | None = None) -> list[UUID]:
    found, cursor = container.dashboard.rows(tab, who, status=status, limit=500)
    assert cursor is None
    return [row["id"] for row in found]


def test_each_tab_shows_exactly_the_chats_its_rule_admits(
    container: Services, clock: FakeClock
) -> None:
    floor = a_floor(container, clock)
    app = container.app
    facts = {
        chat_id: ChatFacts(chat.status, chat.operator_id, chat.group_id)
        for chat_id in floor.chats.values()
        if (chat := app.get_chat(chat_id))
    }
    admin = Viewer(None, supervises=True)
    viewers = [viewer(container, p) for p in (floor.alice, floor.bob, floor.carl, floor.sue)]
    for who in [*viewers, admin]:
        for tab in TABS:
            for status in STATUS_FILTERS:
                expected = {c for c, chat in facts.items() if in_tab(tab, who, chat, status)}
                assert set(rows(container, tab, who, status)) == expected, (tab, who, status)

    c = floor.chats
    alice, bob, carl, sue = viewers
    assert rows(container, "new", alice) == [c["new"], c["sales queue"]]  # oldest first
    assert rows(container, "active", alice) == [c["active"]]
    assert rows(container, "mine", alice, ACTIVE) == [c["active"]]
    assert rows(container, "help", alice) == [c["help"], c["gone"]]
    assert rows(container, "help", carl) == [c["help"], c["gone"]]  # in no group at all
    assert rows(container, "new", carl) == []
    assert rows(container, "new", bob) == [c["billing queue"]]
    assert rows(container, "new", sue) == [c["billing queue"]]  # her group's, not all
    assert rows(container, "help", admin) == [c["help"], c["gone"]]
    assert rows(container, "all", admin, QUEUED) == [
        c["gone"],
        c["help"],
        c["billing queue"],
        c["sales queue"],
    ]
    assert rows(container, "queue", alice, CLOSED) == []


def test_a_deleted_groups_waiting_chat_moves_to_help_and_goes_to_the_next_with_room(
    container: Services, clock: FakeClock
) -> None:
    floor = a_floor(container, clock)
    app = container.app
    gone = app.get_chat(floor.chats["gone"])
    assert (gone.status, gone.group_id, gone.operator_id) == (QUEUED, None, None)
    moved = app.chat_events(gone.id)[-1]
    assert (type(moved).__name__, moved.from_group_id) == ("MovedToHelp", floor.gone)
    row = {r["id"]: r for r in container.dashboard.rows("help", viewer(container, floor.carl))[0]}
    assert row[gone.id]["group_id"] is None
    assert container.dashboard.stranded(10) == []

    # Carl starts work: the dispatcher gives him the routable chats, oldest first (Sales's
    # too: nobody there has room); everyone who saw the help queue's is told they left it.
    before = app.head()
    app.set_status(floor.carl.operator_id, "working", caller=floor.carl)
    settled(container)
    taken = [floor.chats[name] for name in ("sales queue", "help", "gone")]
    assert {app.get_chat(chat_id).operator_id for chat_id in taken} == {floor.carl.operator_id}
    upto = container.dashboard.position()
    bob = viewer(container, floor.bob)
    changes = container.dashboard.changes_between(before, upto, viewer=bob)
    assert {d["chat_id"] for d in changes.departures} == set(taken[1:])
    assert {d["status"] for d in changes.departures} == {QUEUED}
    assert not changes.rows, "Bob no longer sees them"
    sue = viewer(container, floor.sue)
    supervisor = container.dashboard.changes_between(before, upto, viewer=sue)
    assert supervisor.departures == [] and len(supervisor.rows or ()) == 3
    assert rows(container, "help", bob) == []
    assert rows(container, "new", viewer(container, floor.carl)) == taken


def test_a_rebuild_gives_the_same_rows_after_chats_moved_to_help(database_url: str) -> None:
    clock = FakeClock()
    with running(database_url, clock) as container:
        floor = a_floor(container, clock)
        app = container.app
        app.set_status(floor.carl.operator_id, "working", caller=floor.carl)
        head = caught_up(container)
        assert app.get_chat(floor.chats["gone"]).operator_id == floor.carl.operator_id
        app.intercept(floor.chats["help"], caller=floor.carl)
        head = caught_up(container)
    before = snapshot(database_url)
    assert any(row["status"] == QUEUED for row in before["dashboard_departures"])

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {SCHEMA} CASCADE")
    with running(database_url, clock) as rebuilt:
        assert caught_up(rebuilt) == head
    after = snapshot(database_url)
    for table in before:
        assert after[table] == before[table], table
