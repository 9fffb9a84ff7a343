"""Quick replies: the company's, a group's, or one operator's own texts, with placeholders."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from api.schemas.common import Body, Flag, MessageText, bounded
from domain.quick_reply import MAX_SHORTCUT
from domain.texts import MAX_NAME

Shortcut = bounded(MAX_SHORTCUT, 1)
TEXT_HELP = "May use {client_name} and {operator_first_name}, filled in when it is sent."


class QuickReplyIn(Body):
    shortcut: Shortcut = Field(description="One word, e.g. 'refund'.")
    text: MessageText = Field(description=TEXT_HELP)
    title: bounded(MAX_NAME) | None = None
    group_id: UUID | None = Field(None, description="A group's reply (supervisors).")
    personal: Flag = Field(False, description="The caller's own reply (anyone of the staff).")


class QuickReplyPatch(Body):
    """Only the fields given change."""

    shortcut: Shortcut | None = None
    text: MessageText | None = Field(None, description=TEXT_HELP)
    title: bounded(MAX_NAME) | None = None


class QuickReplyOut(BaseModel):
    id: UUID
    shortcut: str
    text: str
    title: str | None
    scope: Literal["company", "group", "personal"]
    group_id: UUID | None
    owner_id: UUID | None


class QuickReplyPage(BaseModel):
    items: list[QuickReplyOut]
