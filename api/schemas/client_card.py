"""The client card as staff read it (also inside a chat's detail)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field


class ClientNoteOut(BaseModel):
    id: UUID
    text: str
    author_id: UUID | None
    at: datetime


class ClientOut(BaseModel):
    id: UUID
    channel: str
    external_id: str = Field(description="The bot's id of the client on its channel.")
    name: str | None = None
    username: str | None = None
    phone: str | None = None
    email: str | None = None
    language: str | None = None
    photo_url: str | None = None
    custom: dict[str, Any] = Field(default_factory=dict)
    tags: list[str]
    blocked: bool
    blocked_reason: str | None
    notes: list[ClientNoteOut]
    chats: list[UUID] = Field(description="The client's chats, oldest first.")
    first_seen_at: datetime
    last_seen_at: datetime
