"""A chat's messages as the aggregate keeps them: a list of plain dicts, in order.

Plain dicts, so that the chat's snapshots store them as they are; these functions read them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from domain.errors import InvalidValue, NotAssigned, UnknownMessage
from domain.texts import MAX_TEXT, check_no_nul, check_url

AUTHORS = ("client", "bot", "operator", "system")
TRANSCRIPT_AUTHORS = ("client", "bot")
MAX_TRANSCRIPT_LINES = 500

# Attachments are references: the channel keeps the files, the chat keeps where they are.
MAX_ATTACHMENTS = 10
MAX_FILE_NAME = 255
MAX_MIME = 100
MAX_FILE_SIZE = 2**40  # bytes, as the channel reports them
# Buttons the bot shows under an operator's or the system's message; a pressed one comes back
# as the client's message with its value.
MAX_BUTTONS = 20
MAX_BUTTON_TEXT = 100
MAX_BUTTON_VALUE = 200
BUTTON_AUTHORS = ("operator", "system")


def check_content(text: str, attachments: list[dict[str, Any]]) -> None:
    """A message has text, attachments, or both; never neither."""
    if not isinstance(text, str):
        raise InvalidValue("a message's text is a string")
    check_no_nul(text, "a message")
    if len(text) > MAX_TEXT:
        raise InvalidValue(f"a message is at most {MAX_TEXT} characters")
    if not text.strip() and not attachments:
        raise InvalidValue("a message needs text or attachments")


def attachment_list(attachments: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The attachments as a message keeps them: ``url``, and ``name``, ``mime``, ``size``."""
    items = list(attachments or [])
    if len(items) > MAX_ATTACHMENTS:
        raise InvalidValue(f"a message has at most {MAX_ATTACHMENTS} attachments")
    return [_attachment(item) for item in items]


def _attachment(item: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(item, dict) or not item.get("url"):
        raise InvalidValue("an attachment needs a url")
    check_url(item["url"], "an attachment's url")
    for key, limit in (("name", MAX_FILE_NAME), ("mime", MAX_MIME)):
        value = item.get(key)
        if value is not None and (not isinstance(value, str) or not 0 < len(value) <= limit):
            raise InvalidValue(f"an attachment's {key} is 1 to {limit} characters")
        if value is not None:
            check_no_nul(value, f"an attachment's {key}")
    size = item.get("size")
    if size is not None and (
        isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_FILE_SIZE
    ):
        raise InvalidValue(f"an attachment's size is 0 to {MAX_FILE_SIZE} bytes")
    return {k: item.get(k) for k in ("url", "name", "mime", "size")}


def button_list(buttons: list[dict[str, Any]] | None, author: str) -> list[dict[str, Any]]:
    """Buttons as a message keeps them: ``text`` shown, ``value`` sent back (the text if none)."""
    items = list(buttons or [])
    if items and author not in BUTTON_AUTHORS:
        raise InvalidValue("only operators' and system messages carry buttons")
    if len(items) > MAX_BUTTONS:
        raise InvalidValue(f"a message has at most {MAX_BUTTONS} buttons")
    return [_button(item) for item in items]


def _button(item: dict[str, Any]) -> dict[str, Any]:
    text = item.get("text") if isinstance(item, dict) else None
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_BUTTON_TEXT:
        raise InvalidValue(f"a button needs text of 1 to {MAX_BUTTON_TEXT} characters")
    value = item.get("value")
    value = text if value is None else value
    check_button_value(value)
    check_no_nul(text, "a button's text")
    return {"text": text, "value": value}


def check_button_value(value: str | None) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not value or len(value) > MAX_BUTTON_VALUE:
        raise InvalidValue(f"a button's value is 1 to {MAX_BUTTON_VALUE} characters")
    check_no_nul(value, "a button's value")


def display_text(text: str, attachments: list[dict[str, Any]] | None) -> str:
    """What a preview or a search shows of a message: its text, else its attachments' names."""
    if text.strip() or not attachments:
        return text
    return ", ".join(a.get("name") or a["url"].rstrip("/").rsplit("/", 1)[-1] for a in attachments)


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
