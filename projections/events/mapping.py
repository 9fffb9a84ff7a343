"""From the log's domain events to Events (API.md, "Events for bots and channels"): which
domain event becomes which Event, with what ``data``. Every mapping is here, in one table.

Pure functions over the facts the Events read model keeps (a chat's external id, bot and
operator; operators' first names; messages as ``GET /v1/chats/{id}/messages`` shows them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid5

EVENT_NAMESPACE = UUID("0e5b7d52-3f7c-4a55-9d0a-6b1f2c9e8a41")

# Domain events that are never an Event, whatever they carry: private notes are for staff
# alone (none exist yet; their names are reserved here so that adding them leaks nothing).
PRIVATE = frozenset({"Chat.NoteAdded", "Chat.NotePosted", "Chat.PrivateNoteAdded"})
# No domain event records an overdue answer yet: the one that will is mapped to chat.overdue.
OVERDUE = ("Chat.ResponseOverdue", "Chat.Overdue", "Chat.OverdueRecorded")


@dataclass
class ChatFacts:
    """What the Events read model keeps about a chat, fed by the chat's events."""

    id: UUID
    external_id: str
    bot: str | None
    operator_id: UUID | None = None


@dataclass(frozen=True)
class Fact:
    """One Event to record: its type, the operator involved (if any) and its ``data``."""

    type: str
    operator_id: UUID | None
    data: dict[str, Any]


def event_id(chat_id: UUID, version: int, type_: str) -> str:
    """Stable: the same domain event always gives the same Event id (receivers deduplicate)."""
    return "evt_" + uuid5(EVENT_NAMESPACE, f"{chat_id}/{version}/{type_}").hex


def bot_of(actor: str) -> str | None:
    """The bot token's name in a handoff's actor (``bot:<name>``)."""
    role, _, name = actor.partition(":")
    return name if role == "bot" and name else None


def iso(at: datetime | None) -> str | None:
    """A time as the API writes it (pydantic's JSON: UTC with a ``Z``)."""
    if at is None:
        return None
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def closed_by(actor: str, holder: UUID | None) -> dict[str, Any]:
    """Who closed a chat, from the Closed event's actor: its operator, a supervisor (another
    operator, or an admin or supervisor token), the engine, or the bot."""
    role, _, rest = actor.partition(":")
    if role == "operator":
        kind = "operator" if holder is not None and str(holder) == rest else "supervisor"
        return {"kind": kind, "id": rest}
    if role == "bot":
        return {"kind": "bot"}
    if actor == "system":
        return {"kind": "system"}
    return {"kind": "supervisor"}


def message_state(event: Any) -> dict[str, Any]:
    """A posted message as the Chat aggregate keeps it (``Chat.MessagePosted.apply``)."""
    state = {
        "id": str(event.message_id),
        "author": event.author,
        "author_id": event.author_id,
        "text": event.text,
        "at": iso(event.timestamp),
    }
    # Whatever else a message carries (attachments, buttons, ...) goes along as it is.
    extra = set(vars(event)) - {"message_id", "author", "author_id", "text", "actor"}
    extra -= {"originator_id", "originator_version", "timestamp", "originator_topic"}
    state.update({key: vars(event)[key] for key in sorted(extra)})
    return state


def message_json(chat_id: UUID, message: dict[str, Any]) -> dict[str, Any]:
    """The Message as ``GET /v1/chats/{id}/messages`` shows it (``api.views.message_out``;
    a test holds the two to the same answer)."""
    core = {"id", "author", "author_id", "text", "at", "edited_at", "deleted_at"}
    return {
        "message_id": message["id"],
        "chat_id": str(chat_id),
        "author": message["author"],
        "author_id": message["author_id"],
        "text": message["text"],
        "at": message["at"],
        "edited_at": message.get("edited_at"),
        "deleted": message.get("deleted_at") is not None,
        **{key: value for key, value in message.items() if key not in core},
    }


def _uuid(value: Any) -> str | None:
    return None if value is None else str(value)


def _queued(e: Any, chat: ChatFacts, message: Any) -> Fact:
    return Fact("chat.queued", None, {"group_id": _uuid(e.group_id)})


def _assigned(e: Any, chat: ChatFacts, message: Any) -> Fact:
    return Fact("chat.assigned", e.operator_id, {"group_id": _uuid(e.group_id)})


def _intercepted(e: Any, chat: ChatFacts, message: Any) -> Fact:
    return Fact("chat.intercepted", e.operator_id, {})


def _reassigned(e: Any, chat: ChatFacts, message: Any) -> Fact:
    data = {"group_id": _uuid(e.group_id), "from_operator_id": _uuid(e.from_operator_id)}
    return Fact("chat.reassigned", e.operator_id, data)


def _muted(e: Any, chat: ChatFacts, message: Any) -> Fact:
    return Fact("chat.muted", chat.operator_id, {"until": iso(e.until)})


def _unmuted(e: Any, chat: ChatFacts, message: Any) -> Fact:
    return Fact("chat.unmuted", chat.operator_id, {})


def _closed(e: Any, chat: ChatFacts, message: Any) -> Fact:
    data = {"closed_by": closed_by(e.actor, chat.operator_id), "reason": e.reason}
    return Fact("chat.closed", chat.operator_id, data)


def _rated(e: Any, chat: ChatFacts, message: Any) -> Fact:
    return Fact("chat.rated", chat.operator_id, {"score": e.score, "comment": e.comment})


def _overdue(e: Any, chat: ChatFacts, message: Any) -> Fact:
    data = {key: getattr(e, key, None) for key in ("clock", "due_at")}
    data["due_at"] = iso(data["due_at"]) if isinstance(data["due_at"], datetime) else None
    return Fact("chat.overdue", chat.operator_id, data)


def _message(type_: str) -> Callable[[Any, ChatFacts, Any], Fact]:
    def fact(e: Any, chat: ChatFacts, message: dict[str, Any]) -> Fact:
        author_id = message["author_id"] if message["author"] == "operator" else None
        operator = UUID(author_id) if author_id else chat.operator_id
        return Fact(type_, operator, message_json(chat.id, message))

    return fact


FACTS: dict[str, Callable[[Any, ChatFacts, Any], Fact]] = {
    "Chat.Queued": _queued,
    "Chat.Assigned": _assigned,
    "Chat.Intercepted": _intercepted,
    "Chat.Reassigned": _reassigned,
    "Chat.Muted": _muted,
    "Chat.Unmuted": _unmuted,
    "Chat.Closed": _closed,
    "Chat.Rated": _rated,
    "Chat.MessagePosted": _message("message.created"),
    "Chat.MessageEdited": _message("message.edited"),
    "Chat.MessageDeleted": _message("message.deleted"),
    **dict.fromkeys(OVERDUE, _overdue),
}


def event_name(event: Any) -> str:
    return type(event).__qualname__


def fact_for(event: Any, chat: ChatFacts, message: dict[str, Any] | None) -> Fact | None:
    """The Event a chat's domain event becomes, or None (not every change is told)."""
    name = event_name(event)
    if name in PRIVATE or getattr(event, "private", False):
        return None
    build = FACTS.get(name)
    return None if build is None else build(event, chat, message)
