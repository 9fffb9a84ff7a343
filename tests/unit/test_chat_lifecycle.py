"""The Chat aggregate after the handoff (reassign, mute, topic, message edits, close with a
topic) and the company settings, on their own: the rules they enforce and the events they record.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.chat import Chat
from domain.chat_status import ACTIVE, ASSIGNED, CLOSED, MAX_MUTE_MINUTES, QUEUED
from domain.errors import (
    AlreadyIntercepted,
    ChatClosed,
    EditsForbidden,
    InvalidValue,
    NotAssigned,
    TopicRequired,
    UnknownMessage,
)
from domain.messages import transcript_message_id
from domain.settings import DEFAULTS, CompanySettings, check_setting, check_template, greeting
from domain.texts import MAX_TEXT, MAX_TOPIC

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
BOT = "bot:webbot"
SYSTEM = "system"
SUPERVISOR = "admin:root"
GROUP_ID = UUID("00000000-0000-0000-0000-00000000000a")
OTHER_GROUP_ID = UUID("00000000-0000-0000-0000-00000000000b")
OPERATOR_ID = UUID("00000000-0000-0000-0000-0000000000a1")
OTHER_OPERATOR_ID = UUID("00000000-0000-0000-0000-0000000000b2")


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def operator_actor(operator_id: UUID) -> str:
    return f"operator:{operator_id}"


def actor_of(operator_id: UUID | None, supervisor: bool) -> str:
    return SUPERVISOR if supervisor or operator_id is None else operator_actor(operator_id)


def drain(aggregate: Any) -> list:
    return list(aggregate.collect_events())


def names(events: list) -> list[str]:
    return [type(event).__name__ for event in events]


def rebuilt(events: list) -> Any:
    aggregate = None
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


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


def assigned_chat(**overrides) -> Chat:
    chat = request_chat(**overrides)
    chat.queue(GROUP_ID, at=T0, actor=SYSTEM)
    chat.assign(OPERATOR_ID, GROUP_ID, at=T0, actor=SYSTEM)
    drain(chat)
    return chat


def active_chat(**overrides) -> Chat:
    chat = assigned_chat(**overrides)
    chat.intercept(OPERATOR_ID, at=T0, actor=operator_actor(OPERATOR_ID))
    drain(chat)
    return chat


def close(
    chat: Chat,
    *,
    operator_id: UUID | None = OPERATOR_ID,
    supervisor: bool = False,
    require_topic: bool = False,
    at: datetime = T0,
) -> UUID | None:
    return chat.close(
        operator_id=operator_id,
        supervisor=supervisor,
        reason="solved",
        at=at,
        actor=actor_of(operator_id, supervisor),
        require_topic=require_topic,
    )


def mute(
    chat: Chat,
    minutes_: int | None = None,
    *,
    operator_id: UUID | None = OPERATOR_ID,
    supervisor: bool = False,
    at: datetime = T0,
) -> None:
    chat.mute(
        operator_id=operator_id,
        supervisor=supervisor,
        minutes=minutes_,
        at=at,
        actor=actor_of(operator_id, supervisor),
    )


def unmute(
    chat: Chat,
    *,
    operator_id: UUID | None = OPERATOR_ID,
    supervisor: bool = False,
    at: datetime = T0,
) -> bool:
    return chat.unmute(
        operator_id=operator_id,
        supervisor=supervisor,
        at=at,
        actor=actor_of(operator_id, supervisor),
    )


def change_topic(
    chat: Chat,
    topic: str | None,
    subtopic: str | None = None,
    *,
    operator_id: UUID | None = OPERATOR_ID,
    supervisor: bool = False,
    at: datetime = T0,
) -> bool:
    return chat.change_topic(
        topic=topic,
        subtopic=subtopic,
        operator_id=operator_id,
        supervisor=supervisor,
        at=at,
        actor=actor_of(operator_id, supervisor),
    )


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


def edit(
    chat: Chat,
    message_id: UUID,
    text: str,
    *,
    operator_id: UUID | None = OPERATOR_ID,
    supervisor: bool = False,
    allowed: bool = True,
    at: datetime = T0,
) -> None:
    chat.edit_message(
        message_id,
        text,
        operator_id=operator_id,
        supervisor=supervisor,
        allowed=allowed,
        at=at,
        actor=actor_of(operator_id, supervisor),
    )


def delete(
    chat: Chat,
    message_id: UUID,
    *,
    operator_id: UUID | None = OPERATOR_ID,
    supervisor: bool = False,
    allowed: bool = True,
    at: datetime = T0,
) -> None:
    chat.delete_message(
        message_id,
        operator_id=operator_id,
        supervisor=supervisor,
        allowed=allowed,
        at=at,
        actor=actor_of(operator_id, supervisor),
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


# -- mute -------------------------------------------------------------------------------------


def test_a_timed_mute_records_when_it_ends():
    chat = active_chat()

    mute(chat, 30, at=minutes(1))

    events = drain(chat)
    assert names(events) == ["Muted"]
    assert events[0].until == minutes(31)
    assert events[0].timestamp == minutes(1)
    assert events[0].actor == operator_actor(OPERATOR_ID)
    assert chat.muted is True
    assert chat.muted_until == minutes(31)


def test_a_timed_mute_holds_until_its_time_and_no_longer():
    chat = active_chat()
    mute(chat, 30, at=minutes(1))

    assert chat.is_muted(minutes(1))
    assert chat.is_muted(minutes(31) - timedelta(microseconds=1))
    assert not chat.is_muted(minutes(31)), "the mute ends at `until`, even before it is lifted"
    assert not chat.is_muted(minutes(60))
    assert chat.muted is True, "only the engine's Unmuted turns the recorded flag off"


def test_a_mute_without_minutes_lasts_until_lifted():
    chat = active_chat()

    mute(chat, None)

    assert drain(chat)[0].until is None
    assert chat.is_muted(minutes(MAX_MUTE_MINUTES * 10))


def test_a_chat_that_was_never_muted_is_not_muted():
    chat = active_chat()

    assert chat.muted is False
    assert not chat.is_muted(T0)


def test_muting_again_replaces_the_end_of_the_mute():
    chat = active_chat()
    mute(chat, 60)

    mute(chat, 5, at=minutes(1))

    assert names(drain(chat)) == ["Muted", "Muted"]
    assert chat.muted_until == minutes(6)
    assert not chat.is_muted(minutes(7))


@pytest.mark.parametrize("minutes_", [1, 2, MAX_MUTE_MINUTES - 1, MAX_MUTE_MINUTES])
def test_a_mute_lasts_from_one_minute_to_a_week(minutes_):
    chat = active_chat()

    mute(chat, minutes_)

    assert chat.muted_until == T0 + timedelta(minutes=minutes_)
    assert MAX_MUTE_MINUTES == 10_080


@pytest.mark.parametrize(
    "minutes_",
    [0, -1, MAX_MUTE_MINUTES + 1, 10**9, True, False, 1.5, 30.0, "30"],
    ids=repr,
)
def test_a_mute_outside_one_minute_to_a_week_or_not_a_whole_number_is_refused(minutes_):
    chat = active_chat()

    with pytest.raises(InvalidValue):
        mute(chat, minutes_)

    assert drain(chat) == []
    assert chat.muted is False


def test_unmute_lifts_the_mute():
    chat = active_chat()
    mute(chat, 30)
    drain(chat)

    lifted = unmute(chat, at=minutes(2))

    events = drain(chat)
    assert lifted is True
    assert names(events) == ["Unmuted"]
    assert events[0].timestamp == minutes(2)
    assert chat.muted is False
    assert chat.muted_until is None
    assert not chat.is_muted(minutes(2))


def test_unmute_when_not_muted_records_nothing():
    chat = active_chat()

    lifted = unmute(chat)

    assert lifted is False
    assert drain(chat) == []


def test_unmute_after_the_mute_was_lifted_records_nothing():
    chat = active_chat()
    mute(chat, 30)
    unmute(chat)
    drain(chat)

    assert unmute(chat, at=minutes(1)) is False
    assert drain(chat) == []


def test_lift_expired_mute_waits_for_the_time_to_be_up():
    chat = active_chat()
    mute(chat, 10)
    drain(chat)

    assert chat.lift_expired_mute(at=minutes(9), actor=SYSTEM) is False
    assert drain(chat) == []
    assert chat.lift_expired_mute(at=minutes(10), actor=SYSTEM) is True
    events = drain(chat)
    assert names(events) == ["Unmuted"]
    assert events[0].actor == SYSTEM
    assert events[0].timestamp == minutes(10)
    assert chat.muted is False


def test_lift_expired_mute_acts_once():
    chat = active_chat()
    mute(chat, 10)
    chat.lift_expired_mute(at=minutes(11), actor=SYSTEM)
    drain(chat)

    assert chat.lift_expired_mute(at=minutes(12), actor=SYSTEM) is False
    assert drain(chat) == []


def test_lift_expired_mute_never_lifts_a_mute_without_an_end():
    chat = active_chat()
    mute(chat, None)
    drain(chat)

    assert chat.lift_expired_mute(at=minutes(10**6), actor=SYSTEM) is False
    assert drain(chat) == []
    assert chat.muted is True


def test_lift_expired_mute_on_an_unmuted_chat_does_nothing():
    chat = active_chat()

    assert chat.lift_expired_mute(at=minutes(1), actor=SYSTEM) is False
    assert drain(chat) == []


def test_lift_expired_mute_leaves_a_closed_chat_alone():
    chat = active_chat()
    mute(chat, 10)
    close(chat, at=minutes(1))
    drain(chat)

    assert chat.lift_expired_mute(at=minutes(20), actor=SYSTEM) is False
    assert drain(chat) == []


def test_a_mute_survives_rebuilding_from_events():
    chat = request_chat()
    chat.queue(GROUP_ID, at=T0, actor=SYSTEM)
    chat.assign(OPERATOR_ID, GROUP_ID, at=T0, actor=SYSTEM)
    mute(chat, 30, at=minutes(1))

    copy = rebuilt(drain(chat))

    assert copy.muted is True
    assert copy.muted_until == minutes(31)
    assert copy.is_muted(minutes(30)) and not copy.is_muted(minutes(31))


# -- is_muted against a reference model, for any sequence of mute commands ---------------------

MUTE_STEPS = st.lists(
    st.tuples(
        st.sampled_from(["mute", "unmute", "lift_expired_mute"]),
        st.one_of(st.none(), st.integers(min_value=1, max_value=120)),  # mute minutes
        st.integers(min_value=0, max_value=150),  # minutes the clock moves first
        st.booleans(),  # by a supervisor
    ),
    max_size=30,
)


class MuteModel:
    """What muting means, said as simply as possible."""

    def __init__(self) -> None:
        self.muted = False
        self.until: datetime | None = None

    def mute(self, minutes_: int | None, at: datetime) -> None:
        self.muted = True
        self.until = None if minutes_ is None else at + timedelta(minutes=minutes_)

    def unmute(self) -> bool:
        was, self.muted, self.until = self.muted, False, None
        return was

    def lift_expired(self, at: datetime) -> bool:
        if self.muted and self.until is not None and at >= self.until:
            return self.unmute()
        return False

    def is_muted(self, at: datetime) -> bool:
        return self.muted and (self.until is None or at < self.until)


@settings(max_examples=200, deadline=None)
@given(steps=MUTE_STEPS)
def test_is_muted_agrees_with_a_reference_model_for_any_sequence(steps):
    chat = active_chat()
    model = MuteModel()
    now = T0
    recorded = []

    for command, minutes_, wait, supervisor in steps:
        now += timedelta(minutes=wait)
        who = {"operator_id": None if supervisor else OPERATOR_ID, "supervisor": supervisor}
        if command == "mute":
            mute(chat, minutes_, at=now, **who)
            model.mute(minutes_, now)
        elif command == "unmute":
            assert unmute(chat, at=now, **who) == model.unmute()
        else:
            assert chat.lift_expired_mute(at=now, actor=SYSTEM) == model.lift_expired(now)
        recorded += drain(chat)
        for probe in (now, now + timedelta(minutes=1), now + timedelta(minutes=120)):
            assert chat.is_muted(probe) == model.is_muted(probe)
        assert chat.muted == model.muted

    # Unmuted is recorded only when there was a mute to lift: never twice in a row.
    kinds = [n for n in names(recorded) if n in ("Muted", "Unmuted")]
    assert ("Unmuted", "Unmuted") not in set(pairwise(kinds))
    assert kinds[:1] in ([], ["Muted"])


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


# -- company settings -------------------------------------------------------------------------


def settings_started() -> CompanySettings:
    company = CompanySettings.start(at=T0, actor=SUPERVISOR)
    drain(company)
    return company


def test_the_company_settings_have_one_fixed_id_and_start_from_the_defaults():
    first = CompanySettings.start(at=T0, actor=SUPERVISOR)
    second = CompanySettings.start(at=minutes(1), actor="admin:other")

    assert first.id == second.id == CompanySettings.fixed_id()
    assert first.values == DEFAULTS
    assert DEFAULTS["inactivity_close_minutes"] == 15
    assert DEFAULTS["absent_after_minutes"] is None
    assert names(drain(first)) == ["Configured"]


def test_a_change_records_only_the_values_that_differ():
    company = settings_started()

    changed = company.change(
        {"rating_prompt": True, "require_topic_to_close": False, "inactivity_close_minutes": 30},
        at=minutes(1),
        actor=SUPERVISOR,
    )

    events = drain(company)
    assert changed is True
    assert names(events) == ["SettingsChanged"]
    assert events[0].changes == {"rating_prompt": True, "inactivity_close_minutes": 30}
    assert events[0].actor == SUPERVISOR
    assert company.values["rating_prompt"] is True
    assert company.values["inactivity_close_minutes"] == 30
    assert company.values["greeting_template"] == DEFAULTS["greeting_template"]


def test_a_change_to_the_same_values_records_nothing():
    company = settings_started()
    company.change({"rating_prompt": True}, at=T0, actor=SUPERVISOR)
    drain(company)

    assert company.change({"rating_prompt": True}, at=T0, actor=SUPERVISOR) is False
    assert company.change(dict(DEFAULTS, rating_prompt=True), at=T0, actor=SUPERVISOR) is False
    assert company.change({}, at=T0, actor=SUPERVISOR) is False
    assert drain(company) == []


def test_changing_the_settings_leaves_the_defaults_alone():
    company = settings_started()

    company.change({"greeting_template": "", "rating_prompt": True}, at=T0, actor=SUPERVISOR)

    assert DEFAULTS["greeting_template"] != ""
    assert DEFAULTS["rating_prompt"] is False


def test_settings_are_the_same_when_rebuilt_from_their_events():
    company = CompanySettings.start(at=T0, actor=SUPERVISOR)
    company.change({"absent_after_minutes": 20}, at=T0, actor=SUPERVISOR)
    company.change({"absent_after_minutes": None}, at=T0, actor=SUPERVISOR)
    company.change({"forbid_message_edits": True}, at=T0, actor=SUPERVISOR)

    copy = rebuilt(drain(company))

    assert copy.values == company.values == DEFAULTS | {"forbid_message_edits": True}


def test_an_unknown_setting_refuses_the_whole_change():
    company = settings_started()

    with pytest.raises(InvalidValue):
        company.change({"rating_prompt": True, "colour": "blue"}, at=T0, actor=SUPERVISOR)

    assert drain(company) == []
    assert company.values == DEFAULTS


BOOLEAN_SETTINGS = [
    "require_topic_to_close",
    "rating_prompt",
    "operators_may_reassign",
    "forbid_message_edits",
]
MINUTES_SETTINGS = ["inactivity_close_minutes", "absent_after_minutes"]
TEXT_SETTINGS = ["greeting_template", "rating_prompt_text"]


def test_every_setting_has_a_rule_here():
    assert set(DEFAULTS) == set(BOOLEAN_SETTINGS + MINUTES_SETTINGS + TEXT_SETTINGS)


@pytest.mark.parametrize(
    ("name", "value"),
    [(name, value) for name in BOOLEAN_SETTINGS for value in (True, False)]
    + [(name, value) for name in MINUTES_SETTINGS for value in (None, 1, 60, 7 * 24 * 60)]
    + [(name, value) for name in TEXT_SETTINGS for value in ("", "x" * 1000, "Bonjour !")],
)
def test_values_each_setting_accepts(name, value):
    check_setting(name, value)
    company = settings_started()

    company.change({name: value}, at=T0, actor=SUPERVISOR)

    assert company.values[name] == value


@pytest.mark.parametrize(
    ("name", "value"),
    [(name, value) for name in BOOLEAN_SETTINGS for value in (0, 1, "true", None)]
    + [
        (name, value)
        for name in MINUTES_SETTINGS
        for value in (True, False, 0, -5, 7 * 24 * 60 + 1, 1.5, "15")
    ]
    + [(name, value) for name in TEXT_SETTINGS for value in (None, 5, "x" * 1001, "a\x00b")]
    + [("no_such_setting", True)],
    ids=repr,
)
def test_values_each_setting_refuses(name, value):
    with pytest.raises(InvalidValue):
        check_setting(name, value)
    company = settings_started()

    with pytest.raises(InvalidValue):
        company.change({name: value}, at=T0, actor=SUPERVISOR)

    assert drain(company) == []


@pytest.mark.parametrize(
    "template",
    [
        "Hello, {name}!",  # unknown placeholder
        "Hello, {first_name} {email}",
        "Hello, {0}",  # positional
        "Hello, {}",
        "Hello, {first_name",  # broken braces
        "Hello, first_name}",
        "Hello, {first_name.upper}",  # attribute access
        "Hello, {first_name[0]}",  # indexing
        "Hello, {first_name:d}",  # a format spec fails at every intercept
        "Hello, {first_name:{last_name}}",
        "Hello, {first_name:>99999999}",  # ... or blows the greeting up
        "Hello, {first_name!r}",
    ],
)
def test_a_greeting_template_that_would_fail_at_intercept_is_refused(template):
    with pytest.raises(InvalidValue):
        check_template(template)
    with pytest.raises(InvalidValue):
        check_setting("greeting_template", template)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("Hello! My name is {first_name}.", "Hello! My name is Anna."),
        ("{first_name} {last_name} here", "Anna Smith here"),
        ("No placeholder at all", "No placeholder at all"),
        ("Braces {{first_name}} are escaped", "Braces {first_name} are escaped"),
        ("", ""),
    ],
)
def test_the_greeting_renders_the_operators_name(template, expected):
    check_template(template)

    assert (
        greeting({"greeting_template": template}, first_name="Anna", last_name="Smith") == expected
    )


def test_the_default_greeting_names_the_operator():
    assert greeting(DEFAULTS, first_name="Anna", last_name="Smith") == (
        "Hello! My name is Anna. How can I help you?"
    )


def test_a_name_with_braces_is_not_read_as_a_placeholder():
    text = greeting({"greeting_template": "Hi, {first_name}"}, first_name="{x}", last_name="")

    assert text == "Hi, {x}"
