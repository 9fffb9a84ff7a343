"""What a message carries besides text (attachments, buttons, a pressed button's value), the
client's profile at a handoff, who closed a chat, and events stored before any of these."""

from __future__ import annotations

from dataclasses import replace
from uuid import uuid4

import pytest
from eventsourcing.domain import Snapshot
from hypothesis import given
from hypothesis import strategies as st

from domain.actors import closer
from domain.chat import Chat
from domain.client_profile import (
    MAX_CUSTOM_FIELDS,
    MAX_CUSTOM_KEY,
    MAX_CUSTOM_VALUE,
    client_profile,
)
from domain.errors import InvalidValue
from domain.messages import (
    MAX_ATTACHMENTS,
    MAX_BUTTON_TEXT,
    MAX_BUTTON_VALUE,
    MAX_BUTTONS,
    MAX_FILE_NAME,
    MAX_FILE_SIZE,
    display_text,
)
from domain.texts import MAX_URL
from tests.clock import FakeClock
from tests.unit.fakes import in_memory_switchboard
from tests.unit.test_chat import (
    BOT,
    OPERATOR_ID,
    T0,
    active_chat,
    drain,
    minutes,
    operator_actor,
    request_chat,
)

PHOTO = {"url": "https://cdn.example.com/a/photo.jpg", "name": "photo.jpg", "mime": "image/jpeg"}


def relay(chat: Chat, text: str = "", **content) -> dict:
    chat.relay_client_message(uuid4(), text, at=T0, actor=BOT, **content)
    return chat.messages[-1]


# -- attachments ------------------------------------------------------------------------------


def test_a_client_message_may_be_attachments_only():
    chat = active_chat()

    message = relay(chat, attachments=[PHOTO | {"size": 2048}])

    assert message["text"] == ""
    assert message["attachments"] == [PHOTO | {"size": 2048}]
    assert [type(e).__name__ for e in drain(chat)] == ["MessagePosted"]


def test_operators_send_attachments_too_and_missing_fields_are_none():
    chat = active_chat()

    chat.reply(
        uuid4(),
        OPERATOR_ID,
        "the invoice",
        supervisor=False,
        at=T0,
        actor=operator_actor(OPERATOR_ID),
        attachments=[{"url": "http://files.example.com/invoice"}],
    )

    assert chat.messages[-1]["attachments"] == [
        {"url": "http://files.example.com/invoice", "name": None, "mime": None, "size": None}
    ]


@pytest.mark.parametrize(
    "attachments",
    [
        [{"name": "no-url.pdf"}],
        [{"url": ""}],
        [{"url": "ftp://example.com/x"}],
        [{"url": "javascript:alert(1)"}],
        [{"url": "https:///no-host"}],
        [{"url": "https://example.com/a b"}],
        [{"url": "https://example.com/" + "x" * MAX_URL}],
        [PHOTO | {"name": "x" * (MAX_FILE_NAME + 1)}],
        [PHOTO | {"name": ""}],
        [PHOTO | {"size": -1}],
        [PHOTO | {"size": MAX_FILE_SIZE + 1}],
        [PHOTO | {"size": True}],
        [PHOTO] * (MAX_ATTACHMENTS + 1),
    ],
    ids=repr,
)
def test_bad_attachments_are_refused_and_record_nothing(attachments):
    chat = active_chat()

    with pytest.raises(InvalidValue):
        relay(chat, "look", attachments=attachments)
    assert drain(chat) == []


def test_a_message_with_neither_text_nor_attachments_is_refused():
    chat = active_chat()

    with pytest.raises(InvalidValue):
        relay(chat, "  ", attachments=[])
    assert drain(chat) == []


def test_the_preview_of_an_attachment_only_message_names_its_attachments():
    unnamed = {"url": "https://example.com/files/report.pdf/"}

    assert display_text("", [PHOTO, unnamed]) == "photo.jpg, report.pdf"
    assert display_text("see this", [PHOTO]) == "see this"


