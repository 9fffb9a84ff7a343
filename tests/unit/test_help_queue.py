"""The dashboard's tabs as rules, and the help queue: chats waiting in no group, which every
operator sees, where the chats of a deleted group are moved (in-memory store)."""

from __future__ import annotations

from uuid import UUID

import pytest

from application.app import Switchboard
from application.dispatcher import Dispatcher, makes_room
from application.errors import Forbidden
from domain.chat import ACTIVE, ASSIGNED, CLOSED, QUEUED
from domain.errors import NotAssigned
from domain.group import Group
from domain.visibility import ChatFacts, Viewer
from projections.dashboard.tabs import TABS, in_tab
from tests.clock import FakeClock
from tests.unit.fakes import LogScanWaitingChats, ReachedPositions
from tests.unit.helpers import ADMIN, event_names, handoff, operator

ANN, BOB, SUE = UUID(int=1), UUID(int=2), UUID(int=3)
SALES, SUPPORT = UUID(int=101), UUID(int=102)

CHATS = {
    "new to Ann": ChatFacts(ASSIGNED, ANN, SALES),
    "Ann's active": ChatFacts(ACTIVE, ANN, SALES),
    "Ann's closed": ChatFacts(CLOSED, ANN, SALES),
    "sales queue": ChatFacts(QUEUED, None, SALES),
    "support queue": ChatFacts(QUEUED, None, SUPPORT),
    "help": ChatFacts(QUEUED, None, None),
    "Bob's": ChatFacts(ASSIGNED, BOB, SUPPORT),
    "Bob's active, no group": ChatFacts(ACTIVE, BOB, None),
}


def shown(tab: str, viewer: Viewer, status: str | None = None) -> set[str]:
    return {name for name, chat in CHATS.items() if in_tab(tab, viewer, chat, status)}


def test_an_operators_tabs() -> None:
    ann = Viewer(ANN, group_ids=frozenset({SALES}))
    assert shown("new", ann) == {"new to Ann", "sales queue"}
    assert shown("mine", ann) == {"new to Ann", "Ann's active"}
    assert shown("active", ann) == {"Ann's active"}
    assert shown("queue", ann) == {"sales queue", "help"}
    assert shown("help", ann) == {"help"}
    assert shown("closed", ann) == {"Ann's closed"}
    everything_of_ann = {"new to Ann", "Ann's active", "Ann's closed", "sales queue", "help"}
    assert shown("all", ann) == everything_of_ann


def test_an_operator_in_no_group_still_sees_the_help_queue() -> None:
    carl = Viewer(UUID(int=9))
    assert shown("help", carl) == shown("queue", carl) == {"help"}
    assert shown("new", carl) == shown("mine", carl) == set()


def test_a_supervisors_own_tabs_are_their_own_and_the_rest_is_everything() -> None:
    sue = Viewer(SUE, supervises=True, group_ids=frozenset({SUPPORT}))
    assert shown("new", sue) == {"support queue"}  # their groups' queues, nobody else's
    assert shown("mine", sue) == shown("active", sue) == set()
    assert shown("help", sue) == {"help"}
    assert shown("queue", sue) == {"sales queue", "support queue", "help"}
    assert shown("all", sue) == set(CHATS)
    admin = Viewer(None, supervises=True)
    assert shown("new", admin) == shown("mine", admin) == set()
    assert shown("help", admin) == {"help"}


def test_the_status_filter_narrows_a_tab() -> None:
    ann = Viewer(ANN, group_ids=frozenset({SALES}))
    sue = Viewer(SUE, supervises=True)
    assert shown("all", sue, QUEUED) == {"sales queue", "support queue", "help"}
    assert shown("all", sue, ACTIVE) == {"Ann's active", "Bob's active, no group"}
    assert shown("mine", ann, ACTIVE) == shown("active", ann)
    assert shown("new", ann, ASSIGNED) == {"new to Ann"}
    assert shown("new", ann, CLOSED) == set()
    statuses = sorted({chat.status for chat in CHATS.values()})
    for tab in TABS:
        assert shown(tab, ann) == set().union(*(shown(tab, ann, s) for s in statuses))


# -- a deleted group's waiting chats --------------------------------------------------------


@pytest.fixture
def dispatcher(app: Switchboard) -> Dispatcher:
    return Dispatcher(app, LogScanWaitingChats(app), ReachedPositions())


