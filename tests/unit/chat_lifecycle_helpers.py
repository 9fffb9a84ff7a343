"""Builders of the Chat aggregate's lifecycle tests: chats in each state, and each command
with who performs it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from domain.chat import Chat

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
