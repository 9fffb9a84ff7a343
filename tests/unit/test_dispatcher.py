"""The dispatcher policy: when room appears, the oldest waiting chat is assigned, over the
in-memory event store."""

from __future__ import annotations

import pytest

from application.app import Switchboard
from application.dispatcher import Dispatcher, makes_room
from domain.chat import QUEUED
from domain.group import Group
from tests.clock import FakeClock
from tests.unit.fakes import LogScanWaitingChats, ReachedPositions
from tests.unit.helpers import ADMIN, handoff, operator


@pytest.fixture
def dispatcher(app: Switchboard) -> Dispatcher:
    return Dispatcher(app, LogScanWaitingChats(app), ReachedPositions())


def queued_chats(app: Switchboard, clock: FakeClock, group: Group | None, count: int) -> list:
    chats = []
    for n in range(count):
        clock.advance(seconds=1)
        chats.append(handoff(app, f"{group.name if group else 'none'}-{n}", group))
    assert all(chat.status == QUEUED for chat in chats)
    return chats


def test_the_oldest_waiting_chats_go_first_while_there_is_room(app, clock, sales, dispatcher):
    anna = operator(app, "anna@example.com", sales, working=False, max_chats=2)
    chats = queued_chats(app, clock, sales, 3)
    app.set_status(anna.operator_id, "working", caller=anna)

    assert dispatcher.drain() == 2
    statuses = [app.get_chat(chat.id) for chat in chats]
    assert [chat.operator_id for chat in statuses] == [anna.operator_id] * 2 + [None]
    assert statuses[2].status == QUEUED
    assert dispatcher.drain() == 0  # no room: nothing more, and nothing recorded
    assert app.get_operator(anna.operator_id).load == 2


def test_chats_of_a_manual_group_wait_for_an_intercept(app, clock, dispatcher):
    vip = app.create_group(actor=ADMIN.actor, name="VIP", routing="manual").value
    chats = queued_chats(app, clock, vip, 2)
    operator(app, "anna@example.com", vip)
    assert dispatcher.drain() == 0
    assert all(app.get_chat(chat.id).status == QUEUED for chat in chats)


def test_only_events_that_may_make_room_start_a_drain(app, clock, sales, dispatcher):
    anna = operator(app, "anna@example.com", sales, working=False)
    (chat,) = queued_chats(app, clock, sales, 1)
    app.set_status(anna.operator_id, "break", caller=anna)
    on_break = [e for e in app.events.get(anna.operator_id)][-1:]
    assert not any(makes_room(event) for event in on_break)
    assert dispatcher.when_events(on_break, app.head() or 0) == 0

    app.set_status(anna.operator_id, "working", caller=anna)
    working = [e for e in app.events.get(anna.operator_id)][-1:]
    assert dispatcher.when_events(working, app.head() or 0) == 1
    assert app.get_chat(chat.id).operator_id == anna.operator_id
