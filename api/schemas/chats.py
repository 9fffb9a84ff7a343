"""Chats: the bot's handoff and messages, the operators' commands, the chat as it is read."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field, model_validator

from api.schemas.common import Body, MessageText, Name, ShortText, Whole, bounded
from domain.chat_status import MAX_MUTE_MINUTES, MAX_RATING, MIN_RATING
from domain.messages import MAX_TRANSCRIPT_LINES
from domain.texts import MAX_CHANNEL, MAX_EXTERNAL_ID, MAX_LANGUAGE, MAX_PHONE, MAX_TOPIC

ExternalId = bounded(MAX_EXTERNAL_ID, 1)
Topic = bounded(MAX_TOPIC, 1)


class ClientIn(Body):
    id: ExternalId
    name: Name | None = None
    phone: bounded(MAX_PHONE) | None = None
    channel: bounded(MAX_CHANNEL) | None = None
    language: bounded(MAX_LANGUAGE) | None = None


class TranscriptLine(Body):
    author: Literal["client", "bot"]
    text: MessageText
    at: datetime | None = None


class HandoffIn(Body):
    external_id: ExternalId
    client: ClientIn
    topic: Topic | None = None
    subtopic: Topic | None = None
    group_id: UUID | None = None
    transcript: list[TranscriptLine] = Field(default_factory=list, max_length=MAX_TRANSCRIPT_LINES)


class MessageIn(Body):
    text: MessageText
    author: Literal["client", "bot"] | None = Field(
        None, description="For bots: 'client' (default) relays the client, 'bot' writes as the bot."
    )


class MessageOut(BaseModel):
    message_id: UUID
    chat_id: UUID
    author: str
    author_id: str | None = None
    text: str
    at: datetime
    edited_at: datetime | None = None
    deleted: bool = False


class MessageEditIn(Body):
    text: MessageText


class MessagesPage(BaseModel):
    items: list[MessageOut]
    chat_status: str = Field(description="'closed' tells the bot the chat is back with it.")


class RatingIn(Body):
    score: Whole = Field(ge=MIN_RATING, le=MAX_RATING)
    comment: ShortText | None = None


class CloseIn(Body):
    reason: ShortText | None = None


class MuteIn(Body):
    minutes: Whole | None = Field(
        None, ge=1, le=MAX_MUTE_MINUTES, description="Lift the mute by itself after this long."
    )


class ReassignIn(Body):
    operator_id: UUID | None = None
    group_id: UUID | None = None

    @model_validator(mode="after")
    def _names_a_target(self) -> ReassignIn:
        if self.operator_id is None and self.group_id is None:
            raise ValueError("name an operator_id, a group_id, or both")
        return self


class ChatPatch(Body):
    """Only the fields given change; null clears one."""

    topic: Topic | None = None
    subtopic: Topic | None = None


class ChatOut(BaseModel):
    id: UUID
    external_id: str
    status: str
    group_id: UUID | None
    operator_id: UUID | None
    client: dict[str, Any]
    topic: str | None
    subtopic: str | None
    muted: bool
    muted_until: datetime | None = None
    requested_at: datetime
    closed_at: datetime | None
    rating: int | None
    version: int


class PreviousChat(BaseModel):
    id: UUID
    status: str
    topic: str | None
    subtopic: str | None
    operator_id: UUID | None
    requested_at: datetime
    closed_at: datetime | None
    rating: int | None


class ChatDetailOut(ChatOut):
    messages: list[MessageOut]
    previous_chats: list[PreviousChat] = Field(
        default_factory=list,
        description="The same client's other chats (same client id and channel), newest "
        "first; staff and auditors see them, on the current state only.",
    )


class ChatEventOut(BaseModel):
    version: int
    type: str
    occurred_at: datetime
    actor: str | None
    data: dict[str, Any]
