"""The read models as the API shows them: dashboard rows and history rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field, computed_field

from api.schemas.chats import ClosedBy
from domain.client import client_id_of

# -- reading --------------------------------------------------------------------------------------


class LastMessage(BaseModel):
    text: str
    author: str
    at: datetime


class DashboardRow(BaseModel):
    id: UUID
    external_id: str
    client_id: UUID = Field(description="The client card's id (`GET /v1/clients/{id}`).")
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
    overdue: bool = Field(
        False,
        description="The running response clock ran past its group's SL (cleared when the "
        "client's turn is answered or the chat closes).",
    )
    muted: bool
    muted_until: datetime | None = None
    rating: int | None
    last_message: LastMessage | None
    position: int = Field(
        0, description="The log position of this row's latest change (a stream event's id)."
    )


# -- history --------------------------------------------------------------------------------------


class HistoryRow(BaseModel):
    id: UUID
    external_id: str
    status: str
    group_id: UUID | None
    operator_id: UUID | None = Field(
        description="Who holds the chat now; for a closed chat, who held it at close."
    )
    operator_ids: list[UUID] = Field(description="Every operator who held the chat, in order.")
    client: dict[str, Any]
    topic: str | None
    subtopic: str | None
    requested_at: datetime
    closed_at: datetime | None
    close_reason: str | None
    closed_by: ClosedBy | None = None
    rating: int | None
    message_count: int = Field(
        description="Messages of the client, the bot and operators; deleted ones not counted."
    )
    headline: str | None = Field(
        None, description="With q: the matched words in context, marked «like this»."
    )

    @computed_field(description="The client card's id (GET /v1/clients/{id}).")
    @property
    def client_id(self) -> UUID:
        return client_id_of(self.client)
