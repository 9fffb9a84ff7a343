"""Private notes on a chat: staff who may see the chat write them for each other."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response, status

from api.deps import AppDep, Staff, positioned
from api.schemas.notes import NoteIn, NoteOut

router = APIRouter(prefix="/v1/chats", tags=["chats"])


@router.post("/{chat_id}/notes", status_code=status.HTTP_201_CREATED, response_model=NoteOut)
def add_note(
    chat_id: UUID, body: NoteIn, app: AppDep, caller: Staff, response: Response
) -> NoteOut:
    """A note the client never reads: not in the bot's messages, Events or webhooks."""
    done = app.add_note(chat_id, body.text, caller=caller)
    positioned(response, done)
    return NoteOut(**done.value)
