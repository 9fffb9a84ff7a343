"""Chats: the bot's handoff and messages, the operators' commands, the chat as it is read."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, Field, model_validator

from api.schemas.client_card import ClientOut
from api.schemas.common import Body, MessageText, Name, ShortText, Whole, bounded
from api.schemas.notes import NoteOut, NoteText
from domain.chat_status import MAX_MUTE_MINUTES, MAX_RATING, MIN_RATING
from domain.client_profile import MAX_CUSTOM_FIELDS, MAX_CUSTOM_KEY, MAX_CUSTOM_VALUE, MAX_EMAIL
from domain.errors import InvalidValue
from domain.messages import (
    MAX_ATTACHMENTS,
    MAX_BUTTON_TEXT,
    MAX_BUTTON_VALUE,
    MAX_BUTTONS,
    MAX_FILE_NAME,
    MAX_FILE_SIZE,
    MAX_MIME,
    MAX_TRANSCRIPT_LINES,
)
from domain.texts import (
    MAX_CHANNEL,
    MAX_EXTERNAL_ID,
    MAX_LANGUAGE,
    MAX_PHONE,
    MAX_TEXT,
    MAX_TOPIC,
    MAX_URL,
    check_url,
)

ExternalId = bounded(MAX_EXTERNAL_ID, 1)
Topic = bounded(MAX_TOPIC, 1)


def _http_url(value: str) -> str:
    try:
        check_url(value, "the address")
    except InvalidValue as error:
        raise ValueError(str(error)) from error
    return value


Url = Annotated[
    str,
    Field(min_length=1, max_length=MAX_URL, pattern=r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s/]\S*$"),
    AfterValidator(_http_url),
]
CustomFields = Annotated[
    dict[bounded(MAX_CUSTOM_KEY, 1), bounded(MAX_CUSTOM_VALUE)],
    Field(max_length=MAX_CUSTOM_FIELDS),
]


class ClientIn(Body):
    id: ExternalId
    name: Name | None = None
    username: Name | None = None
    phone: bounded(MAX_PHONE) | None = None
    email: Annotated[str, Field(min_length=3, max_length=MAX_EMAIL, pattern="@")] | None = None
    photo_url: Url | None = None
    channel: bounded(MAX_CHANNEL) | None = None
    language: bounded(MAX_LANGUAGE) | None = None
    custom: CustomFields | None = Field(
        None, description="The bot platform's own fields about the client: strings by name."
    )


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
    group: Name | None = Field(
        None, description="A group's name, instead of group_id (both: they must agree)."
    )
    operator_id: UUID | None = Field(
        None,
        description="A preferred operator: they get the chat when working with room; else the "
        "group's routing, then any operator, then the queue.",
    )
    transcript: list[TranscriptLine] = Field(default_factory=list, max_length=MAX_TRANSCRIPT_LINES)


class Attachment(Body):
    """A file the channel keeps: Switchboard keeps the reference."""

    url: Url
    name: bounded(MAX_FILE_NAME, 1) | None = None
    mime: bounded(MAX_MIME, 1) | None = None
    size: Whole | None = Field(None, ge=0, le=MAX_FILE_SIZE, description="In bytes.")


class Button(Body):
    text: bounded(MAX_BUTTON_TEXT, 1)
    value: bounded(MAX_BUTTON_VALUE, 1) | None = Field(
        None, description="What the bot sends back when it is pressed; the text if none."
    )


class MessageIn(Body):
    text: bounded(MAX_TEXT) = Field(
        "", description="May be empty when the message carries attachments."
    )
    author: Literal["client", "bot"] | None = Field(
        None, description="For bots: 'client' (default) relays the client, 'bot' writes as the bot."
    )
    attachments: list[Attachment] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)
    buttons: list[Button] = Field(
        default_factory=list, max_length=MAX_BUTTONS, description="Operators' messages only."
    )
    button_value: bounded(MAX_BUTTON_VALUE, 1) | None = Field(
        None, description="For bots: the value of the button the client pressed."
    )
    quick_reply_id: UUID | None = Field(
        None, description="For operators: reply with this quick reply, its text filled in."
    )

    @model_validator(mode="after")
    def _has_content(self) -> MessageIn:
        if self.quick_reply_id is not None:
            if self.text or self.attachments or self.buttons:
                raise ValueError("a quick reply brings its own text: send quick_reply_id alone")
            return self
        if not self.text.strip() and not self.attachments:
            raise ValueError("a message needs text or attachments")
        return self


class ButtonOut(BaseModel):
    text: str
    value: str


class AttachmentOut(BaseModel):
    url: str
    name: str | None = None
    mime: str | None = None
    size: int | None = None


class MessageOut(BaseModel):
    message_id: UUID
    chat_id: UUID
    author: str
    author_id: str | None = None
    text: str
    at: datetime
    edited_at: datetime | None = None
    deleted: bool = False
    attachments: list[AttachmentOut] = Field(default_factory=list)
    buttons: list[ButtonOut] = Field(default_factory=list)
    button_value: str | None = None


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
    comment: NoteText | None = Field(default=None, description="Kept as a private note.")

    @model_validator(mode="after")
    def _names_a_target(self) -> ReassignIn:
        if self.operator_id is None and self.group_id is None:
            raise ValueError("name an operator_id, a group_id, or both")
        return self


class ChatPatch(Body):
    """Only the fields given change; null clears one."""

    topic: Topic | None = None
    subtopic: Topic | None = None


class ClosedBy(BaseModel):
    kind: Literal["operator", "supervisor", "system", "bot"]
    id: str | None = Field(
        None, description="The operator's id; the bot's name; none for the system."
    )


class ChatOut(BaseModel):
    id: UUID
    external_id: str
    client_id: UUID = Field(description="The client card's id (GET /v1/clients/{id}).")
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
    closed_by: ClosedBy | None = None
    close_reason: str | None = None
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
    close_reason: str | None = None
    closed_by: ClosedBy | None = None
    rating: int | None


class ChatDetailOut(ChatOut):
    messages: list[MessageOut]
    previous_chats: list[PreviousChat] = Field(
        default_factory=list,
        description="The same client's other chats (same client id and channel), newest "
        "first; staff and auditors see them, on the current state only.",
    )
    client_card: ClientOut | None = Field(
        None, description="The client's card, for staff and auditors, on the current state only."
    )
    notes: list[NoteOut] = Field(
        default_factory=list, description="Private notes, oldest first; never shown to bots."
    )


class ChatEventOut(BaseModel):
    version: int
    type: str
    occurred_at: datetime
    actor: str | None
    data: dict[str, Any]
