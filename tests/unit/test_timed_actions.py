"""The engine's timed actions: lifting mutes, closing chats whose client went silent, marking
idle operators absent, over the in-memory event store.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from application.auth import Principal
from domain.chat import ACTIVE, ASSIGNED, CLOSED, QUEUED, Chat
from domain.settings import DEFAULTS
from tests.unit.helpers import (
    BOT,
    configure,
    event_names,
    handoff,
    intercepted_chat,
    load,
    operator,
    taken,
)

SYSTEM = "system"


# -- the engine lifts timed mutes -------------------------------------------------------------


def test_the_engine_lifts_a_timed_mute_only_once_its_time_is_up(app, clock, sales):
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)
    app.mute(chat.id, caller=anna, minutes=10)
    clock.advance(minutes=9, seconds=59)
    before = app.head()

    early = app.lift_expired_mute(chat.id)
    assert (early.value, early.recorded, app.head()) == (False, False, before)

    clock.advance(seconds=1)
    lifted = app.lift_expired_mute(chat.id)
    assert (lifted.value, lifted.recorded) == (True, True)
    assert app.get_chat(chat.id).muted is False
    assert app.chat_events(chat.id)[-1].actor == SYSTEM

    before = app.head()
    again = app.lift_expired_mute(chat.id)
    assert (again.value, again.recorded, app.head()) == (False, False, before)


def test_the_engine_never_lifts_a_mute_without_an_end_nor_acts_on_an_unknown_chat(
    app, clock, sales
):
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)
    app.mute(chat.id, caller=anna, minutes=None)
    clock.advance(days=30)
    before = app.head()

    assert app.lift_expired_mute(chat.id).value is False
    assert app.lift_expired_mute(uuid4()).value is False
    assert app.head() == before
    assert app.get_chat(chat.id).muted is True


# -- the engine closes chats whose client went silent -----------------------------------------


@pytest.fixture
def intercepted(app, sales) -> tuple[Chat, Principal]:
    """An active chat: Anna intercepted it (and greeted the client) at the clock's start."""
    return intercepted_chat(app, sales)


def test_an_active_chat_closes_after_fifteen_silent_minutes(app, clock, intercepted):
    chat, anna = intercepted
    clock.advance(minutes=14, seconds=59)
    before = app.head()

    early = app.close_if_inactive(chat.id)
    assert (early.value, early.recorded, app.head()) == (False, False, before)
    assert app.get_chat(chat.id).status == ACTIVE

    clock.advance(seconds=1)
    done = app.close_if_inactive(chat.id)

    stored = app.get_chat(chat.id)
    assert (done.value, done.recorded) == (True, True)
    assert (stored.status, stored.close_reason, stored.closed_by) == (
        CLOSED,
        "inactivity",
        {"kind": SYSTEM},
    )
    assert load(app, anna) == 0, "closing releases the operator's place"
    assert done.position == app.head()


def test_closing_for_inactivity_happens_once(app, clock, intercepted):
    chat, _ = intercepted
    clock.advance(minutes=15)
    app.close_if_inactive(chat.id)
    clock.advance(minutes=15)
    before = app.head()

    again = app.close_if_inactive(chat.id)

    assert (again.value, again.recorded, app.head()) == (False, False, before)
    assert event_names(app, chat.id).count("Closed") == 1


def test_a_chat_whose_client_awaits_an_answer_is_never_closed_for_inactivity(
    app, clock, intercepted
):
    chat, _ = intercepted
    app.relay_client_message(chat.id, "hello? anyone?", bot=BOT)
    clock.advance(hours=5)

    assert app.close_if_inactive(chat.id).value is False
    assert app.get_chat(chat.id).status == ACTIVE


def test_the_silence_counts_from_the_last_message(app, clock, intercepted):
    chat, anna = intercepted
    clock.advance(minutes=1)
    app.relay_client_message(chat.id, "my card is blocked", bot=BOT)
    clock.advance(minutes=9)
    app.reply(chat.id, "Unblocked it. Anything else?", caller=anna)  # at +10

    clock.advance(minutes=14, seconds=59)
    assert app.close_if_inactive(chat.id).value is False
    clock.advance(seconds=1)
    assert app.close_if_inactive(chat.id).value is True


