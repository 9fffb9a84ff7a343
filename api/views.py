"""Turn domain objects and read-model rows into response bodies (never return an aggregate)."""

from __future__ import annotations

from typing import Any

from api.schemas import (
    ChatDetailOut,
    ChatEventOut,
    ChatOut,
    DashboardRow,
    GroupOut,
    LastMessage,
    MessageOut,
    NoteOut,
    OperatorOut,
    PreviousChat,
)
from domain.chat import Chat
from domain.client import client_id_of
from domain.group import Group
from domain.operator import Operator

_EVENT_ENVELOPE = {"originator_id", "originator_version", "timestamp", "actor", "originator_topic"}


def chat_out(chat: Chat) -> ChatOut:
    return ChatOut(**_chat_fields(chat))


def chat_detail_out(
    chat: Chat,
    previous: list[dict[str, Any]] = (),
    client_card: Any = None,
    *,
    notes: bool = True,
) -> ChatDetailOut:
    """``notes``: false for a bot, which never reads staff's private notes."""
    return ChatDetailOut(
        **_chat_fields(chat),
        client_card=client_card,
        messages=[message_out(chat.id, m) for m in chat.messages],
        previous_chats=[PreviousChat(**row) for row in previous],
        notes=[NoteOut(**note) for note in chat.notes] if notes else [],
    )


def _chat_fields(chat: Chat) -> dict[str, Any]:
    return {
        "id": chat.id,
        "external_id": chat.external_id,
        "client_id": client_id_of(chat.client),
        "status": chat.status,
        "group_id": chat.group_id,
        "operator_id": chat.operator_id,
        "client": chat.client,
        "topic": chat.topic,
        "subtopic": chat.subtopic,
        "muted": chat.muted,
        "muted_until": chat.muted_until,
        "requested_at": chat.requested_at,
        "closed_at": chat.closed_at,
        "closed_by": chat.closed_by,
        "close_reason": chat.close_reason,
        "rating": chat.rating,
        "version": chat.version,
    }


def message_out(chat_id, message: dict[str, Any]) -> MessageOut:
    """A message as the bot and staff read it, from the chat's ``messages`` or from a
    ``Chat.MessagePosted`` event's ``as_message()``: the one rendering of a message."""
    return MessageOut(
        message_id=message["id"],
        chat_id=chat_id,
        author=message["author"],
        author_id=message["author_id"],
        text=message["text"],
        at=message["at"],
        edited_at=message.get("edited_at"),
        deleted=message.get("deleted_at") is not None,
        # Messages in snapshots taken before attachments and buttons have neither.
        attachments=message.get("attachments") or [],
        buttons=message.get("buttons") or [],
        button_value=message.get("button_value"),
    )


def operator_out(operator: Operator) -> OperatorOut:
    return OperatorOut(
        id=operator.id,
        first_name=operator.first_name,
        last_name=operator.last_name,
        email=operator.email,
        role=operator.role,
        group_ids=operator.group_ids,
        max_chats=operator.max_chats,
        status=operator.status,
        status_since=operator.status_since,
        load=operator.load,
        auto_logout_s=operator.auto_logout_s,
        active=operator.active,
    )


def group_out(group: Group) -> GroupOut:
    return GroupOut(
        id=group.id,
        name=group.name,
        description=group.description,
        sl_first_response_s=group.sl_first_response_s,
        sl_next_response_s=group.sl_next_response_s,
        routing=group.routing,
    )


def dashboard_row(row: dict[str, Any]) -> DashboardRow:
    last = None
    if row["last_message_text"] is not None:
        last = LastMessage(
            text=row["last_message_text"],
            author=row["last_message_author"],
            at=row["last_message_at"],
        )
    return DashboardRow(
        **{k: v for k, v in row.items() if not k.startswith("last_")},
        last_message=last,
        client_id=client_id_of(row["client"]),
    )


def event_out(event: Any) -> ChatEventOut:
    return ChatEventOut(
        version=event.originator_version,
        type=type(event).__name__,
        occurred_at=event.timestamp,
        actor=getattr(event, "actor", None),
        data={k: v for k, v in event.__dict__.items() if k not in _EVENT_ENVELOPE},
    )
