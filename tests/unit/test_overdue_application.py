"""Overdue answers as the engine's use cases, over the in-memory store with the fake clock: the
mark once per clock, and ``reassign_overdue_after_s`` moving a chat within its group."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from application.deadlines import Deadlines
from application.ports import ChatDeadlines, OperatorDeadlines
from domain.errors import InvalidValue
from domain.settings import DEFAULTS
from tests.unit.helpers import (
    ADMIN,
    BOT,
    configure,
    event_names,
    handoff,
    load,
    operator,
    recorded_since,
    taken,
)

SECONDS_60 = timedelta(seconds=60)


def overdue_events(app, chat_id):
    return [e for e in app.chat_events(chat_id) if type(e).__name__ == "ResponseOverdue"]


# -- the mark ---------------------------------------------------------------------------------


def test_a_chat_is_marked_overdue_once_its_first_response_sl_has_passed(app, clock, sales):
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)  # the group's SL: 60 s for the first response
    clock.advance(seconds=60)
    before = app.head()

    on_time = app.mark_overdue(chat.id)
    assert (on_time.value, on_time.recorded, app.head()) == (False, False, before)

    clock.advance(seconds=1)
    done = app.mark_overdue(chat.id)

    assert (done.value, done.recorded, done.position) == (True, True, app.head())
    (event,) = overdue_events(app, chat.id)
    assert (event.clock, event.due_at) == ("first_response", chat.requested_at + SECONDS_60)
    assert (event.operator_id, event.actor) == (anna.operator_id, "system")
    assert app.get_chat(chat.id).overdue is True


def test_marking_twice_records_once_and_a_new_turn_is_marked_again(app, clock, sales):
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)
    app.intercept(chat.id, caller=anna)
    clock.advance(seconds=61)
    app.mark_overdue(chat.id)
    clock.advance(minutes=10)
    before = app.head()

    again = app.mark_overdue(chat.id)
    assert (again.value, again.recorded, app.head()) == (False, False, before)

    app.reply(chat.id, "Sorry for the wait", caller=anna)
    assert app.get_chat(chat.id).overdue is False
    app.relay_client_message(chat.id, "And the refund?", bot=BOT)
    clock.advance(seconds=121)  # the next-response SL: 120 s

    assert app.mark_overdue(chat.id).value is True
    assert [e.clock for e in overdue_events(app, chat.id)] == ["first_response", "next_response"]


def test_the_groups_sl_as_it_stands_now_decides(app, clock, sales):
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)
    app.update_group(sales.id, actor=ADMIN.actor, sl_first_response_s=600)
    clock.advance(minutes=5)

    assert app.mark_overdue(chat.id).value is False
    clock.advance(minutes=5, seconds=1)
    assert app.mark_overdue(chat.id).value is True


def test_a_muted_clients_message_starts_no_clock_to_mark(app, clock, sales):
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)
    app.intercept(chat.id, caller=anna)
    app.reply(chat.id, "Hello", caller=anna)
    app.mute(chat.id, caller=anna, minutes=None)
    app.relay_client_message(chat.id, "spam", bot=BOT)
    clock.advance(hours=5)
    before = app.head()

    assert app.mark_overdue(chat.id).value is False
    assert app.mark_overdue(uuid4()).value is False
    assert app.head() == before


def test_a_closed_chat_is_not_marked(app, clock, sales):
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)
    app.close_chat(chat.id, caller=anna, reason=None)
    clock.advance(hours=1)

    assert app.mark_overdue(chat.id).value is False
    assert "ResponseOverdue" not in event_names(app, chat.id)


# -- the setting ------------------------------------------------------------------------------


def test_reassign_overdue_after_s_is_off_by_default_and_whole_seconds_from_one(app):
    assert DEFAULTS["reassign_overdue_after_s"] is None
    assert app.company_settings()["reassign_overdue_after_s"] is None
    for bad in (0, -5, True, 1.5, "60", 7 * 86_400 + 1):
        with pytest.raises(InvalidValue):
            configure(app, reassign_overdue_after_s=bad)
    assert app.head() is None, "a refused value records nothing"
    configure(app, reassign_overdue_after_s=1)
    assert app.company_settings()["reassign_overdue_after_s"] == 1
    configure(app, reassign_overdue_after_s=None)
    assert app.company_settings()["reassign_overdue_after_s"] is None


# -- the move ---------------------------------------------------------------------------------


@pytest.fixture
def overdue(app, clock, sales, support):
    """Anna holds a chat of Sales marked overdue at +61 s; Ben (Sales) is not working yet;
    Carol (Support) works with room. Chats still unanswered 120 s past their SL move."""
    configure(app, reassign_overdue_after_s=120)
    anna = operator(app, "anna@example.com", sales)
    ben = operator(app, "ben@example.com", sales, working=False)
    carol = operator(app, "carol@example.com", support)
    chat = taken(app, anna, "conv-1", sales)
    clock.advance(seconds=61)
    assert app.mark_overdue(chat.id).value is True
    return chat, anna, ben, carol


def test_an_overdue_chat_moves_to_another_operator_of_its_group(app, clock, overdue):
    chat, anna, ben, carol = overdue
    app.set_status(ben.operator_id, "working", caller=ben)
    clock.advance(seconds=118)  # 179 s: 119 s past the SL
    before = app.head()
    assert app.reassign_overdue(chat.id).value is False
    assert app.head() == before

    clock.advance(seconds=1)
    done = app.reassign_overdue(chat.id)

    moved = app.get_chat(chat.id)
    assert (done.value, done.recorded, done.position) == (True, True, app.head())
    assert (moved.operator_id, moved.group_id) == (ben.operator_id, chat.group_id)
    assert moved.status == "assigned"
    assert (load(app, anna), load(app, ben), load(app, carol)) == (0, 1, 0)
    reassigned = app.chat_events(chat.id)[-1]
    assert type(reassigned).__name__ == "Reassigned"
    assert reassigned.actor == "system"
    assert (reassigned.from_operator_id, reassigned.operator_id) == (
        anna.operator_id,
        ben.operator_id,
    )
    assert moved.overdue is True, "still unanswered: the mark stays until the answer"
    clock.advance(hours=1)
    assert app.reassign_overdue(chat.id).value is False, "once per clock: never back to Anna"


def test_nobody_else_of_the_group_with_room_leaves_the_chat_and_records_nothing(
    app, clock, overdue
):
    chat, anna, ben, carol = overdue
    clock.advance(minutes=10)
    before = app.head()

    assert app.reassign_overdue(chat.id).value is False, "Carol is of another group"
    assert app.head() == before
    assert app.get_chat(chat.id).operator_id == anna.operator_id
    assert load(app, carol) == 0

    app.set_status(ben.operator_id, "working", caller=ben)  # a later pass finds him
    assert app.reassign_overdue(chat.id).value is True
    assert app.get_chat(chat.id).operator_id == ben.operator_id


def test_a_full_colleague_is_passed_over(app, clock, sales):
    configure(app, reassign_overdue_after_s=60)
    anna = operator(app, "anna@example.com", sales)
    ben = operator(app, "ben@example.com", sales, working=False, max_chats=1)
    chat = taken(app, anna, "conv-1", sales)
    app.set_status(ben.operator_id, "working", caller=ben)
    handoff(app, "conv-2", sales)  # Ben's one place
    assert load(app, ben) == 1
    clock.advance(seconds=61)
    app.mark_overdue(chat.id)
    clock.advance(seconds=60)
    before = recorded_since(app, None)

    assert app.reassign_overdue(chat.id).value is False
    assert recorded_since(app, None) == before


def test_no_move_when_the_setting_is_off_the_chat_is_answered_or_its_group_is_manual(
    app, clock, overdue, sales
):
    chat, anna, ben, _ = overdue
    app.set_status(ben.operator_id, "working", caller=ben)
    clock.advance(minutes=10)
    before = app.head()

    configure(app, reassign_overdue_after_s=None)
    assert app.reassign_overdue(chat.id).value is False
    configure(app, reassign_overdue_after_s=120)
    app.update_group(sales.id, actor=ADMIN.actor, routing="manual")
    assert app.reassign_overdue(chat.id).value is False
    app.update_group(sales.id, actor=ADMIN.actor, routing="auto")
    app.intercept(chat.id, caller=anna)
    app.reply(chat.id, "Here now", caller=anna)
    assert app.reassign_overdue(chat.id).value is False
    assert app.reassign_overdue(uuid4()).value is False
    assert "Reassigned" not in [name for _, name in recorded_since(app, before)]


def test_a_client_talking_with_an_operator_is_told_who_took_over(app, clock, overdue):
    chat, anna, ben, _ = overdue
    app.intercept(chat.id, caller=anna)
    app.set_status(ben.operator_id, "working", caller=ben)
    clock.advance(minutes=3)

    app.reassign_overdue(chat.id)

    last = app.get_chat(chat.id).messages[-1]
    assert last["author"] == "system"
    assert "Ben" in last["text"]
    assert app.get_chat(chat.id).status == "active"


# -- the scheduler's rule ---------------------------------------------------------------------


class EveryChat(ChatDeadlines):
    """A deadlines port that names every chat in the log for the overdue rules (and nothing
    else): whatever a read model names, the aggregates alone decide."""

    def __init__(self, app) -> None:
        self.app = app

    def _every_chat(self) -> list:
        ids: dict = {}
        for notification in self.app.recorder.select_notifications(start=None, limit=10**9):
            if notification.topic.startswith("domain.chat:Chat."):
                ids[notification.originator_id] = None
        return list(ids)

    def expired_mutes(self, now):
        return []

    def quiet_chats(self, before):
        return []

    def overdue_chats(self, now):
        return self._every_chat()

    def overdue_held_chats(self, before):
        return self._every_chat()


class NobodyIdle(OperatorDeadlines):
    def idle_operators(self, now, default_minutes):
        return []


def test_a_pass_marks_and_moves_only_what_is_due_and_a_second_pass_does_nothing(app, clock, sales):
    configure(app, reassign_overdue_after_s=60, inactivity_close_minutes=None)
    anna = operator(app, "anna@example.com", sales)
    ben = operator(app, "ben@example.com", sales, working=False)
    late = taken(app, anna, "conv-1", sales)
    answered = taken(app, anna, "conv-2", sales)
    app.intercept(answered.id, caller=anna)
    app.reply(answered.id, "Hello", caller=anna)
    deadlines = Deadlines(app, EveryChat(app), NobodyIdle())

    clock.advance(seconds=60)
    assert deadlines.tick().total == 0
    clock.advance(seconds=1)
    assert (deadlines.tick().chats_overdue, deadlines.tick().total) == (1, 0)
    app.set_status(ben.operator_id, "working", caller=ben)
    clock.advance(seconds=59)  # 60 s past the SL
    done = deadlines.tick()
    assert (done.chats_overdue, done.overdue_reassigned, done.total) == (0, 1, 1)
    assert deadlines.tick().total == 0

    assert app.get_chat(late.id).operator_id == ben.operator_id
    assert app.get_chat(answered.id).operator_id == anna.operator_id
    assert "ResponseOverdue" not in event_names(app, answered.id)
