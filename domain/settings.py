"""Company settings: one aggregate whose events record every change an admin makes."""

from __future__ import annotations

import string
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.errors import InvalidValue
from domain.system_texts import check_language, check_texts

SETTINGS_NAMESPACE = UUID("5b0d6a3e-8f43-4c1f-9f6e-0c2d1f3a7b21")
GREETING_FIELDS = ("first_name", "last_name")
MAX_TEMPLATE = 1_000
MAX_MINUTES = 7 * 24 * 60
MAX_OVERDUE_S = 7 * 86_400

DEFAULTS: dict[str, Any] = {
    # Posted as a system message when an operator intercepts; "" sends none.
    "greeting_template": "Hello! My name is {first_name}. How can I help you?",
    "require_topic_to_close": False,
    # On close, a system message asks the client to rate the chat.
    "rating_prompt": False,
    "rating_prompt_text": "Please rate this conversation from 1 to 5.",
    "operators_may_reassign": False,
    # None turns the rule off.
    "inactivity_close_minutes": 15,
    "absent_after_minutes": None,
    # Before version 2 one flag, forbid_message_edits, forbade edits and deletes alike.
    "forbid_message_edits": False,
    "forbid_message_deletes": False,
    # Read by client blocking: may an operator (not only a supervisor) block a client?
    "operators_may_block_clients": False,
    # The company's language: system messages to a client whose language it has no texts for.
    "language": "en",
    # Overrides of the built-in system texts: {language: {name: text}} (domain.system_texts).
    "texts": {},
    # On a reassign, a system message tells the client who took the chat over.
    "notify_operator_change": True,
    # The group of a handoff that names none; None (or a deleted group): no default.
    "default_group_id": None,
    # A chat still unanswered this long after its SL goes to another operator of its group;
    # None turns the rule off.
    "reassign_overdue_after_s": None,
}


def check_setting(name: str, value: Any) -> None:
    """Each setting's own rule; raises InvalidValue with a sentence a person can act on."""
    if name not in DEFAULTS:
        raise InvalidValue(f"there is no setting {name!r}")
    if name in ("greeting_template", "rating_prompt_text"):
        if not isinstance(value, str) or len(value) > MAX_TEMPLATE or "\x00" in value:
            raise InvalidValue(f"{name} is text of at most {MAX_TEMPLATE} characters")
        if name == "greeting_template":
            check_template(value)
    elif name in ("inactivity_close_minutes", "absent_after_minutes"):
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_MINUTES:
            raise InvalidValue(f"{name} is off (null) or from 1 to {MAX_MINUTES} minutes")
    elif name == "reassign_overdue_after_s":
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_OVERDUE_S:
            raise InvalidValue(f"{name} is off (null) or from 1 to {MAX_OVERDUE_S} seconds")
    elif name == "language":
        check_language(value)
    elif name == "texts":
        check_texts(value)
    elif name == "default_group_id":
        if value is not None and not isinstance(value, UUID):
            raise InvalidValue("default_group_id is a group's id, or null for none")
    elif not isinstance(value, bool):
        raise InvalidValue(f"{name} is true or false")


def check_template(template: str) -> None:
    try:
        fields = [
            (name, spec, conversion)
            for _, name, spec, conversion in string.Formatter().parse(template)
            if name is not None
        ]
    except ValueError as error:
        raise InvalidValue(f"greeting_template is not a valid template: {error}") from error
    for name, spec, conversion in fields:
        if name not in GREETING_FIELDS:
            raise InvalidValue(
                f"greeting_template may use {', '.join('{' + f + '}' for f in GREETING_FIELDS)}"
                f", not {{{name}}}"
            )
        # A format spec or conversion ("{first_name:d}", "{first_name:>99999}") would fail or
        # blow up at every intercept, long after the admin saved it.
        if spec or conversion:
            raise InvalidValue(f"greeting_template takes {{{name}}} plain, without ':' or '!'")


def split_edit_flag(values: dict[str, Any]) -> None:
    """An old single ``forbid_message_edits`` forbade deletes too."""
    if "forbid_message_edits" in values and "forbid_message_deletes" not in values:
        values["forbid_message_deletes"] = values["forbid_message_edits"]


class CompanySettings(Aggregate):
    """There is one: its id is fixed, so every process finds the same settings."""

    # 2: forbid_message_deletes apart from forbid_message_edits.
    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """A snapshot taken before version 2."""
        split_edit_flag(state.get("values", {}))

    class SettingsChanged(Aggregate.Event):
        actor: str
        changes: dict[str, Any]
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            split_edit_flag(state["changes"])

        def apply(self, settings: CompanySettings) -> None:
            settings.values.update(self.changes)

    class Configured(Aggregate.Created):
        actor: str

    @staticmethod
    def fixed_id() -> UUID:
        return uuid5(SETTINGS_NAMESPACE, "company")

    @classmethod
    def start(cls, *, at: datetime, actor: str) -> CompanySettings:
        return cls._create(cls.Configured, id=cls.fixed_id(), timestamp=at, actor=actor)

    def __init__(self, *, actor: str) -> None:
        self.values: dict[str, Any] = dict(DEFAULTS)

    def change(self, changes: dict[str, Any], *, at: datetime, actor: str) -> bool:
        for name, value in changes.items():
            check_setting(name, value)
        changed = {name: value for name, value in changes.items() if self.current(name) != value}
        if not changed:
            return False
        self.trigger_event(self.SettingsChanged, timestamp=at, actor=actor, changes=changed)
        return True

    def current(self, name: str) -> Any:
        """A setting added after this company's last snapshot has its default."""
        return self.values.get(name, DEFAULTS[name])


def greeting(values: dict[str, Any], *, first_name: str, last_name: str) -> str:
    """The greeting an intercepting operator sends, or "" when the company sends none."""
    template = values["greeting_template"]
    return template.format(first_name=first_name, last_name=last_name) if template else ""
