"""A chat's messages after the handoff: the client's turn, and editing or deleting messages."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.errors import EditsForbidden, InvalidValue, NotAssigned, UnknownMessage
from domain.messages import transcript_message_id
from domain.texts import MAX_TEXT
from tests.unit.chat_lifecycle_helpers import (
    BOT,
    GROUP_ID,
    OPERATOR_ID,
    OTHER_OPERATOR_ID,
    SYSTEM,
    T0,
    active_chat,
    delete,
    drain,
    edit,
    minutes,
    names,
    operator_actor,
    rebuilt,
    reply,
    request_chat,
)

# -- client turn ------------------------------------------------------------------------------


def test_the_client_turn_opens_when_the_client_wrote_last():
    chat = active_chat()
    assert chat.client_turn_open is False
    assert chat.last_client_message_at is None

    chat.relay_client_message(uuid4(), "hi", at=minutes(1), actor=BOT)
    assert chat.client_turn_open is True
    chat.post_system_message(uuid4(), "Hello! My name is Anna.", at=minutes(2), actor=SYSTEM)
    chat.post_bot_message(uuid4(), "one moment", at=minutes(3), actor=BOT)
    assert chat.client_turn_open is True, "system and bot lines answer nobody"

    reply(chat, at=minutes(4))
    assert chat.client_turn_open is False
    assert chat.last_client_message_at == minutes(1)

    chat.relay_client_message(uuid4(), "thanks", at=minutes(5), actor=BOT)
    assert chat.client_turn_open is True
    assert chat.last_client_message_at == minutes(5)


def test_a_client_line_in_the_transcript_opens_the_client_turn():
    chat = request_chat(transcript=[{"author": "client", "text": "help", "at": minutes(-1)}])

    assert chat.client_turn_open is True
    assert chat.last_client_message_at == minutes(-1)


# -- editing and deleting messages ------------------------------------------------------------


def test_an_operator_edits_their_own_message_and_the_original_stays_in_the_log():
    chat = active_chat()
    message_id = reply(chat, "Helo")
    posted = drain(chat)

    edit(chat, message_id, "Hello", at=minutes(1))

    events = drain(chat)
    assert names(events) == ["MessageEdited"]
    assert (events[0].message_id, events[0].text) == (message_id, "Hello")
    assert chat.message(message_id)["text"] == "Hello"
    assert chat.message(message_id)["edited_at"] == minutes(1)
    assert posted[-1].text == "Helo", "the MessagePosted event keeps the first text"


def test_editing_to_the_same_text_records_nothing():
    chat = active_chat()
    message_id = reply(chat, "Hello")
    drain(chat)

    edit(chat, message_id, "Hello")

    assert drain(chat) == []


def test_an_operator_deletes_their_own_message_but_the_log_keeps_what_was_said():
    chat = request_chat()
    chat.queue(GROUP_ID, at=T0, actor=SYSTEM)
    chat.assign(OPERATOR_ID, GROUP_ID, at=T0, actor=SYSTEM)
    chat.intercept(OPERATOR_ID, at=T0, actor=operator_actor(OPERATOR_ID))
    message_id = reply(chat, "my password is hunter2")

    delete(chat, message_id, at=minutes(1))

    events = drain(chat)
    assert names(events)[-2:] == ["MessagePosted", "MessageDeleted"]
    assert events[-2].text == "my password is hunter2"
    assert events[-1].message_id == message_id
    assert chat.message(message_id)["text"] == ""
    assert chat.message(message_id)["deleted_at"] == minutes(1)
    copy = rebuilt(events)
    assert copy.message(message_id)["text"] == ""
    assert [m["id"] for m in copy.messages] == [message_id], "a deleted message keeps its place"


def test_a_deleted_message_is_neither_edited_nor_deleted_again():
    chat = active_chat()
    message_id = reply(chat)
    delete(chat, message_id)
    drain(chat)

    with pytest.raises(InvalidValue):
        edit(chat, message_id, "Hello again")
    with pytest.raises(InvalidValue):
        delete(chat, message_id)
    assert drain(chat) == []
    assert chat.message(message_id)["text"] == ""


def test_an_operator_may_not_edit_or_delete_another_operators_message():
    chat = active_chat()
    theirs = reply(chat, "from the supervisor", operator_id=OTHER_OPERATOR_ID, supervisor=True)
    drain(chat)

    with pytest.raises(NotAssigned):
        edit(chat, theirs, "changed")
    with pytest.raises(NotAssigned):
        delete(chat, theirs)
    assert drain(chat) == []
    assert chat.message(theirs)["text"] == "from the supervisor"


@pytest.mark.parametrize("operator_id", [None, OTHER_OPERATOR_ID], ids=["admin", "staff"])
def test_a_supervisor_may_edit_and_delete_any_operators_message(operator_id):
    chat = active_chat()
    first, second = reply(chat, "one"), reply(chat, "two")
    drain(chat)

    edit(chat, first, "ONE", operator_id=operator_id, supervisor=True)
    delete(chat, second, operator_id=operator_id, supervisor=True)

    assert names(drain(chat)) == ["MessageEdited", "MessageDeleted"]
    assert [m["text"] for m in chat.messages] == ["ONE", ""]


@pytest.mark.parametrize("author", ["client", "bot", "system", "transcript"])
@pytest.mark.parametrize("supervisor", [False, True], ids=["operator", "supervisor"])
def test_client_bot_and_system_messages_are_never_edited_or_deleted(author, supervisor):
    chat = active_chat(transcript=[{"author": "client", "text": "from the transcript"}])
    message_id = uuid4()
    if author == "client":
        chat.relay_client_message(message_id, "hi", at=T0, actor=BOT)
    elif author == "bot":
        chat.post_bot_message(message_id, "hi", at=T0, actor=BOT)
    elif author == "system":
        chat.post_system_message(message_id, "hi", at=T0, actor=SYSTEM)
    else:
        message_id = transcript_message_id(chat.id, 0)
    drain(chat)
    text = chat.message(message_id)["text"]

    with pytest.raises(NotAssigned):
        edit(chat, message_id, "changed", supervisor=supervisor)
    with pytest.raises(NotAssigned):
        delete(chat, message_id, supervisor=supervisor)
    assert drain(chat) == []
    assert chat.message(message_id)["text"] == text


@pytest.mark.parametrize("supervisor", [False, True], ids=["operator", "supervisor"])
def test_no_edits_or_deletes_where_the_company_forbids_them(supervisor):
    chat = active_chat()
    message_id = reply(chat, "Helo")
    drain(chat)

    with pytest.raises(EditsForbidden):
        edit(chat, message_id, "Hello", supervisor=supervisor, allowed=False)
    with pytest.raises(EditsForbidden):
        delete(chat, message_id, supervisor=supervisor, allowed=False)
    assert drain(chat) == []
    assert chat.message(message_id)["text"] == "Helo"


@pytest.mark.parametrize(
    "text", ["", "   ", "a\x00b", "x" * (MAX_TEXT + 1)], ids=["empty", "blank", "NUL", "long"]
)
def test_an_edit_needs_valid_text(text):
    chat = active_chat()
    message_id = reply(chat)
    drain(chat)

    with pytest.raises(InvalidValue):
        edit(chat, message_id, text)
    assert drain(chat) == []


def test_an_unknown_message_is_neither_edited_nor_deleted():
    chat = active_chat()

    with pytest.raises(UnknownMessage):
        edit(chat, uuid4(), "Hello")
    with pytest.raises(UnknownMessage):
        delete(chat, uuid4())
