"""Private notes on a chat: staff write and read them; bots never see them."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from api.schemas.common import Body, bounded
from domain.chat_notes import MAX_NOTE

NoteText = bounded(MAX_NOTE, 1)


class NoteIn(Body):
    text: NoteText = Field(description=f"At most {MAX_NOTE} characters; never shown to the client.")


class NoteOut(BaseModel):
    id: UUID
    author_id: UUID | None = Field(description="The operator who wrote it; null for a token.")
    text: str
    at: datetime
