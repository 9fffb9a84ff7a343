"""Private notes on a chat, and the reassign comment and notice: the domain and the use cases."""

from __future__ import annotations

from uuid import uuid4

import pytest
from eventsourcing.domain import Snapshot
from hypothesis import given
from hypothesis import strategies as st

from application.errors import Forbidden
from domain.chat_notes import MAX_NOTE
from domain.errors import InvalidValue
from domain.system_texts import BUILT_IN
from tests.unit.chat_lifecycle_helpers import (
    OPERATOR_ID,
    T0,
    active_chat,
    drain,
    minutes,
    names,
    operator_actor,
    rebuilt,
    request_chat,
)
from tests.unit.helpers import (
    ADMIN,
    BOT,
    configure,
    event_names,
    intercepted_chat,
    operator,
    recorded_since,
)

# -- the domain -------------------------------------------------------------------------------


def test_a_note_is_an_event_of_its_own_and_never_a_message():
    chat = active_chat()
    drain(chat)
    note_id = uuid4()

    chat.add_note(
        note_id,
        "VIP, be kind",
        author_id=OPERATOR_ID,
        at=minutes(1),
        actor=operator_actor(OPERATOR_ID),
    )

    events = drain(chat)
    assert names(events) == ["NoteAdded"]
    assert chat.notes == [
        {
            "id": note_id,
            "author_id": OPERATOR_ID,
            "text": "VIP, be kind",
            "actor": operator_actor(OPERATOR_ID),
            "at": minutes(1),
        }
    ]
    assert all(m["text"] != "VIP, be kind" for m in chat.messages)


@pytest.mark.parametrize("text", ["", "   ", "x" * (MAX_NOTE + 1), "a\x00b", None, 5])
def test_a_note_needs_bounded_text(text):
    chat = active_chat()
    drain(chat)

    with pytest.raises(InvalidValue):
        chat.add_note(uuid4(), text, author_id=None, at=T0, actor="admin:root")

    assert drain(chat) == [] and chat.notes == ()


@given(
    st.lists(
        st.text(min_size=1, max_size=50).filter(lambda t: t.strip() and "\x00" not in t), max_size=5
    )
)
def test_notes_are_the_same_when_rebuilt_from_events_or_a_snapshot(texts):
    chat = request_chat()
    for text in texts:
        chat.add_note(uuid4(), text, author_id=None, at=T0, actor="admin:root")
    events = drain(chat)

    assert rebuilt(events).notes == chat.notes
    assert [n["text"] for n in chat.notes] == texts
    assert Snapshot.take(chat).mutate(None).notes == chat.notes


def test_a_chat_snapshot_from_before_notes_has_none():
    chat = active_chat()
    drain(chat)
    snapshot = Snapshot.take(chat)
    old_state = {k: v for k, v in snapshot.state.items() if k != "notes"}

    loaded = type(snapshot)(**{**snapshot.__dict__, "state": old_state}).mutate(None)

    assert list(loaded.notes) == []


# -- the use cases ----------------------------------------------------------------------------


def test_staff_who_see_the_chat_add_notes(app, sales):
    chat, anna = intercepted_chat(app, sales)

    note = app.add_note(chat.id, "Asked about a refund", caller=anna).value
    app.add_note(chat.id, "Refund approved", caller=ADMIN)

    loaded = app.get_chat(chat.id)
    assert [n["text"] for n in loaded.notes] == ["Asked about a refund", "Refund approved"]
    assert note["author_id"] == anna.operator_id
    assert event_names(app, chat.id)[-2:] == ["NoteAdded", "NoteAdded"]


def test_an_operator_who_may_not_see_the_chat_adds_no_note(app, sales, support):
    chat, _ = intercepted_chat(app, sales)
    stranger = operator(app, "sam@example.com", support)
    before = app.head()

    with pytest.raises(Forbidden):
        app.add_note(chat.id, "Not mine", caller=stranger)

    assert app.head() == before


def test_a_note_too_long_records_nothing(app, sales):
    chat, anna = intercepted_chat(app, sales)
    before = app.head()

    with pytest.raises(InvalidValue):
        app.add_note(chat.id, "x" * (MAX_NOTE + 1), caller=anna)

    assert app.head() == before


# -- the reassign comment and notice ----------------------------------------------------------


def test_a_reassign_comment_is_a_note_and_the_client_is_told_who_took_over(app, sales):
    chat, _ = intercepted_chat(app, sales)
    ben = operator(app, "ben@example.com", sales)
    before = app.head()

    app.reassign(chat.id, caller=ADMIN, operator_id=ben.operator_id, comment="Needs billing")

    loaded = app.get_chat(chat.id)
    assert [n["text"] for n in loaded.notes] == ["Needs billing"]
    assert loaded.messages[-1]["author"] == "system"
    assert loaded.messages[-1]["text"] == BUILT_IN["en"]["transfer"].format(first_name="Ben")
    recorded = [name for _, name in recorded_since(app, before)]
    assert recorded.count("NoteAdded") == 1 and "MessagePosted" in recorded


def test_the_notice_is_in_the_clients_language_and_may_be_turned_off(app, sales):
    chat = app.handoff(
        bot=BOT, external_id="conv-uk", client={"id": "c", "language": "uk"}, group_id=sales.id
    ).value
    anna = operator(app, "anna@example.com", sales)
    ben = operator(app, "ben@example.com", sales)
    app.reassign(chat.id, caller=ADMIN, operator_id=anna.operator_id)
    # Still with the bot: the client has met no operator, and is told nothing.
    assert app.get_chat(chat.id).messages == []
    app.intercept(chat.id, caller=anna)
    app.reassign(chat.id, caller=ADMIN, operator_id=ben.operator_id)
    assert app.get_chat(chat.id).messages[-1]["text"].startswith("Ваш діалог передано")

    configure(app, notify_operator_change=False)
    app.reassign(chat.id, caller=ADMIN, operator_id=anna.operator_id)

    assert event_names(app, chat.id)[-1] == "Reassigned"


def test_a_reassign_comment_too_long_refuses_the_whole_reassign(app, sales):
    chat, anna = intercepted_chat(app, sales)
    ben = operator(app, "ben@example.com", sales)
    before = app.head()

    with pytest.raises(InvalidValue):
        app.reassign(chat.id, caller=ADMIN, operator_id=ben.operator_id, comment="x" * 5001)

    assert app.head() == before
    assert app.get_chat(chat.id).operator_id == anna.operator_id


def test_the_audit_timeline_shows_a_note_as_private():
    from infrastructure.audit import timeline

    chat = active_chat()
    drain(chat)
    chat.add_note(uuid4(), "Call back at 5", author_id=None, at=minutes(2), actor="admin:root")

    (line,) = timeline(drain(chat))

    assert "NoteAdded" in line and line.endswith("private note: 'Call back at 5'")