# -- buttons and a pressed button's value -----------------------------------------------------


def test_operators_and_the_system_show_buttons_and_a_value_defaults_to_the_text():
    chat = active_chat()

    chat.reply(
        uuid4(),
        OPERATOR_ID,
        "Solved?",
        supervisor=False,
        at=T0,
        actor=operator_actor(OPERATOR_ID),
        buttons=[{"text": "Yes", "value": "yes"}, {"text": "No"}],
    )
    chat.post_system_message(uuid4(), "Rate us", at=T0, actor="system", buttons=[{"text": "5"}])

    assert chat.messages[-2]["buttons"] == [
        {"text": "Yes", "value": "yes"},
        {"text": "No", "value": "No"},
    ]
    assert chat.messages[-1]["buttons"] == [{"text": "5", "value": "5"}]


@pytest.mark.parametrize(
    "buttons",
    [
        [{"value": "no text"}],
        [{"text": "  "}],
        [{"text": "x" * (MAX_BUTTON_TEXT + 1)}],
        [{"text": "ok", "value": "v" * (MAX_BUTTON_VALUE + 1)}],
        [{"text": "ok"}] * (MAX_BUTTONS + 1),
    ],
    ids=repr,
)
def test_bad_buttons_are_refused_and_record_nothing(buttons):
    chat = active_chat()

    with pytest.raises(InvalidValue):
        chat.reply(
            uuid4(),
            OPERATOR_ID,
            "pick",
            supervisor=False,
            at=T0,
            actor=operator_actor(OPERATOR_ID),
            buttons=buttons,
        )
    assert drain(chat) == []


def test_a_bot_relays_the_pressed_buttons_value_with_the_clients_message():
    chat = active_chat()

    message = relay(chat, "Yes", button_value="yes")

    assert (message["author"], message["text"], message["button_value"]) == ("client", "Yes", "yes")


@pytest.mark.parametrize("value", ["", "v" * (MAX_BUTTON_VALUE + 1), "a\x00b"])
def test_a_bad_button_value_is_refused(value):
    chat = active_chat()

    with pytest.raises(InvalidValue):
        relay(chat, "Yes", button_value=value)
    assert drain(chat) == []


# -- the client's profile ---------------------------------------------------------------------


def test_a_handoff_keeps_the_clients_profile_without_empty_fields():
    chat = request_chat(
        client={
            "id": "tg-1",
            "username": "ann",
            "email": "ann@example.com",
            "photo_url": "https://example.com/ann.png",
            "custom": {"plan": "gold"},
            "phone": None,
        }
    )

    assert chat.client == {
        "id": "tg-1",
        "username": "ann",
        "email": "ann@example.com",
        "photo_url": "https://example.com/ann.png",
        "custom": {"plan": "gold"},
    }


@pytest.mark.parametrize(
    "client",
    [
        {"id": "c", "email": "no-at-sign"},
        {"id": "c", "photo_url": "file:///etc/passwd"},
        {"id": "c", "username": ""},
        {"id": "c", "custom": ["not", "an", "object"]},
        {"id": "c", "custom": {"n": 5}},
        {"id": "c", "custom": {"": "empty key"}},
        {"id": "c", "custom": {"k" * (MAX_CUSTOM_KEY + 1): "v"}},
        {"id": "c", "custom": {"k": "v" * (MAX_CUSTOM_VALUE + 1)}},
        {"id": "c", "custom": {f"k{n}": "v" for n in range(MAX_CUSTOM_FIELDS + 1)}},
        {"id": "c", "custom": {"k": "a\x00b"}},
        {"id": "c", "favourite_colour": "blue"},
    ],
    ids=repr,
)
def test_a_bad_client_profile_is_refused(client):
    with pytest.raises(InvalidValue):
        request_chat(client=client)


