"""Questions the engine asks the client with buttons, and how their answers are recognised.

A question is a system message with buttons; the client's first relayed button press after
it answers it. Which question it was follows from its buttons' values: ``yes``/``no`` is
"anything left?", ``1``…``5`` the rating prompt. An operator's own buttons are never these
(they are not system messages).
"""

from __future__ import annotations

from typing import Any

RESOLVED = "resolved"
RATING = "rating"
RESOLVED_VALUES = ("yes", "no")
RATING_VALUES = tuple(str(score) for score in range(1, 6))
RESOLVED_REASON = "resolved"


def resolved_buttons(labels: dict[str, str]) -> list[dict[str, str]]:
    """``labels``: the client's language's words for yes and no."""
    return [{"text": labels[value], "value": value} for value in RESOLVED_VALUES]


def rating_buttons() -> list[dict[str, str]]:
    return [{"text": value, "value": value} for value in RATING_VALUES]


def open_question(messages: list[dict[str, Any]]) -> str | None:
    """The question the client has not answered yet, if the latest one with buttons is ours."""
    for message in reversed(messages):
        if message["author"] == "client" and message.get("button_value") is not None:
            return None  # the last question, whatever it was, is answered
        if message.get("buttons"):
            if message["author"] != "system":
                return None
            values = tuple(button["value"] for button in message["buttons"])
            if values == RESOLVED_VALUES:
                return RESOLVED
            return RATING if values == RATING_VALUES else None
    return None