def test_the_inactivity_limit_follows_the_company_setting(app, clock, intercepted):
    chat, _ = intercepted
    configure(app, inactivity_close_minutes=5)
    clock.advance(minutes=5)

    assert app.close_if_inactive(chat.id).value is True


def test_no_chat_is_closed_for_inactivity_when_the_setting_is_off(app, clock, intercepted):
    chat, _ = intercepted
    configure(app, inactivity_close_minutes=None)
    clock.advance(days=3)
    before = app.head()

    assert app.close_if_inactive(chat.id).value is False
    assert app.head() == before
    assert app.get_chat(chat.id).status == ACTIVE


def test_only_active_chats_are_closed_for_inactivity(app, clock, sales):
    anna = operator(app, "anna@example.com", sales, max_chats=1)
    assigned = taken(app, anna, "conv-1", sales)  # the bot still talks: never intercepted
    queued = handoff(app, "conv-2", sales)
    assert queued.status == QUEUED
    clock.advance(hours=2)
    before = app.head()

    assert app.close_if_inactive(assigned.id).value is False
    assert app.close_if_inactive(queued.id).value is False
    assert app.close_if_inactive(uuid4()).value is False
    assert app.head() == before
    assert app.get_chat(assigned.id).status == ASSIGNED


def test_the_rating_prompt_is_posted_when_the_engine_closes_too(app, clock, intercepted):
    chat, _ = intercepted
    configure(app, rating_prompt=True)
    clock.advance(minutes=15)

    app.close_if_inactive(chat.id)

    stored = app.get_chat(chat.id)
    assert stored.messages[-1]["text"] == DEFAULTS["rating_prompt_text"]
    assert event_names(app, chat.id)[-2:] == ["MessagePosted", "Closed"]


# -- the engine marks idle operators absent ---------------------------------------------------


def test_a_working_operator_idle_since_before_the_limit_is_marked_absent(app, clock, sales):
    anna = operator(app, "anna@example.com", sales)  # working since the clock's start
    chat = taken(app, anna, "conv-1", sales)
    started = clock.now()
    clock.advance(minutes=30)

    done = app.mark_absent_if_idle(anna.operator_id, idle_since=started)

    stored = app.get_operator(anna.operator_id)
    assert (done.value, done.recorded) == (True, True)
    assert stored.status == "absent"
    assert stored.status_since == clock.now()
    assert stored.chat_ids == [chat.id], "an absent operator keeps their chats"
    assert app.get_chat(chat.id).operator_id == anna.operator_id


def test_marking_absent_happens_once(app, clock, sales):
    anna = operator(app, "anna@example.com", sales)
    clock.advance(minutes=30)
    app.mark_absent_if_idle(anna.operator_id, idle_since=clock.now())
    clock.advance(minutes=30)
    before = app.head()

    again = app.mark_absent_if_idle(anna.operator_id, idle_since=clock.now())

    assert (again.value, again.recorded, app.head()) == (False, False, before)


def test_an_operator_whose_status_changed_after_idle_since_is_left_alone(app, clock, sales):
    anna = operator(app, "anna@example.com", sales)
    idle_since = clock.now() - timedelta(seconds=1)  # what a lagging read model last saw
    clock.advance(minutes=30)
    before = app.head()

    done = app.mark_absent_if_idle(anna.operator_id, idle_since=idle_since)

    assert (done.value, app.head()) == (False, before)
    assert app.get_operator(anna.operator_id).status == "working"


@pytest.mark.parametrize("status", ["break", "leaving", "offline"])
def test_only_working_operators_are_marked_absent(app, clock, sales, status):
    anna = operator(app, "anna@example.com", sales)
    app.set_status(anna.operator_id, status, caller=anna)
    clock.advance(hours=1)
    before = app.head()

    assert app.mark_absent_if_idle(anna.operator_id, idle_since=clock.now()).value is False
    assert app.mark_absent_if_idle(uuid4(), idle_since=clock.now()).value is False
    assert app.head() == before
    assert app.get_operator(anna.operator_id).status == status


def test_an_absent_operator_gets_no_new_chats(app, clock, sales):
    anna = operator(app, "anna@example.com", sales)
    app.mark_absent_if_idle(anna.operator_id, idle_since=clock.now())

    chat = handoff(app, "conv-1", sales)

    assert chat.status == QUEUED
    assert load(app, anna) == 0
