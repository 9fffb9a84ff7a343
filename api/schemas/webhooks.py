"""Webhooks and the bot's feed of Events (API.md, "Events for bots and channels")."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from api.schemas.common import Body, Flag, Name, Whole, bounded
from domain.webhook import EVENT_TYPES, MAX_DESCRIPTION, MAX_SECRET_OVERLAP, MAX_URL

EventType = Literal[EVENT_TYPES]  # type: ignore[valid-type]
Url = bounded(MAX_URL, 1)
Description = bounded(MAX_DESCRIPTION)


class WebhookIn(Body):
    url: Url = Field(description="http or https, without credentials.")
    events: list[EventType] | None = Field(
        None, max_length=len(EVENT_TYPES) * 2, description="The Event types sent; default all."
    )
    bot: Name | None = Field(None, description="Only this bot token's chats; default every chat.")
    description: Description | None = None


class WebhookPatch(Body):
    url: Url | None = None
    events: list[EventType] | None = Field(None, max_length=len(EVENT_TYPES) * 2)
    description: Description | None = None
    active: Flag | None = None


class WebhookOut(BaseModel):
    id: UUID
    url: str
    events: list[str] = Field(description="Empty: every type.")
    bot: str | None
    description: str | None
    active: bool
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="`whsec_` + base64: shown this once; signs every delivery.")


class RotateSecretIn(Body):
    overlap_s: Whole | None = Field(
        None,
        ge=0,
        le=int(MAX_SECRET_OVERLAP.total_seconds()),
        description="Seconds the replaced secret still signs beside the new one (0: it stops "
        "at once); default `SWITCHBOARD_WEBHOOK_SECRET_OVERLAP_H`.",
    )


class SecretRotatedOut(WebhookCreated):
    previous_secret_until: datetime = Field(
        description="Until then each delivery carries a signature with the replaced secret too."
    )


class WebhooksPage(BaseModel):
    items: list[WebhookOut]
    next_cursor: str | None = None


class DeliveryOut(BaseModel):
    event_id: str
    type: str
    position: int
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None


class DeliveriesPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None = None


class ReplayIn(Body):
    from_position: Whole = Field(ge=0, description="Send again every matching Event from here.")


class OperatorRef(BaseModel):
    id: UUID
    first_name: str | None


class EventOut(BaseModel):
    id: str = Field(description="Stable: the same fact always has the same id.")
    type: str
    position: int
    occurred_at: datetime
    chat_id: UUID
    external_id: str
    bot: str | None
    operator: OperatorRef | None = Field(None, description="The operator involved, if any.")
    data: dict[str, Any]


class EventsPage(BaseModel):
    items: list[EventOut]
    next_after: int = Field(description="Pass as `after` to get what comes next.")
