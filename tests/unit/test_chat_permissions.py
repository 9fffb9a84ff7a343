"""Who may act on a chat (invariants 1 and 5), and closing it when a topic is required."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from domain.chat import Chat
from domain.chat_status import ACTIVE, CLOSED
from domain.errors import ChatClosed, NotAssigned, TopicRequired
from tests.unit.chat_lifecycle_helpers import (
    GROUP_ID,
    OPERATOR_ID,
    OTHER_OPERATOR_ID,
    SUPERVISOR,
    SYSTEM,
    T0,
    active_chat,
    assigned_chat,
    change_topic,
    close,
    delete,
    drain,
    edit,
    minutes,
    mute,
    names,
    reply,
    request_chat,
    unmute,
)

# -- who may act: the operator commands share invariant 1 and invariant 5 ----------------------

# Each command as (operator_id, supervisor) -> None, on a chat prepared so that it would record
# an event when allowed (unmute needs a mute to lift; change_topic a new topic).
COMMANDS: dict[str, tuple[Callable[[Chat], None], Callable[..., Any]]] = {
    "mute": (lambda chat: None, lambda chat, **who: mute(chat, 30, **who)),
    "unmute": (lambda chat: mute(chat), lambda chat, **who: unmute(chat, **who)),
    "change_topic": (lambda chat: None, lambda chat, **who: change_topic(chat, "cards", **who)),
    "close": (lambda chat: None, lambda chat, **who: close(chat, **who)),
}
COMMAND_EVENTS = {
    "mute": "Muted",
    "unmute": "Unmuted",
    "change_topic": "TopicChanged",
    "close": "Closed",
}


def prepared(name: str, chat: Chat) -> tuple[Chat, Callable[..., Any]]:
    prepare, command = COMMANDS[name]
    prepare(chat)
    drain(chat)
    return chat, command


@pytest.mark.parametrize("name", COMMANDS)
@pytest.mark.parametrize("make_chat", [assigned_chat, active_chat], ids=["assigned", "active"])
def test_the_chats_own_operator_may_act(name, make_chat):
    chat, command = prepared(name, make_chat())

    command(chat, operator_id=OPERATOR_ID, supervisor=False)

    assert names(drain(chat)) == [COMMAND_EVENTS[name]]


@pytest.mark.parametrize("name", COMMANDS)
@pytest.mark.parametrize("operator_id", [OTHER_OPERATOR_ID, None], ids=["another", "nobody"])
def test_another_operator_may_not_act_and_nothing_is_recorded(name, operator_id):
    chat, command = prepared(name, active_chat())
    before = (chat.status, chat.muted, chat.topic, chat.version)

    with pytest.raises(NotAssigned):
        command(chat, operator_id=operator_id, supervisor=False)

    assert drain(chat) == []
    assert (chat.status, chat.muted, chat.topic, chat.version) == before


@pytest.mark.parametrize("name", COMMANDS)
@pytest.mark.parametrize("operator_id", [OTHER_OPERATOR_ID, None], ids=["staff", "admin"])
def test_a_supervisor_may_act_on_any_chat(name, operator_id):
    chat, command = prepared(name, active_chat())

    command(chat, operator_id=operator_id, supervisor=True)

    assert names(drain(chat)) == [COMMAND_EVENTS[name]]


def test_a_supervisor_may_act_on_a_queued_chat_that_nobody_holds():
    chat = request_chat()
    chat.queue(GROUP_ID, at=T0, actor=SYSTEM)
    drain(chat)

    mute(chat, 5, operator_id=None, supervisor=True)
    change_topic(chat, "cards", operator_id=None, supervisor=True)
    holder = close(chat, operator_id=None, supervisor=True)

    assert holder is None
    assert names(drain(chat)) == ["Muted", "TopicChanged", "Closed"]


@pytest.mark.parametrize("name", COMMANDS)
@pytest.mark.parametrize("supervisor", [False, True], ids=["operator", "supervisor"])
def test_a_closed_chat_refuses_every_operator_command(name, supervisor):
    chat, command = prepared(name, active_chat())  # for unmute: a mute left on at close
    close(chat, at=minutes(5))
    drain(chat)

    with pytest.raises(ChatClosed):
        command(chat, operator_id=OPERATOR_ID, supervisor=supervisor)

    assert drain(chat) == []
    assert chat.status == CLOSED


def test_a_closed_chat_refuses_reassign_and_message_edits():
    chat = active_chat()
    message_id = reply(chat)
    close(chat)
    drain(chat)

    with pytest.raises(ChatClosed):
        chat.reassign(operator_id=OTHER_OPERATOR_ID, group_id=GROUP_ID, at=T0, actor=SUPERVISOR)
    with pytest.raises(ChatClosed):
        chat.reassign(operator_id=None, group_id=GROUP_ID, at=T0, actor=SUPERVISOR)
    with pytest.raises(ChatClosed):
        edit(chat, message_id, "Hello again")
    with pytest.raises(ChatClosed):
        delete(chat, message_id)
    assert drain(chat) == []


# -- close with a required topic --------------------------------------------------------------


def test_close_without_a_topic_is_refused_when_the_company_requires_one():
    chat = active_chat(topic=None)

    with pytest.raises(TopicRequired):
        close(chat, require_topic=True)

    assert drain(chat) == []
    assert chat.status == ACTIVE


def test_a_supervisor_too_needs_a_topic_to_close_when_one_is_required():
    chat = active_chat(topic=None)

    with pytest.raises(TopicRequired):
        close(chat, operator_id=None, supervisor=True, require_topic=True)


def test_close_with_a_topic_passes_the_requirement():
    chat = active_chat(topic=None)
    change_topic(chat, "cards")

    holder = close(chat, require_topic=True, at=minutes(4))

    assert holder == OPERATOR_ID
    assert chat.status == CLOSED
    assert chat.closed_at == minutes(4)
    assert names(drain(chat)) == ["TopicChanged", "Closed"]


def test_close_without_a_topic_is_fine_when_none_is_required():
    chat = active_chat(topic=None)

    close(chat, require_topic=False)

    assert chat.status == CLOSED


def test_the_topic_requirement_does_not_let_another_operator_close():
    chat = active_chat()

    with pytest.raises(NotAssigned):
        close(chat, operator_id=OTHER_OPERATOR_ID, require_topic=True)
