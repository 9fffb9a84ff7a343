"""Questions to the client with buttons: "anything left?" (its ``no`` closes the chat)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response, status

from api.deps import AppDep, Staff, positioned
from api.schemas import MessageOut
from api.views import message_out

router = APIRouter(prefix="/v1/chats", tags=["chats"])


@router.post(
    "/{chat_id}/ask-resolved", status_code=status.HTTP_201_CREATED, response_model=MessageOut
)
def ask_resolved(chat_id: UUID, app: AppDep, caller: Staff, response: Response) -> MessageOut:
    """A system message asks the client whether anything is left, with buttons ``yes`` and
    ``no``; the bot relays the pressed one as ``button_value``: ``no`` closes the chat
    (``close_reason`` "resolved", ``closed_by`` the bot), ``yes`` keeps it open."""
    done = app.ask_resolved(chat_id, caller=caller)
    positioned(response, done)
    return message_out(chat_id, done.value)
