"""The Client aggregate: one card per client of a channel, made or updated by each handoff.

Every personal field of a client (profile, notes) lives in this aggregate's events, reachable
from its id alone, so that a per-client key can later encrypt them (crypto-shredding).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.client_profile import MAX_EMAIL, check_custom
from domain.errors import DomainError, InvalidValue
from domain.texts import (
    MAX_LANGUAGE,
    MAX_NAME,
    MAX_PHONE,
    MAX_SHORT_TEXT,
    check_no_nul,
    check_short_text,
    check_url,
)

_NAMESPACE = uuid5(NAMESPACE_URL, "switchboard:client")
PROFILE_FIELDS = ("name", "username", "phone", "email", "language", "photo_url", "custom")
MAX_NOTE = MAX_SHORT_TEXT
MAX_NOTES = 200
MAX_TAGS = 20
MAX_TAG = 50
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ().\-]*$")


class ClientBlocked(DomainError):
    """The client is blocked: no new handoff, no message."""


class BlockForbidden(DomainError):
    """Only supervisors block clients, unless the company lets operators do it too."""


class UnknownNote(DomainError):
    """The client has no note with that id."""


def client_key(client: dict[str, Any]) -> tuple[str, str]:
    """(channel, the bot's client id) of a client as a handoff records it."""
    if not isinstance(client, dict):
        return "", ""
    return str(client.get("channel") or ""), str(client.get("id") or "")


def client_id_of(client: dict[str, Any]) -> UUID:
    """The card's id of a client as a chat records it."""
    return Client.id_for(*client_key(client))


def check_profile(changes: dict[str, Any]) -> None:
    """What staff may set on a card; a bad e-mail or phone is refused (None clears a field)."""
    for name, value in changes.items():
        if name not in PROFILE_FIELDS:
            raise InvalidValue(f"a client has no field {name!r}")
        if value is None:
            continue
        if name == "custom":
            check_custom(value)
            continue
        if not isinstance(value, str):
            raise InvalidValue(f"a client's {name} is text")
        check_no_nul(value, f"a client's {name}")
        if name == "email" and (len(value) > MAX_EMAIL or not _EMAIL.match(value)):
            raise InvalidValue("a client's email is an e-mail address (name@domain)")
        elif name == "phone" and (
            len(value) > MAX_PHONE or not _PHONE.match(value) or _digits(value) < 3
        ):
            raise InvalidValue("a client's phone is digits, with + ( ) - . or spaces")
        elif name == "photo_url":
            check_url(value, "a client's photo_url")
        elif name in ("name", "username") and not 0 < len(value) <= MAX_NAME:
            raise InvalidValue(f"a client's {name} is 1 to {MAX_NAME} characters")
        elif name == "language" and len(value) > MAX_LANGUAGE:
            raise InvalidValue(f"a client's language is at most {MAX_LANGUAGE} characters")


def _digits(value: str) -> int:
    return sum(c.isdigit() for c in value)


def clean_tags(tags: list[str]) -> list[str]:
    """Tags as kept: trimmed, without repeats, in the order given."""
    if not isinstance(tags, list) or len(tags) > MAX_TAGS:
        raise InvalidValue(f"a client has at most {MAX_TAGS} tags")
    kept: list[str] = []
    for tag in tags:
        if not isinstance(tag, str) or not 0 < len(tag.strip()) <= MAX_TAG:
            raise InvalidValue(f"a tag is 1 to {MAX_TAG} characters")
        check_no_nul(tag, "a tag")
        if tag.strip() not in kept:
            kept.append(tag.strip())
    return kept


class Client(Aggregate):
    class Event(Aggregate.Event):
        actor: str

    class Seen(Aggregate.Created):
        """The first handoff of this client."""

        actor: str
        channel: str
        external_id: str
        profile: dict[str, Any]
        chat_id: UUID

    class Returned(Event):
        """A later handoff: the bot's fields as it sends them now, and the new chat."""

        profile: dict[str, Any]
        chat_id: UUID

        def apply(self, client: Client) -> None:
            client.profile.update(self.profile)
            client.chat_ids.append(self.chat_id)
            client.last_seen_at = self.timestamp

    class Edited(Event):
        changes: dict[str, Any]

        def apply(self, client: Client) -> None:
            for name, value in self.changes.items():
                if value is None:
                    client.profile.pop(name, None)
                else:
                    client.profile[name] = value

    class NoteAdded(Event):
        note_id: UUID
        text: str
        author_id: UUID | None

        def apply(self, client: Client) -> None:
            note = {"id": self.note_id, "text": self.text, "author_id": self.author_id}
            client.notes.append({**note, "at": self.timestamp})

    class NoteDeleted(Event):
        note_id: UUID

        def apply(self, client: Client) -> None:
            client.notes = [n for n in client.notes if n["id"] != self.note_id]

    class TagsSet(Event):
        tags: list[str]

        def apply(self, client: Client) -> None:
            client.tags = list(self.tags)

    class Blocked(Event):
        reason: str | None

        def apply(self, client: Client) -> None:
            client.blocked = True
            client.blocked_reason = self.reason

    class Unblocked(Event):
        def apply(self, client: Client) -> None:
            client.blocked = False
            client.blocked_reason = None

    @staticmethod
    def id_for(channel: str, external_id: str) -> UUID:
        return uuid5(_NAMESPACE, f"{channel}\x00{external_id}")

    @classmethod
    def first_seen(
        cls, client: dict[str, Any], *, chat_id: UUID, at: datetime, actor: str
    ) -> Client:
        channel, external_id = client_key(client)
        return cls._create(
            cls.Seen,
            id=cls.id_for(channel, external_id),
            timestamp=at,
            actor=actor,
            channel=channel,
            external_id=external_id,
            profile=_profile(client),
            chat_id=chat_id,
        )

    def __init__(
        self,
        *,
        actor: str,
        channel: str,
        external_id: str,
        profile: dict[str, Any],
        chat_id: UUID,
    ) -> None:
        self.channel = channel
        self.external_id = external_id
        self.profile: dict[str, Any] = dict(profile)
        self.chat_ids: list[UUID] = [chat_id]
        self.notes: list[dict[str, Any]] = []
        self.tags: list[str] = []
        self.blocked = False
        self.blocked_reason: str | None = None
        self.last_seen_at: datetime = self.created_on

    @property
    def first_seen_at(self) -> datetime:
        return self.created_on

    # -- checks -------------------------------------------------------------------------------

    def check_not_blocked(self) -> None:
        if self.blocked:
            raise ClientBlocked(f"client {self.id} is blocked")

    # -- commands -----------------------------------------------------------------------------

    def hand_off(self, client: dict[str, Any], *, chat_id: UUID, at: datetime, actor: str) -> None:
        """A new chat of this client: refused while blocked; the bot's fields update the card."""
        self.check_not_blocked()
        profile = _profile(client)
        self.trigger_event(
            self.Returned, timestamp=at, actor=actor, profile=profile, chat_id=chat_id
        )

    def edit(self, changes: dict[str, Any], *, at: datetime, actor: str) -> bool:
        check_profile(changes)
        changed = {k: v for k, v in changes.items() if self.profile.get(k) != v}
        if not changed:
            return False
        self.trigger_event(self.Edited, timestamp=at, actor=actor, changes=changed)
        return True

    def add_note(
        self, note_id: UUID, text: str, *, author_id: UUID | None, at: datetime, actor: str
    ) -> None:
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_NOTE:
            raise InvalidValue(f"a note is 1 to {MAX_NOTE} characters")
        check_no_nul(text, "a note")
        if len(self.notes) >= MAX_NOTES:
            raise InvalidValue(f"a client has at most {MAX_NOTES} notes")
        self.trigger_event(
            self.NoteAdded,
            timestamp=at,
            actor=actor,
            note_id=note_id,
            text=text,
            author_id=author_id,
        )

    def delete_note(self, note_id: UUID, *, at: datetime, actor: str) -> None:
        if not any(note["id"] == note_id for note in self.notes):
            raise UnknownNote(f"client {self.id} has no note {note_id}")
        self.trigger_event(self.NoteDeleted, timestamp=at, actor=actor, note_id=note_id)

    def set_tags(self, tags: list[str], *, at: datetime, actor: str) -> bool:
        kept = clean_tags(tags)
        if kept == self.tags:
            return False
        self.trigger_event(self.TagsSet, timestamp=at, actor=actor, tags=kept)
        return True

    def block(self, reason: str | None, *, at: datetime, actor: str) -> bool:
        check_short_text(reason, "a block reason")
        if self.blocked and self.blocked_reason == reason:
            return False
        self.trigger_event(self.Blocked, timestamp=at, actor=actor, reason=reason)
        return True

    def unblock(self, *, at: datetime, actor: str) -> bool:
        if not self.blocked:
            return False
        self.trigger_event(self.Unblocked, timestamp=at, actor=actor)
        return True


def _profile(client: dict[str, Any]) -> dict[str, Any]:
    return {name: client[name] for name in PROFILE_FIELDS if client.get(name) is not None}
