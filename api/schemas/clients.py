"""The client card: what staff may change on it (the card as read: ``client_card``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from api.schemas.chats import CustomFields, Url
from api.schemas.client_card import ClientNoteOut, ClientOut
from api.schemas.common import Body, Name, ShortText, bounded
from domain.client import MAX_NOTE, MAX_TAG, MAX_TAGS
from domain.client_profile import MAX_EMAIL
from domain.texts import MAX_LANGUAGE, MAX_PHONE

__all__ = ["BlockIn", "ClientNoteIn", "ClientNoteOut", "ClientOut", "ClientPatch", "ClientTagsIn"]


class ClientPatch(Body):
    """Only the fields given change; null clears one. A bad e-mail or phone is 422."""

    name: Name | None = None
    username: Name | None = None
    phone: bounded(MAX_PHONE, 1) | None = None
    email: bounded(MAX_EMAIL, 3) | None = None
    language: bounded(MAX_LANGUAGE) | None = None
    photo_url: Url | None = None
    custom: CustomFields | None = None


class ClientNoteIn(Body):
    text: bounded(MAX_NOTE, 1)


class ClientTagsIn(Body):
    tags: Annotated[list[bounded(MAX_TAG, 1)], Field(max_length=MAX_TAGS)]


class BlockIn(Body):
    reason: ShortText | None = None
