"""Questions asked with buttons: "anything left?" (the client's ``no`` closes the chat) and the
rating prompt (a pressed score rates the chat)."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4, uuid5

from application.auth import Principal
from application.base import SwitchboardBase
from application.ports import Done
from application.retry import retry_on_conflict
from domain.chat import Chat
from domain.questions import (
    RATING,
    RATING_VALUES,
    RESOLVED,
    RESOLVED_REASON,
    open_question,
    resolved_buttons,
)
from domain.system_texts import BUILT_IN, language_for, system_text


class QuestionCommands(SwitchboardBase):
    @retry_on_conflict
    def ask_resolved(self, chat_id: UUID, *, caller: Principal) -> Done[dict[str, Any]]:
        """The chat's operator (or a supervisor) asks the client whether anything is left."""
        chat = self._get(Chat, chat_id)
        chat.check_open()
        chat.check_may_act(caller.operator_id, supervisor=caller.supervises)
        settings = self.company_settings()
        language = chat.client.get("language")
        built_in = BUILT_IN.get(language_for(settings, language)) or BUILT_IN["en"]

        def said(name: str) -> str:  # asked on purpose: an empty override cannot silence it
            return system_text(settings, name, language).strip() or built_in[name]

        labels = {value: said(value) for value in ("yes", "no")}
        chat.post_system_message(
            uuid4(),
            said("ask_resolved"),
            at=self.clock.now(),
            actor=caller.actor,
            buttons=resolved_buttons(labels),
        )
        return Done(chat.messages[-1], self._saved(chat))

    def _answer_question(
        self, chat: Chat, text: str, button_value: str, *, bot: Principal
    ) -> Done[dict[str, Any]] | None:
        """Where ``button_value`` answers our open question, do what it asks (unsaved chat
        changes saved here); None where it is a plain message to relay."""
        question = open_question(chat.messages)
        at = self.clock.now()
        if question == RATING and not chat.is_open and button_value in RATING_VALUES:
            chat.rate(int(button_value), None, at=at, actor=bot.actor)
            # A closed chat takes no messages: the press is kept as the rating, echoed here.
            press = {
                "id": uuid5(chat.id, "rating"),
                "author": "client",
                "author_id": chat.client.get("id"),
                "text": text,
                "at": at,
                "attachments": [],
                "buttons": [],
                "button_value": button_value,
            }
            return Done(press, self._saved(chat))
        if question == RESOLVED and button_value == "no" and chat.is_open:
            chat.relay_client_message(
                uuid4(), text, at=at, actor=bot.actor, button_value=button_value
            )
            message = chat.messages[-1]
            operator = self._close(chat, caller=None, reason=RESOLVED_REASON, actor=bot.actor)
            return Done(message, self._saved(chat, operator))
        return None
