"""Request and response bodies: the shapes of API.md, separate from the domain's objects."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field

T = TypeVar("T")


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_no_nul)]
ShortText = Annotated[str, Field(max_length=2_000), AfterValidator(_no_nul)]
MessageText = Annotated[str, Field(min_length=1, max_length=10_000), AfterValidator(_no_nul)]
StaffRole = Literal["operator", "supervisor", "admin"]
AnyRole = Literal["admin", "supervisor", "operator", "bot", "analyst", "auditor"]
SettableStatus = Literal["working", "break", "leaving", "offline"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


# -- tokens ---------------------------------------------------------------------------------------


class TokenIn(Body):
    role: AnyRole
    name: Name
    operator_id: UUID | None = None


class TokenOut(BaseModel):
    token: str = Field(description="Shown this once; only its hash is kept.")
    role: str
    name: str
    operator_id: UUID | None = None


# -- groups ---------------------------------------------------------------------------------------


class GroupIn(Body):
    name: Name
    description: ShortText = ""
    sl_first_response_s: int | None = Field(None, ge=1, le=86_400 * 7)
    sl_next_response_s: int | None = Field(None, ge=1, le=86_400 * 7)
    routing: Literal["auto", "manual"] = "auto"


class GroupPatch(Body):
    name: Name | None = None
    description: ShortText | None = None
    sl_first_response_s: int | None = Field(None, ge=1, le=86_400 * 7)
    sl_next_response_s: int | None = Field(None, ge=1, le=86_400 * 7)
    routing: Literal["auto", "manual"] | None = None


class GroupOut(BaseModel):
    id: UUID
    name: str
    description: str
    sl_first_response_s: int
    sl_next_response_s: int
    routing: str


# -- operators ------------------------------------------------------------------------------------


class OperatorIn(Body):
    first_name: Name
    last_name: Name
    email: EmailStr
    role: StaffRole = "operator"
    group_ids: list[UUID] = Field(default_factory=list, max_length=100)
    max_chats: int = Field(300, ge=0, le=10_000)
    auto_logout_s: int = Field(0, ge=0, le=86_400 * 7)


class OperatorPatch(Body):
    first_name: Name | None = None
    last_name: Name | None = None
    email: EmailStr | None = None
    role: StaffRole | None = None
    group_ids: list[UUID] | None = Field(None, max_length=100)
    max_chats: int | None = Field(None, ge=0, le=10_000)
    auto_logout_s: int | None = Field(None, ge=0, le=86_400 * 7)


class StatusIn(Body):
    status: SettableStatus


class OperatorOut(BaseModel):
    id: UUID
    first_name: str
    last_name: str
    email: str
    role: str
    group_ids: list[UUID]
    max_chats: int
    status: str
    status_since: datetime | None = None
    load: int
    auto_logout_s: int = 0


class OperatorCreated(OperatorOut):
    token: str = Field(description="The operator's token, shown this once.")


# -- chats ----------------------------------------------------------------------------------------


class ClientIn(Body):
    id: Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_no_nul)]
    name: Name | None = None
    phone: Annotated[str, Field(max_length=50), AfterValidator(_no_nul)] | None = None
    channel: Annotated[str, Field(max_length=50), AfterValidator(_no_nul)] | None = None
    language: Annotated[str, Field(max_length=20), AfterValidator(_no_nul)] | None = None


class TranscriptLine(Body):
    author: Literal["client", "bot"]
    text: MessageText
    at: datetime | None = None


class HandoffIn(Body):
    external_id: Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_no_nul)]
    client: ClientIn
    topic: Name | None = None
    subtopic: Name | None = None
    group_id: UUID | None = None
    transcript: list[TranscriptLine] = Field(default_factory=list, max_length=500)


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


class MessagesPage(BaseModel):
    items: list[MessageOut]
    chat_status: str = Field(description="'closed' tells the bot the chat is back with it.")


class RatingIn(Body):
    score: int = Field(ge=1, le=5)
    comment: ShortText | None = None


class CloseIn(Body):
    reason: ShortText | None = None


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
    requested_at: datetime
    closed_at: datetime | None
    rating: int | None
    version: int


class ChatDetailOut(ChatOut):
    messages: list[MessageOut]


# -- reading --------------------------------------------------------------------------------------


class LastMessage(BaseModel):
    text: str
    author: str
    at: datetime


class DashboardRow(BaseModel):
    id: UUID
    external_id: str
    status: str
    operator_id: UUID | None
    group_id: UUID | None
    client_label: str
    topic: str | None
    subtopic: str | None
    requested_at: datetime
    closed_at: datetime | None
    waiting_since: datetime | None
    sl_due_at: datetime | None
    muted: bool
    rating: int | None
    last_message: LastMessage | None


class ChatEventOut(BaseModel):
    version: int
    type: str
    occurred_at: datetime
    actor: str | None
    data: dict[str, Any]
