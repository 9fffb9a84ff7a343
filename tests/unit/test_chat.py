"""The Chat aggregate on its own: its states, who may act on it, and the events it records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from domain.chat import Chat
from domain.chat_status import ACTIVE, ASSIGNED, CLOSED, QUEUED
from domain.errors import (
    AlreadyIntercepted,
    AlreadyRated,
    ChatClosed,
    InvalidValue,
    NotAssigned,
    NotClosed,
    NotIntercepted,
    NotQueued,
)
from domain.messages import transcript_message_id
from domain.texts import MAX_TEXT

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
BOT = "bot:webbot"
SYSTEM = "system"
GROUP_ID = UUID("00000000-0000-0000-0000-00000000000a")
OPERATOR_ID = UUID("00000000-0000-0000-0000-0000000000a1")
OTHER_OPERATOR_ID = UUID("00000000-0000-0000-0000-0000000000b2")


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def operator_actor(operator_id: UUID) -> str:
    return f"operator:{operator_id}"


def drain(chat: Chat) -> list:
    return list(chat.collect_events())


def names(events: list) -> list[str]:
    return [type(event).__name__ for event in events]


def request_chat(**overrides) -> Chat:
    fields = {
        "chat_id": uuid4(),
        "at": T0,
        "actor": BOT,
        "external_id": "conv-1",
        "client": {"id": "client-7", "phone": "+100"},
        "topic": "billing",
        "group_id": GROUP_ID,
    }
    return Chat.request(**(fields | overrides))


def assigned_chat() -> Chat:
    chat = request_chat()
    chat.queue(GROUP_ID, at=T0, actor=SYSTEM)
    chat.assign(OPERATOR_ID, GROUP_ID, at=T0, actor=SYSTEM)
    drain(chat)
    return chat


def active_chat() -> Chat:
    chat = assigned_chat()
    chat.intercept(OPERATOR_ID, at=T0, actor=operator_actor(OPERATOR_ID))
    drain(chat)
    return chat


def closed_chat() -> Chat:
    chat = active_chat()
    chat.close(
        operator_id=OPERATOR_ID,
        supervisor=False,
        reason="solved",
        at=minutes(5),
        actor=operator_actor(OPERATOR_ID),
    )
    drain(chat)
    return chat


def reply(
    chat: Chat,
    text: str = "Hello",
    *,
    operator_id: UUID = OPERATOR_ID,
    supervisor: bool = False,
    at: datetime = T0,
) -> UUID:
    message_id = uuid4()
    chat.reply(
        message_id,
        operator_id,
        text,
        supervisor=supervisor,
        at=at,
        actor=operator_actor(operator_id),
    )
    return message_id


# -- request and transcript -----------------------------------------------------------------


def test_request_records_chat_requested_at_the_time_given():
    chat = request_chat(at=minutes(3))

    events = drain(chat)

    assert names(events) == ["ChatRequested"]
    assert events[0].timestamp == minutes(3)
    assert events[0].actor == BOT
    assert chat.requested_at == minutes(3)


def test_a_new_chat_waits_without_an_operator_in_its_requested_group():
    chat = request_chat()

    assert chat.status == QUEUED
    assert chat.is_open
    assert chat.operator_id is None
    assert chat.group_id == GROUP_ID
    assert chat.requested_group_id == GROUP_ID
    assert chat.external_id == "conv-1"
    assert chat.topic == "billing"
    assert chat.rating is None


def test_transcript_lines_become_messages_with_ids_derived_from_the_chat():
    chat_id = uuid4()
    chat = request_chat(
        chat_id=chat_id,
        transcript=[
            {"author": "client", "text": "My card is blocked", "at": minutes(-2)},
            {"author": "bot", "text": "Let me call a human"},
        ],
    )

    assert [m["id"] for m in chat.messages] == [
        transcript_message_id(chat_id, 0),
        transcript_message_id(chat_id, 1),
    ]
    assert [(m["author"], m["text"]) for m in chat.messages] == [
        ("client", "My card is blocked"),
        ("bot", "Let me call a human"),
    ]
    assert [m["author_id"] for m in chat.messages] == [None, None]
    assert chat.messages[0]["at"] == minutes(-2)
    assert chat.messages[1]["at"] == T0, "a line without a time takes the handoff's time"


def test_transcript_message_ids_are_the_same_when_the_chat_is_rebuilt_from_its_events():
    chat = request_chat(transcript=[{"author": "client", "text": "hi"}])

    rebuilt = None
    for event in drain(chat):
        rebuilt = event.mutate(rebuilt)

    assert rebuilt is not chat
    assert rebuilt.messages == chat.messages


@pytest.mark.parametrize("author", ["operator", "system", "", None])
def test_transcript_lines_are_written_only_by_the_client_or_the_bot(author):
    with pytest.raises(InvalidValue):
        request_chat(transcript=[{"author": author, "text": "hello"}])


# -- queue, assign, intercept ---------------------------------------------------------------


def test_queue_records_queued_with_its_group_and_time():
    chat = request_chat()
    drain(chat)

    chat.queue(None, at=minutes(1), actor=SYSTEM)

    events = drain(chat)
    assert names(events) == ["Queued"]
    assert events[0].timestamp == minutes(1)
    assert chat.status == QUEUED
    assert chat.group_id is None
    assert chat.queued_at == minutes(1)


def test_assign_gives_the_chat_to_one_operator():
    chat = request_chat()
    chat.queue(GROUP_ID, at=T0, actor=SYSTEM)
    drain(chat)

    chat.assign(OPERATOR_ID, GROUP_ID, at=minutes(2), actor=SYSTEM)

    events = drain(chat)
    assert names(events) == ["Assigned"]
    assert events[0].timestamp == minutes(2)
    assert chat.status == ASSIGNED
    assert chat.operator_id == OPERATOR_ID
    assert chat.assigned_at == minutes(2)


def test_an_assigned_chat_is_neither_assigned_again_nor_queued():
    chat = assigned_chat()

    with pytest.raises(NotQueued):
        chat.assign(OTHER_OPERATOR_ID, GROUP_ID, at=T0, actor=SYSTEM)
    with pytest.raises(AlreadyIntercepted):
        chat.queue(GROUP_ID, at=T0, actor=SYSTEM)
    assert drain(chat) == []
    assert chat.operator_id == OPERATOR_ID


def test_intercept_by_the_assigned_operator_makes_the_chat_active():
    chat = assigned_chat()

    taken = chat.intercept(OPERATOR_ID, at=minutes(4), actor=operator_actor(OPERATOR_ID))

    events = drain(chat)
    assert taken is True
    assert names(events) == ["Intercepted"]
    assert events[0].timestamp == minutes(4)
    assert events[0].operator_id == OPERATOR_ID
    assert chat.status == ACTIVE
    assert chat.intercepted_at == minutes(4)


def test_intercept_by_someone_else_is_refused():
    chat = assigned_chat()

    with pytest.raises(AlreadyIntercepted):
        chat.intercept(OTHER_OPERATOR_ID, at=T0, actor=operator_actor(OTHER_OPERATOR_ID))
    assert drain(chat) == []
    assert chat.status == ASSIGNED


def test_a_queued_chat_must_be_assigned_before_it_is_intercepted():
    chat = request_chat()
    chat.queue(GROUP_ID, at=T0, actor=SYSTEM)
    drain(chat)

    with pytest.raises(AlreadyIntercepted):
        chat.intercept(OPERATOR_ID, at=T0, actor=operator_actor(OPERATOR_ID))
    assert drain(chat) == []


def test_intercepting_again_by_the_same_operator_returns_false_and_records_nothing():
    chat = active_chat()

    taken = chat.intercept(OPERATOR_ID, at=minutes(9), actor=operator_actor(OPERATOR_ID))

    assert taken is False
    assert drain(chat) == []
    assert chat.intercepted_at == T0


# -- messages ---------------------------------------------------------------------------------


def test_reply_by_the_operator_records_an_operator_message():
    chat = active_chat()

    message_id = reply(chat, "How can I help?", at=minutes(1))

    events = drain(chat)
    assert names(events) == ["MessagePosted"]
    assert events[0].timestamp == minutes(1)
    assert chat.messages[-1] == {
        "id": message_id,
        "author": "operator",
        "author_id": str(OPERATOR_ID),
        "text": "How can I help?",
        "at": minutes(1),
        "attachments": [],
        "buttons": [],
        "button_value": None,
    }


def test_reply_before_intercept_is_refused():
    chat = assigned_chat()

    with pytest.raises(NotIntercepted):
        reply(chat)
    assert drain(chat) == []


def test_a_supervisor_may_reply_before_intercept():
    chat = assigned_chat()

    reply(chat, "Supervisor here", operator_id=OTHER_OPERATOR_ID, supervisor=True)

    assert names(drain(chat)) == ["MessagePosted"]
    assert chat.messages[-1]["author_id"] == str(OTHER_OPERATOR_ID)
    assert chat.status == ASSIGNED


def test_reply_by_another_operator_is_refused():
    chat = active_chat()

    with pytest.raises(NotAssigned):
        reply(chat, operator_id=OTHER_OPERATOR_ID)
    assert drain(chat) == []


def test_client_bot_and_system_messages_carry_their_author():
    chat = active_chat()
    at = minutes(2)

    chat.relay_client_message(uuid4(), "still there?", at=at, actor=BOT)
    chat.post_bot_message(uuid4(), "an operator is typing", at=at, actor=BOT)
    chat.post_system_message(uuid4(), "chat moved", at=at, actor=SYSTEM)

    events = drain(chat)
    assert names(events) == ["MessagePosted"] * 3
    assert all(event.timestamp == at for event in events)
    assert [(m["author"], m["author_id"]) for m in chat.messages] == [
        ("client", "client-7"),
        ("bot", BOT),
        ("system", None),
    ]


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "x" * (MAX_TEXT + 1)])
def test_empty_or_oversized_messages_are_refused(text):
    chat = active_chat()

    with pytest.raises(InvalidValue):
        reply(chat, text)
    with pytest.raises(InvalidValue):
        chat.relay_client_message(uuid4(), text, at=T0, actor=BOT)
    assert drain(chat) == []


def test_a_message_of_exactly_the_maximum_length_is_accepted():
    chat = active_chat()

    reply(chat, "x" * MAX_TEXT)

    assert len(chat.messages[-1]["text"]) == MAX_TEXT


def test_messages_after_gives_the_messages_that_follow_one():
    chat = active_chat()
    first, second, third = (reply(chat, text) for text in ("one", "two", "three"))

    assert [m["id"] for m in chat.messages_after(None)] == [first, second, third]
    assert [m["id"] for m in chat.messages_after(first)] == [second, third]
    assert chat.messages_after(third) == []


def test_messages_after_an_unknown_message_is_refused():
    chat = active_chat()
    reply(chat)

    with pytest.raises(InvalidValue):
        chat.messages_after(uuid4())


# -- close ------------------------------------------------------------------------------------


def test_close_by_the_operator_records_closed_and_returns_the_holder():
    chat = active_chat()
    actor = operator_actor(OPERATOR_ID)

    holder = chat.close(
        operator_id=OPERATOR_ID, supervisor=False, reason="solved", at=minutes(7), actor=actor
    )

    events = drain(chat)
    assert holder == OPERATOR_ID
    assert names(events) == ["Closed"]
    assert events[0].timestamp == minutes(7)
    assert chat.status == CLOSED
    assert not chat.is_open
    closed_by = {"kind": "operator", "id": str(OPERATOR_ID)}
    assert (chat.closed_at, chat.closed_by, chat.close_reason) == (minutes(7), closed_by, "solved")


def test_close_by_another_operator_is_refused_but_a_supervisor_may():
    chat = active_chat()

    with pytest.raises(NotAssigned):
        chat.close(operator_id=OTHER_OPERATOR_ID, supervisor=False, reason=None, at=T0, actor="x")
    holder = chat.close(operator_id=None, supervisor=True, reason=None, at=T0, actor=SYSTEM)

    assert holder == OPERATOR_ID
    assert names(drain(chat)) == ["Closed"]


def test_closing_a_queued_chat_has_no_holder():
    chat = request_chat()

    holder = chat.close(operator_id=None, supervisor=True, reason="spam", at=T0, actor=SYSTEM)

    assert holder is None
    assert chat.status == CLOSED


CLOSED_CHAT_COMMANDS = {
    "relay client message": lambda c: c.relay_client_message(uuid4(), "hi", at=T0, actor=BOT),
    "bot message": lambda c: c.post_bot_message(uuid4(), "hi", at=T0, actor=BOT),
    "system message": lambda c: c.post_system_message(uuid4(), "hi", at=T0, actor=SYSTEM),
    "reply": lambda c: reply(c),
    "supervisor reply": lambda c: reply(c, operator_id=OTHER_OPERATOR_ID, supervisor=True),
    "intercept": lambda c: c.intercept(OPERATOR_ID, at=T0, actor=SYSTEM),
    "queue": lambda c: c.queue(GROUP_ID, at=T0, actor=SYSTEM),
    "assign": lambda c: c.assign(OPERATOR_ID, GROUP_ID, at=T0, actor=SYSTEM),
    "close": lambda c: c.close(
        operator_id=OPERATOR_ID, supervisor=False, reason=None, at=T0, actor=SYSTEM
    ),
    "supervisor close": lambda c: c.close(
        operator_id=None, supervisor=True, reason=None, at=T0, actor=SYSTEM
    ),
}


@pytest.mark.parametrize("command", CLOSED_CHAT_COMMANDS.values(), ids=CLOSED_CHAT_COMMANDS)
def test_a_closed_chat_refuses_messages_and_operator_commands(command):
    chat = closed_chat()

    with pytest.raises(ChatClosed):
        command(chat)
    assert drain(chat) == []
    assert chat.status == CLOSED


# -- rating -----------------------------------------------------------------------------------


def test_a_closed_chat_takes_a_rating():
    chat = closed_chat()

    chat.rate(5, "quick and kind", at=minutes(10), actor=BOT)

    events = drain(chat)
    assert names(events) == ["Rated"]
    assert events[0].timestamp == minutes(10)
    assert (chat.rating, chat.rating_comment) == (5, "quick and kind")


def test_an_open_chat_is_not_rated():
    chat = active_chat()

    with pytest.raises(NotClosed):
        chat.rate(4, None, at=T0, actor=BOT)
    assert drain(chat) == []


def test_a_chat_is_rated_once():
    chat = closed_chat()
    chat.rate(3, None, at=T0, actor=BOT)
    drain(chat)

    with pytest.raises(AlreadyRated):
        chat.rate(5, None, at=T0, actor=BOT)
    assert drain(chat) == []
    assert chat.rating == 3


@pytest.mark.parametrize("score", [1, 5])
def test_scores_at_the_bounds_are_accepted(score):
    chat = closed_chat()

    chat.rate(score, None, at=T0, actor=BOT)

    assert chat.rating == score


@pytest.mark.parametrize("score", [0, 6, -1, True, False, 3.0, "4", None])
def test_a_score_is_a_whole_number_from_one_to_five(score):
    chat = closed_chat()

    with pytest.raises(InvalidValue):
        chat.rate(score, None, at=T0, actor=BOT)
    assert drain(chat) == []
    assert chat.rating is None


def test_the_chat_events_keep_the_topics_they_are_stored_under():
    """Stored events name their class by topic: splitting domain/chat.py must not move them."""
    from eventsourcing.utils import get_topic, resolve_topic

    names = [
        "ChatRequested", "Queued", "Assigned", "Intercepted", "MessagePosted", "MessageEdited",
        "MessageDeleted", "Reassigned", "Muted", "Unmuted", "TopicChanged", "Closed", "Rated",
    ]  # fmt: skip
    for name in names:
        event_class = getattr(Chat, name)
        assert get_topic(event_class) == f"domain.chat:Chat.{name}"
        assert resolve_topic(f"domain.chat:Chat.{name}") is event_class
    assert get_topic(Chat) == "domain.chat:Chat"


# -- limits the domain keeps, and the API takes its schemas from ---------------------------------


def test_a_comment_or_a_close_reason_is_at_most_the_short_text_limit():
    from domain.texts import MAX_SHORT_TEXT

    chat = active_chat()
    with pytest.raises(InvalidValue):
        chat.close(
            operator_id=OPERATOR_ID,
            supervisor=False,
            reason="x" * (MAX_SHORT_TEXT + 1),
            at=T0,
            actor=operator_actor(OPERATOR_ID),
        )
    assert drain(chat) == [] and chat.is_open
    chat.close(
        operator_id=OPERATOR_ID,
        supervisor=False,
        reason="x" * MAX_SHORT_TEXT,
        at=T0,
        actor=operator_actor(OPERATOR_ID),
    )
    with pytest.raises(InvalidValue):
        chat.rate(4, "y" * (MAX_SHORT_TEXT + 1), at=T0, actor=BOT)
    with pytest.raises(InvalidValue):
        chat.rate(4, "nul \x00", at=T0, actor=BOT)
    chat.rate(4, "y" * MAX_SHORT_TEXT, at=T0, actor=BOT)
    assert chat.rating == 4


def test_a_transcript_is_at_most_the_transcript_limit():
    from domain.messages import MAX_TRANSCRIPT_LINES

    line = {"author": "client", "text": "hi"}
    with pytest.raises(InvalidValue):
        request_chat(transcript=[line] * (MAX_TRANSCRIPT_LINES + 1))
    chat = request_chat(transcript=[line] * MAX_TRANSCRIPT_LINES)
    assert len(chat.messages) == MAX_TRANSCRIPT_LINES


def test_the_api_schemas_take_their_limits_from_the_domain():
    """One owner per limit: the request schemas say what the domain checks."""
    from api import schemas
    from domain.chat_status import MAX_MUTE_MINUTES, MAX_RATING
    from domain.group import MAX_SL_S
    from domain.messages import MAX_TRANSCRIPT_LINES
    from domain.operator import MAX_MAX_CHATS
    from domain.settings import MAX_MINUTES, MAX_TEMPLATE
    from domain.texts import MAX_EXTERNAL_ID, MAX_NAME, MAX_SHORT_TEXT, MAX_TOPIC

    def limits(model, field):
        schema = model.model_json_schema()["properties"][field]
        options = schema.get("anyOf", [schema])
        return {k: v for o in options for k, v in o.items() if k.startswith("max")}

    assert limits(schemas.MessageIn, "text") == {"maxLength": MAX_TEXT}
    assert limits(schemas.ChatPatch, "topic") == {"maxLength": MAX_TOPIC}
    assert limits(schemas.HandoffIn, "external_id") == {"maxLength": MAX_EXTERNAL_ID}
    assert limits(schemas.HandoffIn, "transcript") == {"maxItems": MAX_TRANSCRIPT_LINES}
    assert limits(schemas.MuteIn, "minutes") == {"maximum": MAX_MUTE_MINUTES}
    assert limits(schemas.RatingIn, "score") == {"maximum": MAX_RATING}
    assert limits(schemas.CloseIn, "reason") == {"maxLength": MAX_SHORT_TEXT}
    assert limits(schemas.GroupIn, "name") == {"maxLength": MAX_NAME}
    assert limits(schemas.GroupIn, "sl_first_response_s") == {"maximum": MAX_SL_S}
    assert limits(schemas.OperatorIn, "max_chats") == {"maximum": MAX_MAX_CHATS}
    assert limits(schemas.SettingsIn, "greeting_template") == {"maxLength": MAX_TEMPLATE}
    assert limits(schemas.SettingsIn, "inactivity_close_minutes") == {"maximum": MAX_MINUTES}
