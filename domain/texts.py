"""Limits of the text the engine keeps, and the checks every aggregate applies to it."""

from __future__ import annotations

from domain.errors import InvalidValue

MAX_NAME = 200  # a person's, a group's, a token's or a client's name
MAX_SHORT_TEXT = 2_000  # a close reason, a rating comment, a group's description
MAX_TEXT = 10_000  # a message
MAX_TOPIC = 200
MAX_EXTERNAL_ID = 200  # the bot's id for a conversation or a client
MAX_PHONE = 50
MAX_CHANNEL = 50
MAX_LANGUAGE = 20
MAX_URL = 2_000  # an attachment's or a photo's address
URL_SCHEMES = ("http://", "https://")


def check_no_nul(value: str, what: str) -> None:
    """PostgreSQL text cannot hold NUL."""
    if "\x00" in value:
        raise InvalidValue(f"{what} cannot contain NUL characters")


def check_text(text: str) -> None:
    if not isinstance(text, str) or not text.strip():
        raise InvalidValue("a message needs text")
    check_no_nul(text, "a message")
    if len(text) > MAX_TEXT:
        raise InvalidValue(f"a message is at most {MAX_TEXT} characters")


def check_topic(value: str | None) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TOPIC:
        raise InvalidValue(f"a topic is 1 to {MAX_TOPIC} characters")
    check_no_nul(value, "a topic")


def check_short_text(value: str | None, what: str) -> None:
    """A reason, a comment, a description: optional, at most ``MAX_SHORT_TEXT`` characters."""
    if value is None:
        return
    if not isinstance(value, str) or len(value) > MAX_SHORT_TEXT:
        raise InvalidValue(f"{what} is text of at most {MAX_SHORT_TEXT} characters")
    check_no_nul(value, what)


def check_url(value: str, what: str) -> None:
    """An http(s) address (a reference the channel keeps), bounded, without blanks."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_URL:
        raise InvalidValue(f"{what} is 1 to {MAX_URL} characters")
    scheme, _, rest = value.partition("://")
    host_missing = not rest or rest.startswith("/")
    if f"{scheme.lower()}://" not in URL_SCHEMES or host_missing or any(c.isspace() for c in value):
        raise InvalidValue(f"{what} is an http or https address")
    check_no_nul(value, what)
