"""From the log's domain events to Events (API.md, "Events for bots and channels"): which
domain event becomes which Event, with what ``data``. Every mapping is here, in one table.

Pure functions over the facts the Events read model keeps (a chat's external id, bot and
operator; operators' first names; messages as ``GET /v1/chats/{id}/messages`` shows them).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from domain.actors import closer

EVENT_NAMESPACE = UUID("0e5b7d52-3f7c-4a55-9d0a-6b1f2c9e8a41")

# Domain events that are never an Event, whatever they carry: private notes are for staff
# alone (none exist yet; their names are reserved here so that adding them leaks nothing).
PRIVATE = frozenset({"Chat.NoteAdded", "Chat.NotePosted", "Chat.PrivateNoteAdded"})


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


def event_id(chat_id: UUID | str, version: int, type_: str) -> str:
    """Stable: the same domain event always gives the same Event id (receivers deduplicate).

    ``uuid5(EVENT_NAMESPACE, f"{chat_id}/{version}/{type_}").hex``, without building the
    UUID objects (a tenth of the read model's time went there)."""
    digest = bytearray(hashlib.sha1(_NAMESPACE + f"{chat_id}/{version}/{type_}".encode()).digest())
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    return "evt_" + digest[:16].hex()


_NAMESPACE = EVENT_NAMESPACE.bytes


def bot_of(actor: str) -> str | None:
    """The bot token's name in a handoff's actor (``bot:<name>``)."""
    role, _, name = actor.partition(":")
    return name if role == "bot" and name else None


def iso(at: datetime | None) -> str | None:
    """A time as the API writes it (pydantic's JSON: UTC with a ``Z``)."""
    if at is None:
        return None
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


_SCALARS = frozenset({str, int, float, bool, type(None)})


def jsonable(value: Any) -> Any:
    """A message's state as JSON keeps it (ids as text, times as the API writes them)."""
    kind = type(value)
    if kind in _SCALARS:  # most of a message: no call and no isinstance for them
        return value
    if kind is UUID:  # a message's id and time, before the checks of containers
        return str(value)
    if kind is datetime:
        return iso(value)
    if isinstance(value, dict):
        return {
            key: item if type(item) in _SCALARS else jsonable(item) for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [item if type(item) in _SCALARS else jsonable(item) for item in value]
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return iso(value)
    return value


def message_state(event: Any) -> dict[str, Any]:
    """A posted message as the Chat aggregate keeps it (``Chat.MessagePosted.as_message``),
    in JSON. An Event's ``data`` is rendered from it by the API's one rendering of a message
    (``api.views.message_out``), when the Event is read or sent."""
    state = event.as_message()  # a new dict: its values are replaced, not changed
    for key, value in state.items():
        if type(value) not in _SCALARS:
            state[key] = jsonable(value)
    return state


def _uuid(value: Any) -> str | None:
    return None if value is None else str(value)


def _queued(e: Any, chat: ChatFacts, message: Any) -> Fact:
    return Fact("chat.queued", None, {"group_id": _uuid(e.group_id)})


def _moved_to_help(e: Any, chat: ChatFacts, message: Any) -> Fact:
    # Its group was deleted while it waited: it waits on in no group.
    return Fact("chat.queued", None, {"group_id": None, "from_group_id": _uuid(e.from_group_id)})


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
    by = getattr(e, "closed_by", None) or closer(e.actor, chat.operator_id)
    data = {"closed_by": by, "reason": e.reason}
    return Fact("chat.closed", chat.operator_id, data)


def _rated(e: Any, chat: ChatFacts, message: Any) -> Fact:
    return Fact("chat.rated", chat.operator_id, {"score": e.score, "comment": e.comment})


def _overdue(e: Any, chat: ChatFacts, message: Any) -> Fact:
    """A response clock ran past its SL: which clock, and when it was due."""
    return Fact("chat.overdue", e.operator_id, {"clock": e.clock, "due_at": iso(e.due_at)})


def _message(type_: str) -> Callable[[Any, ChatFacts, Any], Fact]:
    def fact(e: Any, chat: ChatFacts, message: dict[str, Any]) -> Fact:
        author_id = message["author_id"] if message["author"] == "operator" else None
        operator = UUID(author_id) if author_id else chat.operator_id
        return Fact(type_, operator, message)

    return fact


FACTS: dict[str, Callable[[Any, ChatFacts, Any], Fact]] = {
    "Chat.Queued": _queued,
    "Chat.MovedToHelp": _moved_to_help,
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
    "Chat.ResponseOverdue": _overdue,
}


def event_name(event: Any) -> str:
    return type(event).__qualname__


def fact_for(event: Any, chat: ChatFacts, message: dict[str, Any] | None) -> Fact | None:
    """The Event a chat's domain event becomes, or None (not every change is told)."""
    kind = type(event)
    build = _BUILDERS.get(kind, _UNKNOWN)
    if build is _UNKNOWN:
        name = event_name(event)
        build = _BUILDERS[kind] = None if name in PRIVATE else FACTS.get(name)
    if build is None or getattr(event, "private", False):
        return None
    return build(event, chat, message)


# ``FACTS``' builder for each event type, found by name once per type (None: no Event).
_BUILDERS: dict[type, Callable[[Any, ChatFacts, Any], Fact] | None] = {}
_UNKNOWN: Any = object()