def waiting_in(app: Switchboard, clock: FakeClock, group: Group, count: int) -> list[UUID]:
    chats = []
    for n in range(count):
        clock.advance(seconds=1)
        chat = handoff(app, f"{group.name}-{n}", group)
        assert chat.status == QUEUED and chat.group_id == group.id
        chats.append(chat.id)
    return chats


def test_chats_waiting_in_a_deleted_group_move_to_help_then_to_anyone_with_room(
    app: Switchboard, clock: FakeClock, support: Group, dispatcher: Dispatcher
) -> None:
    vip = app.create_group(actor=ADMIN.actor, name="VIP", routing="manual").value
    chats = waiting_in(app, clock, vip, 2)
    assert dispatcher.move_stranded() == 0, "a group that exists keeps its queue"

    app.delete_group(vip.id, actor=ADMIN.actor)
    assert dispatcher.move_stranded() == 2
    for chat_id in chats:
        chat = app.get_chat(chat_id)
        assert (chat.status, chat.group_id, chat.operator_id) == (QUEUED, None, None)
        assert event_names(app, chat_id)[-1] == "MovedToHelp"
        moved = app.chat_events(chat_id)[-1]
        assert moved.from_group_id == vip.id and moved.actor == "system"
        assert makes_room(moved)
    assert dispatcher.move_stranded() == 0, "moved once"

    bob = operator(app, "bob@example.com", support)
    assert dispatcher.drain() == 2
    assert {app.get_chat(chat_id).operator_id for chat_id in chats} == {bob.operator_id}


def test_a_drain_after_the_deletion_moves_and_assigns_in_one_go(
    app: Switchboard, clock: FakeClock, sales: Group, support: Group, dispatcher: Dispatcher
) -> None:
    bob = operator(app, "bob@example.com", support, working=False)
    (waiting,) = waiting_in(app, clock, sales, 1)  # nobody is working: it waits in Sales
    app.delete_group(sales.id, actor=ADMIN.actor)
    assert makes_room(list(app.events.get(sales.id))[-1])
    app.set_status(bob.operator_id, "working", caller=bob)

    assert dispatcher.drain() == 1
    chat = app.get_chat(waiting)
    assert (chat.operator_id, chat.group_id) == (bob.operator_id, None)
    assert event_names(app, waiting)[-2:] == ["MovedToHelp", "Assigned"]


def test_moving_refuses_what_is_not_waiting_in_a_deleted_group(
    app: Switchboard, clock: FakeClock, sales: Group
) -> None:
    (waiting,) = waiting_in(app, clock, sales, 1)
    done = app.move_to_help(waiting)
    assert (done.value, done.recorded) == (False, False), "its group still exists"
    ann = operator(app, "ann@example.com", sales)
    held = handoff(app, "held", sales)
    assert held.operator_id == ann.operator_id
    app.delete_group(sales.id, actor=ADMIN.actor)

    assert app.move_to_help(held.id).recorded is False, "a held chat stays with its operator"
    assert app.get_chat(held.id).group_id == sales.id
    assert app.move_to_help(waiting).value is True


def test_any_operator_reads_and_takes_a_chat_in_the_help_queue(
    app: Switchboard, clock: FakeClock, sales: Group, support: Group
) -> None:
    carl = operator(app, "carl@example.com", working=False)  # in no group
    unrouted = handoff(app, "no-group")  # nobody is working: it waits in no group
    assert (unrouted.status, unrouted.group_id) == (QUEUED, None)
    in_sales = handoff(app, "in-sales", sales)

    app.add_note(unrouted.id, "for whoever takes it", caller=carl)  # carl may see it
    with pytest.raises(Forbidden):
        app.add_note(in_sales.id, "not carl's queue", caller=carl)
    with pytest.raises(NotAssigned):
        app.intercept(in_sales.id, caller=carl)

    app.set_status(carl.operator_id, "working", caller=carl)
    assert app.get_chat(unrouted.id).status == QUEUED  # no dispatcher here: it still waits
    taken = app.intercept(unrouted.id, caller=carl).value
    assert (taken.status, taken.operator_id) == (ACTIVE, carl.operator_id)
    assert app.get_operator(carl.operator_id).load == 1
