"""What a chat's participants write: the Chat aggregate's message commands and queries.

A mixin of ``Chat``: the events stay nested in ``Chat`` (their stored topics name it), and
the checks it calls (``check_open``, ``check_may_act``) are the aggregate's own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from domain import messages
from domain.chat_status import ACTIVE
from domain.errors import EditsForbidden, NotIntercepted
from domain.texts import check_text

Attachments = list[dict[str, Any]] | None  # [{"url", "name"?, "mime"?, "size"?}]
Buttons = list[dict[str, Any]] | None  # [{"text", "value"?}]


class ChatMessages:
    """The messages of a ``Chat``: relayed, replied, edited, deleted, and read back."""

    messages: list[dict[str, Any]]

    def message(self, message_id: UUID) -> dict[str, Any]:
        return messages.find(self.messages, message_id, self.id)

    def messages_after(self, message_id: UUID | None) -> list[dict[str, Any]]:
        return messages.after(self.messages, message_id, self.id)

    @property
    def last_client_message_at(self) -> datetime | None:
        return messages.last_client_message_at(self.messages)

    @property
    def client_turn_open(self) -> bool:
        """The client wrote last (ignoring bot and system lines): an operator owes an answer."""
        return messages.client_turn_open(self.messages)

    def relay_client_message(
        self,
        message_id: UUID,
        text: str,
        *,
        at: datetime,
        actor: str,
        attachments: Attachments = None,
        button_value: str | None = None,
    ) -> None:
        """The client's message as the bot relays it; ``button_value``: a button they pressed."""
        self.check_open()
        messages.check_button_value(button_value)
        self._post(
            message_id,
            "client",
            self.client.get("id"),
            text,
            at=at,
            actor=actor,
            attachments=attachments,
            button_value=button_value,
        )

    def post_bot_message(
        self,
        message_id: UUID,
        text: str,
        *,
        at: datetime,
        actor: str,
        attachments: Attachments = None,
    ) -> None:
        self.check_open()
        self._post(message_id, "bot", actor, text, at=at, actor=actor, attachments=attachments)

    def reply(
        self,
        message_id: UUID,
        operator_id: UUID,
        text: str,
        *,
        supervisor: bool,
        at: datetime,
        actor: str,
        attachments: Attachments = None,
        buttons: Buttons = None,
    ) -> None:
        self.check_open()
        self.check_may_act(operator_id, supervisor=supervisor)
        if self.status != ACTIVE and not supervisor:
            raise NotIntercepted(f"intercept chat {self.id} before replying")
        self._post(
            message_id,
            "operator",
            str(operator_id),
            text,
            at=at,
            actor=actor,
            attachments=attachments,
            buttons=buttons,
        )

    def post_system_message(
        self, message_id: UUID, text: str, *, at: datetime, actor: str, buttons: Buttons = None
    ) -> None:
        self.check_open()
        self._post(message_id, "system", None, text, at=at, actor=actor, buttons=buttons)

    def edit_message(
        self,
        message_id: UUID,
        text: str,
        *,
        operator_id: UUID | None,
        supervisor: bool,
        allowed: bool,
        at: datetime,
        actor: str,
    ) -> None:
        self.check_open()
        if not allowed:
            raise EditsForbidden("the company does not allow editing messages")
        message = self._own_message(message_id, operator_id, supervisor=supervisor)
        check_text(text)
        if text != message["text"]:
            self.trigger_event(
                self.MessageEdited, timestamp=at, actor=actor, message_id=message_id, text=text
            )

    def delete_message(
        self,
        message_id: UUID,
        *,
        operator_id: UUID | None,
        supervisor: bool,
        allowed: bool,
        at: datetime,
        actor: str,
    ) -> None:
        self.check_open()
        if not allowed:
            raise EditsForbidden("the company does not allow deleting messages")
        self._own_message(message_id, operator_id, supervisor=supervisor)
        self.trigger_event(self.MessageDeleted, timestamp=at, actor=actor, message_id=message_id)

    def _own_message(
        self, message_id: UUID, operator_id: UUID | None, *, supervisor: bool
    ) -> dict[str, Any]:
        """An operator edits or deletes their own messages."""
        self.check_open()
        message = self.message(message_id)
        messages.check_editable(message, operator_id, supervisor=supervisor)
        return message

    def _post(
        self,
        message_id: UUID,
        author: str,
        author_id: str | None,
        text: str,
        *,
        at: datetime,
        actor: str,
        attachments: Attachments = None,
        buttons: Buttons = None,
        button_value: str | None = None,
    ) -> None:
        attached = messages.attachment_list(attachments)
        messages.check_content(text, attached)
        shown = messages.button_list(buttons, author)
        self.trigger_event(
            self.MessagePosted,
            timestamp=at,
            actor=actor,
            message_id=message_id,
            author=author,
            author_id=author_id,
            text=text,
            attachments=attached,
            buttons=shown,
            button_value=button_value,
        )