@given(
    st.dictionaries(
        st.text(min_size=1, max_size=MAX_CUSTOM_KEY).filter(lambda s: "\x00" not in s),
        st.text(max_size=50).filter(lambda s: "\x00" not in s),
        max_size=MAX_CUSTOM_FIELDS,
    )
)
def test_any_bounded_object_of_strings_is_accepted_as_custom_fields(custom):
    assert client_profile({"id": "c", "custom": custom})["custom"] == custom


# -- who closed a chat ------------------------------------------------------------------------


def test_closer_tells_kinds_from_the_actor_and_the_holder():
    other = uuid4()

    assert closer(operator_actor(OPERATOR_ID), OPERATOR_ID) == {
        "kind": "operator",
        "id": str(OPERATOR_ID),
    }
    assert closer(operator_actor(other), OPERATOR_ID) == {"kind": "supervisor", "id": str(other)}
    assert closer("admin:root", OPERATOR_ID) == {"kind": "supervisor"}
    assert closer("system") == {"kind": "system"}
    assert closer("bot:webbot") == {"kind": "bot", "id": "webbot"}


def test_a_supervisor_closing_someone_elses_chat_is_recorded_as_the_supervisor():
    chat = active_chat()
    boss = uuid4()

    chat.close(
        operator_id=boss, supervisor=True, reason="spam", at=minutes(2), actor=operator_actor(boss)
    )

    (closed,) = drain(chat)
    assert closed.closed_by == chat.closed_by == {"kind": "supervisor", "id": str(boss)}
    assert chat.close_reason == "spam"


# -- events and snapshots stored before these fields ------------------------------------------


def _stored_as_version_1(app, event):
    """``event`` as the previous version of the code stored it: no new fields, no version."""
    stored = app.mapper.to_stored_event(event)
    state = app.mapper.transcoder.decode(stored.state)
    for name in ("class_version", "attachments", "buttons", "button_value", "closed_by"):
        state.pop(name, None)
    return replace(stored, state=app.mapper.transcoder.encode(state))


def test_events_stored_before_attachments_and_closed_by_still_load():
    app = in_memory_switchboard(FakeClock())
    chat = request_chat()
    chat.queue(None, at=T0, actor="system")
    chat.assign(OPERATOR_ID, None, at=T0, actor="system")
    chat.intercept(OPERATOR_ID, at=T0, actor=operator_actor(OPERATOR_ID))
    chat.relay_client_message(uuid4(), "Hello", at=minutes(1), actor=BOT)
    chat.close(
        operator_id=OPERATOR_ID,
        supervisor=False,
        reason="solved",
        at=minutes(2),
        actor=operator_actor(OPERATOR_ID),
    )
    app.recorder.insert_events([_stored_as_version_1(app, e) for e in drain(chat)])

    loaded = app.repository.get(chat.id)

    assert loaded.messages[-1]["text"] == "Hello"
    assert (loaded.messages[-1]["attachments"], loaded.messages[-1]["buttons"]) == ([], [])
    assert loaded.messages[-1]["button_value"] is None
    assert loaded.closed_by == {"kind": "operator", "id": str(OPERATOR_ID)}
    assert loaded.close_reason == "solved"


def test_a_chat_snapshot_taken_before_closed_by_was_kept_still_loads():
    chat = active_chat()
    chat.relay_client_message(uuid4(), "Hi", at=minutes(1), actor=BOT)
    chat.close(
        operator_id=OPERATOR_ID,
        supervisor=False,
        reason="solved",
        at=minutes(2),
        actor=operator_actor(OPERATOR_ID),
    )
    drain(chat)
    snapshot = Snapshot.take(chat)
    old_messages = [
        {k: v for k, v in m.items() if k not in ("attachments", "buttons", "button_value")}
        for m in snapshot.state["messages"]
    ]
    old_state = dict(snapshot.state, closed_by=operator_actor(OPERATOR_ID), messages=old_messages)
    old_state.pop("class_version")

    loaded = replace(snapshot, state=old_state).mutate(None)

    assert loaded.closed_by == {"kind": "operator", "id": str(OPERATOR_ID)}
    assert loaded.messages == chat.messages
