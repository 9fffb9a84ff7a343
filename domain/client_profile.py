"""What a bot tells about the client at a handoff: who they are on the channel, and custom
fields (an object of strings) the bot platform keeps about them."""

from __future__ import annotations

from typing import Any

from domain.errors import InvalidValue
from domain.texts import (
    MAX_CHANNEL,
    MAX_EXTERNAL_ID,
    MAX_LANGUAGE,
    MAX_NAME,
    MAX_PHONE,
    check_no_nul,
    check_url,
)

MAX_EMAIL = 254
MAX_CUSTOM_FIELDS = 50
MAX_CUSTOM_KEY = 100
MAX_CUSTOM_VALUE = 1_000

# field -> (min length, max length) of the client's text fields
CLIENT_TEXT_FIELDS = {
    "id": (1, MAX_EXTERNAL_ID),
    "name": (1, MAX_NAME),
    "username": (1, MAX_NAME),
    "phone": (0, MAX_PHONE),
    "channel": (0, MAX_CHANNEL),
    "language": (0, MAX_LANGUAGE),
    "email": (3, MAX_EMAIL),
}


def client_profile(client: dict[str, Any]) -> dict[str, Any]:
    """The client as a handoff records it; raises InvalidValue for what the domain refuses."""
    if not isinstance(client, dict):
        raise InvalidValue("a client is an object")
    unknown = set(client) - set(CLIENT_TEXT_FIELDS) - {"photo_url", "custom"}
    if unknown:
        raise InvalidValue(f"a client has no field {sorted(unknown)[0]!r}")
    for name, (shortest, longest) in CLIENT_TEXT_FIELDS.items():
        value = client.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or not shortest <= len(value) <= longest:
            raise InvalidValue(f"a client's {name} is {shortest} to {longest} characters")
        check_no_nul(value, f"a client's {name}")
    if client.get("email") is not None and "@" not in client["email"]:
        raise InvalidValue("a client's email is an e-mail address")
    if client.get("photo_url") is not None:
        check_url(client["photo_url"], "a client's photo_url")
    if client.get("custom") is not None:
        check_custom(client["custom"])
    return {name: value for name, value in client.items() if value is not None}


def check_custom(custom: dict[str, Any]) -> None:
    """Custom fields: at most ``MAX_CUSTOM_FIELDS`` keys, each a bounded string to a string."""
    if not isinstance(custom, dict):
        raise InvalidValue("a client's custom fields are an object of strings")
    if len(custom) > MAX_CUSTOM_FIELDS:
        raise InvalidValue(f"a client has at most {MAX_CUSTOM_FIELDS} custom fields")
    for key, value in custom.items():
        if not isinstance(key, str) or not 0 < len(key) <= MAX_CUSTOM_KEY:
            raise InvalidValue(f"a custom field's name is 1 to {MAX_CUSTOM_KEY} characters")
        if not isinstance(value, str) or len(value) > MAX_CUSTOM_VALUE:
            raise InvalidValue(f"a custom field's value is text of at most {MAX_CUSTOM_VALUE}")
        check_no_nul(key, "a custom field's name")
        check_no_nul(value, "a custom field's value")
