"""Quick replies: texts an operator sends with one click, kept for the company, a group, or one
operator (personal). Each is a ``QuickReply``; a ``QuickReplyIndex`` (one, at a fixed id) lists
them by scope, so a list loads only the replies its reader may use.
"""

from __future__ import annotations

import string
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.errors import InvalidValue
from domain.texts import MAX_NAME, MAX_TEXT, check_no_nul

MAX_SHORTCUT = 50
PLACEHOLDERS = ("client_name", "operator_first_name")
INDEX_NAMESPACE = UUID("0f3c2b4e-6a1d-4e8b-9c57-2d4e6f8a1b3c")
FIELDS = ("shortcut", "text", "title")


def check_reply_fields(changes: dict[str, Any]) -> None:
    """A shortcut (no blanks), a text with only known placeholders, an optional title."""
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise InvalidValue(f"a quick reply has no field {sorted(unknown)[0]!r}")
    shortcut = changes.get("shortcut", "x")
    if not isinstance(shortcut, str) or not 0 < len(shortcut) <= MAX_SHORTCUT:
        raise InvalidValue(f"a shortcut is 1 to {MAX_SHORTCUT} characters")
    if any(c.isspace() for c in shortcut) or "\x00" in shortcut:
        raise InvalidValue("a shortcut is one word, without blanks")
    if "text" in changes:
        check_reply_text(changes["text"])
    title = changes.get("title")
    if title is not None:
        if not isinstance(title, str) or len(title) > MAX_NAME:
            raise InvalidValue(f"a title is at most {MAX_NAME} characters")
        check_no_nul(title, "a title")


def check_reply_text(text: Any) -> None:
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        raise InvalidValue(f"a quick reply's text is 1 to {MAX_TEXT} characters")
    check_no_nul(text, "a quick reply's text")
    try:
        fields = [(f, s, c) for _, f, s, c in string.Formatter().parse(text) if f is not None]
    except ValueError as error:
        raise InvalidValue(f"a quick reply's text is not a valid template: {error}") from error
    for field, spec, conversion in fields:
        if field not in PLACEHOLDERS or spec or conversion:
            allowed = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            raise InvalidValue(f"a quick reply's text may use {allowed}, not {{{field}}}")


def filled_in(text: str, *, client_name: str, operator_first_name: str) -> str:
    return text.format(client_name=client_name, operator_first_name=operator_first_name)


class QuickReply(Aggregate):
    """Company-wide (no group, no owner), a group's, or one operator's own (``owner_id``)."""

    class Event(Aggregate.Event):
        actor: str

    class Created(Aggregate.Created):
        actor: str
        shortcut: str
        text: str
        title: str | None
        group_id: UUID | None
        owner_id: UUID | None

    class Changed(Event):
        changes: dict[str, Any]

        def apply(self, reply: QuickReply) -> None:
            for name, value in self.changes.items():
                setattr(reply, name, value)

    class Deleted(Event):
        def apply(self, reply: QuickReply) -> None:
            reply.deleted = True

    @classmethod
    def create(
        cls,
        reply_id: UUID,
        *,
        shortcut: str,
        text: str,
        title: str | None,
        group_id: UUID | None,
        owner_id: UUID | None,
        at: datetime,
        actor: str,
    ) -> QuickReply:
        check_reply_fields({"shortcut": shortcut, "text": text, "title": title})
        if group_id is not None and owner_id is not None:
            raise InvalidValue("a personal quick reply belongs to no group")
        return cls._create(
            cls.Created,
            id=reply_id,
            timestamp=at,
            actor=actor,
            shortcut=shortcut,
            text=text,
            title=title,
            group_id=group_id,
            owner_id=owner_id,
        )

    def __init__(
        self,
        *,
        actor: str,
        shortcut: str,
        text: str,
        title: str | None,
        group_id: UUID | None,
        owner_id: UUID | None,
    ) -> None:
        self.shortcut = shortcut
        self.text = text
        self.title = title
        self.group_id = group_id
        self.owner_id = owner_id
        self.deleted = False

    @property
    def scope(self) -> str:
        if self.owner_id is not None:
            return "personal"
        return "group" if self.group_id is not None else "company"

    def change(self, changes: dict[str, Any], *, at: datetime, actor: str) -> bool:
        check_reply_fields(changes)
        changed = {k: v for k, v in changes.items() if getattr(self, k) != v}
        if not changed:
            return False
        self.trigger_event(self.Changed, timestamp=at, actor=actor, changes=changed)
        return True

    def delete(self, *, at: datetime, actor: str) -> None:
        self.trigger_event(self.Deleted, timestamp=at, actor=actor)

    def may_use(
        self, operator_id: UUID | None, group_ids: frozenset[UUID], *, supervisor: bool
    ) -> bool:
        """The company's, one's groups' (a supervisor: every group's) and one's own."""
        if self.owner_id is not None:
            return self.owner_id == operator_id
        return self.group_id is None or supervisor or self.group_id in group_ids

    def may_manage(self, operator_id: UUID | None, *, supervisor: bool) -> bool:
        """Supervisors keep the company's and groups'; each operator their own."""
        return self.owner_id == operator_id if self.owner_id is not None else supervisor


class QuickReplyIndex(Aggregate):
    """Which quick replies exist, with their scope: ``{str(id): [group_id, owner_id]}`` (string
    keys, so that a snapshot's JSON holds it)."""

    class Event(Aggregate.Event):
        actor: str

    class Started(Aggregate.Created):
        actor: str

    class Listed(Event):
        reply_id: UUID
        group_id: UUID | None
        owner_id: UUID | None

        def apply(self, index: QuickReplyIndex) -> None:
            index.replies[str(self.reply_id)] = [self.group_id, self.owner_id]

    class Unlisted(Event):
        reply_id: UUID

        def apply(self, index: QuickReplyIndex) -> None:
            index.replies.pop(str(self.reply_id), None)

    @staticmethod
    def fixed_id() -> UUID:
        return uuid5(INDEX_NAMESPACE, "quick-replies")

    @classmethod
    def start(cls, *, at: datetime, actor: str) -> QuickReplyIndex:
        return cls._create(cls.Started, id=cls.fixed_id(), timestamp=at, actor=actor)

    def __init__(self, *, actor: str) -> None:
        self.replies: dict[str, list[UUID | None]] = {}

    def add(self, reply: QuickReply, *, at: datetime, actor: str) -> None:
        self.trigger_event(
            self.Listed,
            timestamp=at,
            actor=actor,
            reply_id=reply.id,
            group_id=reply.group_id,
            owner_id=reply.owner_id,
        )

    def remove(self, reply_id: UUID, *, at: datetime, actor: str) -> None:
        self.trigger_event(self.Unlisted, timestamp=at, actor=actor, reply_id=reply_id)

    def visible_to(
        self, operator_id: UUID | None, group_ids: frozenset[UUID], *, supervisor: bool
    ) -> list[UUID]:
        def sees(group_id: UUID | None, owner_id: UUID | None) -> bool:
            if owner_id is not None:
                return owner_id == operator_id
            return group_id is None or supervisor or group_id in group_ids

        return [UUID(key) for key, (group, owner) in self.replies.items() if sees(group, owner)]
