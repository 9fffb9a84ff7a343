"""Private notes on a chat: staff write them to each other; the client never reads them.

A mixin of ``Chat``, like ``ChatMessages``: the ``NoteAdded`` event stays nested in ``Chat``.
It is an event of its own, never a ``MessagePosted``, so nothing that relays messages (the
bot's message list, outbound Events and webhooks) can carry a note.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from domain.errors import InvalidValue
from domain.texts import check_no_nul

MAX_NOTE = 5_000


def check_note(text: Any) -> None:
    if not isinstance(text, str) or not text.strip():
        raise InvalidValue("a note needs text")
    if len(text) > MAX_NOTE:
        raise InvalidValue(f"a note is at most {MAX_NOTE} characters")
    check_no_nul(text, "a note")


class ChatNotes:
    """The staff's notes on a ``Chat``, oldest first."""

    # A class default: chats (and their snapshots) from before notes read as having none.
    notes: list[dict[str, Any]] = ()  # type: ignore[assignment]

    def add_note(
        self, note_id: UUID, text: str, *, author_id: UUID | None, at: datetime, actor: str
    ) -> None:
        """A note may be added to a closed chat too: a follow-up for whoever reads it later."""
        check_note(text)
        self.trigger_event(
            self.NoteAdded,
            timestamp=at,
            actor=actor,
            note_id=note_id,
            author_id=author_id,
            text=text,
        )
