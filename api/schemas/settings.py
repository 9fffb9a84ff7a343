"""Company settings: what the admin may change, and what everyone reads."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, Field, Strict, model_validator

from api.schemas.common import Body, Flag, bounded
from domain.settings import MAX_MINUTES, MAX_OVERDUE_S, MAX_TEMPLATE
from domain.system_texts import MAX_SYSTEM_TEXT, NAMES

Template = bounded(MAX_TEMPLATE)

# -- company settings -------------------------------------------------------------------------

Minutes = Annotated[int, Strict(), Field(ge=1, le=MAX_MINUTES)]
OverdueSeconds = Annotated[int, Strict(), Field(ge=1, le=MAX_OVERDUE_S)]
Language = Annotated[
    str, Field(min_length=2, max_length=20, pattern=r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")
]
TEXTS_HELP = (
    "Overrides of the built-in system texts (en, ru, uk), by language and name: "
    + ", ".join(NAMES)
    + f"; each at most {MAX_SYSTEM_TEXT} characters. A PUT replaces all of them."
)


class SettingsOut(BaseModel):
    greeting_template: str = Field(
        description="System message on intercept; may use {first_name} and {last_name}; "
        "empty sends none."
    )
    require_topic_to_close: bool
    rating_prompt: bool = Field(description="On close, a system message asks for a rating.")
    rating_prompt_text: str
    operators_may_reassign: bool
    inactivity_close_minutes: int | None = Field(
        description="Close an active chat whose client is silent this long; null: never."
    )
    absent_after_minutes: int | None = Field(
        description="Mark a working operator absent after this long without activity; null: "
        "never. An operator's own auto_logout_s, when set, wins."
    )
    forbid_message_edits: bool
    forbid_message_deletes: bool
    language: str = Field(description="System messages to a client whose language has no texts.")
    texts: dict[str, dict[str, str]] = Field(description=TEXTS_HELP)
    notify_operator_change: bool = Field(
        description="On a reassign, a system message tells the client who took over."
    )
    operators_may_block_clients: bool = Field(
        description="Operators, not only supervisors, may block clients."
    )
    default_group_id: UUID | None = Field(
        description="The group of a handoff that names none; null (or a deleted group): none."
    )
    reassign_overdue_after_s: int | None = Field(
        description="A chat still unanswered this many seconds after its SL goes to another "
        "operator of its group who has room; null: never.",
    )


class SettingsIn(Body):
    """Only the settings given change; the others keep their values."""

    greeting_template: Template | None = None
    require_topic_to_close: Flag | None = None
    rating_prompt: Flag | None = None
    rating_prompt_text: Template | None = None
    operators_may_reassign: Flag | None = None
    inactivity_close_minutes: Minutes | None = None
    absent_after_minutes: Minutes | None = None
    forbid_message_edits: Flag | None = None
    forbid_message_deletes: Flag | None = None
    language: Language | None = None
    texts: dict[Language, dict[str, str]] | None = Field(default=None, description=TEXTS_HELP)
    notify_operator_change: Flag | None = None
    operators_may_block_clients: Flag | None = None
    default_group_id: UUID | None = None
    reassign_overdue_after_s: OverdueSeconds | None = None

    @model_validator(mode="after")
    def _null_only_turns_minutes_off(self) -> SettingsIn:
        nullable = {"inactivity_close_minutes", "absent_after_minutes", "default_group_id"}
        nullable.add("reassign_overdue_after_s")
        for name in self.model_fields_set - nullable:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        """The settings the caller sent."""
        return {name: getattr(self, name) for name in self.model_fields_set}
