"""Reassigning a chat, to another operator or back to a group's routing; changing its topic."""

from __future__ import annotations

import pytest

from domain.chat_status import ACTIVE, ASSIGNED, QUEUED
from domain.errors import AlreadyIntercepted, InvalidValue
from domain.texts import MAX_TOPIC
from tests.unit.chat_lifecycle_helpers import (
    GROUP_ID,
    OPERATOR_ID,
    OTHER_GROUP_ID,
    OTHER_OPERATOR_ID,
    SUPERVISOR,
    SYSTEM,
    T0,
    active_chat,
    assigned_chat,
    change_topic,
    drain,
    minutes,
    names,
    operator_actor,
    rebuilt,
    request_chat,
)

# -- reassign ---------------------------------------------------------------------------------


def test_reassign_to_another_operator_records_who_had_it_and_who_has_it_now():
    chat = assigned_chat()

    holder = chat.reassign(
        operator_id=OTHER_OPERATOR_ID, group_id=GROUP_ID, at=minutes(3), actor=SUPERVISOR
    )

    events = drain(chat)
    assert holder == OPERATOR_ID, "the operator whose load must drop"
    assert names(events) == ["Reassigned"]
    assert events[0].from_operator_id == OPERATOR_ID
    assert events[0].operator_id == OTHER_OPERATOR_ID
    assert events[0].group_id == GROUP_ID
    assert events[0].actor == SUPERVISOR
    assert chat.operator_id == OTHER_OPERATOR_ID
    assert chat.assigned_at == minutes(3)


def test_an_assigned_chat_reassigned_to_another_operator_stays_assigned():
    chat = assigned_chat()

    chat.reassign(operator_id=OTHER_OPERATOR_ID, group_id=GROUP_ID, at=T0, actor=SUPERVISOR)

    assert chat.status == ASSIGNED


def test_an_active_chat_reassigned_to_another_operator_stays_active():
    chat = active_chat()

    chat.reassign(operator_id=OTHER_OPERATOR_ID, group_id=GROUP_ID, at=T0, actor=SUPERVISOR)

    assert chat.status == ACTIVE
    assert chat.operator_id == OTHER_OPERATOR_ID


def test_reassign_can_move_the_chat_to_another_group_with_the_operator():
    chat = active_chat()

    chat.reassign(operator_id=OTHER_OPERATOR_ID, group_id=OTHER_GROUP_ID, at=T0, actor=SUPERVISOR)

    assert (chat.operator_id, chat.group_id) == (OTHER_OPERATOR_ID, OTHER_GROUP_ID)


@pytest.mark.parametrize("make_chat", [assigned_chat, active_chat], ids=["assigned", "active"])
def test_reassign_to_the_operator_who_already_has_it_is_refused(make_chat):
    chat = make_chat()

    with pytest.raises(AlreadyIntercepted):
        chat.reassign(operator_id=OPERATOR_ID, group_id=GROUP_ID, at=T0, actor=SUPERVISOR)

    assert drain(chat) == []
    assert chat.operator_id == OPERATOR_ID


@pytest.mark.parametrize("make_chat", [assigned_chat, active_chat], ids=["assigned", "active"])
def test_reassign_to_a_group_leaves_the_chat_queued_without_an_operator(make_chat):
    chat = make_chat()

    holder = chat.reassign(operator_id=None, group_id=OTHER_GROUP_ID, at=T0, actor=SUPERVISOR)

    events = drain(chat)
    assert holder == OPERATOR_ID
    assert names(events) == ["Reassigned"]
    assert (events[0].from_operator_id, events[0].operator_id) == (OPERATOR_ID, None)
    assert chat.status == QUEUED
    assert chat.operator_id is None
    assert chat.group_id == OTHER_GROUP_ID


def test_after_an_intercept_whoever_is_assigned_next_continues_an_active_chat():
    chat = active_chat()
    chat.reassign(operator_id=None, group_id=GROUP_ID, at=T0, actor=SUPERVISOR)

    chat.assign(OTHER_OPERATOR_ID, GROUP_ID, at=minutes(1), actor=SYSTEM)

    assert chat.status == ACTIVE
    assert chat.operator_id == OTHER_OPERATOR_ID


def test_a_chat_never_intercepted_is_only_assigned_after_going_back_to_routing():
    chat = assigned_chat()
    chat.reassign(operator_id=None, group_id=GROUP_ID, at=T0, actor=SUPERVISOR)

    chat.assign(OTHER_OPERATOR_ID, GROUP_ID, at=minutes(1), actor=SYSTEM)

    assert chat.status == ASSIGNED


def test_a_queued_chat_reassigned_to_an_operator_had_nobody_to_release():
    chat = request_chat()
    chat.queue(GROUP_ID, at=T0, actor=SYSTEM)
    drain(chat)

    holder = chat.reassign(
        operator_id=OTHER_OPERATOR_ID, group_id=GROUP_ID, at=T0, actor=SUPERVISOR
    )

    assert holder is None
    assert chat.status == ASSIGNED
    assert drain(chat)[0].from_operator_id is None


def test_a_reassigned_chat_is_the_same_when_rebuilt_from_its_events():
    chat = request_chat()
    chat.queue(GROUP_ID, at=T0, actor=SYSTEM)
    chat.assign(OPERATOR_ID, GROUP_ID, at=T0, actor=SYSTEM)
    chat.intercept(OPERATOR_ID, at=T0, actor=operator_actor(OPERATOR_ID))
    chat.reassign(operator_id=None, group_id=OTHER_GROUP_ID, at=minutes(1), actor=SUPERVISOR)
    chat.queue(OTHER_GROUP_ID, at=minutes(1), actor=SYSTEM)

    copy = rebuilt(drain(chat))

    assert (copy.status, copy.operator_id, copy.group_id) == (QUEUED, None, OTHER_GROUP_ID)
    assert copy.intercepted_at == T0


# -- topic ------------------------------------------------------------------------------------


def test_change_topic_records_both_topic_and_subtopic():
    chat = active_chat()

    changed = change_topic(chat, "cards", "blocked card", at=minutes(2))

    events = drain(chat)
    assert changed is True
    assert names(events) == ["TopicChanged"]
    assert (events[0].topic, events[0].subtopic) == ("cards", "blocked card")
    assert events[0].timestamp == minutes(2)
    assert (chat.topic, chat.subtopic) == ("cards", "blocked card")


def test_an_unchanged_topic_records_nothing():
    chat = active_chat()  # topic "billing", no subtopic

    assert change_topic(chat, "billing", None) is False
    assert drain(chat) == []


def test_none_clears_a_topic():
    chat = active_chat()

    change_topic(chat, None, None)

    assert chat.topic is None
    assert names(drain(chat)) == ["TopicChanged"]


@pytest.mark.parametrize(
    "bad",
    ["", "   ", "x" * (MAX_TOPIC + 1), "card\x00s", 5],
    ids=["empty", "blank", "too long", "NUL", "not text"],
)
@pytest.mark.parametrize("field", ["topic", "subtopic"])
def test_an_invalid_topic_or_subtopic_is_refused(field, bad):
    chat = active_chat()
    values = {"topic": "cards", "subtopic": "blocked"} | {field: bad}

    with pytest.raises(InvalidValue):
        change_topic(chat, values["topic"], values["subtopic"])

    assert drain(chat) == []
    assert (chat.topic, chat.subtopic) == ("billing", None)


def test_a_topic_of_the_longest_length_is_accepted():
    chat = active_chat()

    change_topic(chat, "x" * MAX_TOPIC)

    assert chat.topic == "x" * MAX_TOPIC
    assert MAX_TOPIC == 200
