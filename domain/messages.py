"""A chat's messages as the aggregate keeps them: a list of plain dicts, in order.

Plain dicts, so that the chat's snapshots store them as they are; these functions read them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from domain.errors import InvalidValue, NotAssigned, UnknownMessage

AUTHORS = ("client", "bot", "operator", "system")
TRANSCRIPT_AUTHORS = ("client", "bot")
MAX_TRANSCRIPT_LINES = 500


def transcript_message_id(chat_id: UUID, index: int) -> UUID:
    """Transcript lines get ids derived from the chat, so replays give the same ids."""
    return uuid5(chat_id, f"transcript:{index}")


def transcript_lines(transcript: list[dict[str, Any]] | None, at: datetime) -> list[dict]:
    """The bot's transcript as the handoff records it: lines without a time get the handoff's."""
    lines = list(transcript or [])
    if len(lines) > MAX_TRANSCRIPT_LINES:
        raise InvalidValue(f"a transcript has at most {MAX_TRANSCRIPT_LINES} lines")
    for line in lines:
        if line.get("author") not in TRANSCRIPT_AUTHORS:
            raise InvalidValue("transcript lines are written by the client or the bot")
    return [{"author": x["author"], "text": x["text"], "at": x.get("at") or at} for x in lines]


def transcript_messages(chat_id: UUID, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"id": transcript_message_id(chat_id, n), "author_id": None, **line}
        for n, line in enumerate(lines)
    ]


def find(messages: list[dict[str, Any]], message_id: UUID, chat_id: UUID) -> dict[str, Any]:
    for message in messages:
        if message["id"] == message_id:
            return message
    raise UnknownMessage(f"message {message_id} is not in chat {chat_id}")


def after(
    messages: list[dict[str, Any]], message_id: UUID | None, chat_id: UUID
) -> list[dict[str, Any]]:
    """The messages after ``message_id`` (all of them without it)."""
    if message_id is None:
        return list(messages)
    for n, message in enumerate(messages):
        if message["id"] == message_id:
            return messages[n + 1 :]
    raise InvalidValue(f"message {message_id} is not in chat {chat_id}")


def last_client_message_at(messages: list[dict[str, Any]]) -> datetime | None:
    return next((m["at"] for m in reversed(messages) if m["author"] == "client"), None)


def client_turn_open(messages: list[dict[str, Any]]) -> bool:
    """The client wrote last (ignoring bot and system lines): an operator owes an answer."""
    for message in reversed(messages):
        if message["author"] in ("client", "operator"):
            return message["author"] == "client"
    return False


def check_editable(message: dict[str, Any], operator_id: UUID | None, *, supervisor: bool) -> None:
    """An operator edits or deletes their own messages; a supervisor any operator's."""
    if message.get("deleted_at") is not None:
        raise InvalidValue(f"message {message['id']} is deleted")
    if message["author"] != "operator":
        raise NotAssigned("only operators' messages can be edited or deleted")
    if not supervisor and message["author_id"] != str(operator_id):
        raise NotAssigned("an operator edits or deletes only their own messages")
