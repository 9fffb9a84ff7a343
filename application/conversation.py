"""Use cases of the conversation: client and bot messages, intercept, replies, close, rating,
and reading a chat's write model."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from application.auth import Principal
from application.errors import Forbidden
from application.ports import Done
from application.questions import QuestionCommands
from application.retry import retry_on_conflict
from domain.actors import SYSTEM
from domain.chat import QUEUED, Chat
from domain.chat_messages import Attachments, Buttons
from domain.errors import NotAssigned
from domain.operator import Operator
from domain.system_texts import system_text


class ConversationCommands(QuestionCommands):
    # -- the bot's side -----------------------------------------------------------------------

    @retry_on_conflict
    def relay_client_message(
        self,
        chat_id: UUID,
        text: str,
        *,
        bot: Principal,
        attachments: Attachments = None,
        button_value: str | None = None,
    ) -> Done[dict]:
        chat = self._get(Chat, chat_id)
        if button_value is not None and not attachments:
            answered = self._answer_question(chat, text, button_value, bot=bot)
            if answered is not None:
                return answered
        chat.relay_client_message(
            uuid4(),
            text,
            at=self.clock.now(),
            actor=bot.actor,
            attachments=attachments,
            button_value=button_value,
        )
        return Done(chat.messages[-1], self._saved(chat))

    @retry_on_conflict
    def post_bot_message(
        self, chat_id: UUID, text: str, *, bot: Principal, attachments: Attachments = None
    ) -> Done[dict]:
        chat = self._get(Chat, chat_id)
        chat.post_bot_message(
            uuid4(), text, at=self.clock.now(), actor=bot.actor, attachments=attachments
        )
        return Done(chat.messages[-1], self._saved(chat))

    @retry_on_conflict
    def rate(self, chat_id: UUID, score: int, comment: str | None, *, bot: Principal) -> Done[Chat]:
        chat = self._get(Chat, chat_id)
        chat.rate(score, comment, at=self.clock.now(), actor=bot.actor)
        return Done(chat, self._saved(chat))

    # -- the operators' side ------------------------------------------------------------------

    @retry_on_conflict
    def intercept(self, chat_id: UUID, *, caller: Principal) -> Done[Chat]:
        """Take over from the bot; on a queued chat of one's groups, take it from the queue."""
        operator_id = self._staff_id(caller)
        chat = self._get(Chat, chat_id)
        at = self.clock.now()
        operator = None
        if chat.is_open and chat.status == QUEUED:
            operator = self._get(Operator, operator_id)
            in_group = chat.group_id is None or chat.group_id in operator.group_ids
            if not in_group and not caller.supervises:
                raise NotAssigned(f"chat {chat_id} waits in a group you are not in")
            operator.take_chat(chat.id, at=at, actor=caller.actor)
            chat.assign(operator.id, chat.group_id, at=at, actor=caller.actor)
        if not chat.intercept(operator_id, at=at, actor=caller.actor):
            if operator is None:
                return Done(chat, self.head(), recorded=False)
            # Taken from the queue after an earlier intercept: it is active again at once.
            return Done(chat, self._saved(chat, operator))
        holder = operator or self._get(Operator, operator_id)
        text = system_text(
            self.company_settings(),
            "greeting",
            chat.client.get("language"),
            first_name=holder.first_name,
            last_name=holder.last_name,
        )
        if text.strip():
            chat.post_system_message(uuid4(), text, at=at, actor=SYSTEM)
        return Done(chat, self._saved(chat, operator))

    @retry_on_conflict
    def reply(
        self,
        chat_id: UUID,
        text: str,
        *,
        caller: Principal,
        attachments: Attachments = None,
        buttons: Buttons = None,
    ) -> Done[dict]:
        chat = self._get(Chat, chat_id)
        chat.reply(
            uuid4(),
            self._staff_id(caller),
            text,
            supervisor=caller.supervises,
            at=self.clock.now(),
            actor=caller.actor,
            attachments=attachments,
            buttons=buttons,
        )
        return Done(chat.messages[-1], self._saved(chat))

    @retry_on_conflict
    def close_chat(
        self, chat_id: UUID, *, caller: Principal | None, reason: str | None
    ) -> Done[Chat]:
        """Close a chat (``caller`` None: the engine) and free its operator's place."""
        chat = self._get(Chat, chat_id)
        operator = self._close(chat, caller=caller, reason=reason)
        return Done(chat, self._saved(chat, operator))

    # -- reading the write model --------------------------------------------------------------

    def get_chat(self, chat_id: UUID, *, version: int | None = None) -> Chat:
        if version is None:
            return self._get(Chat, chat_id)
        chat = self._get(Chat, chat_id)
        if version > chat.version:
            version = chat.version
        return self.repository.get(chat_id, version=version)

    def get_chat_as_of(self, chat_id: UUID, when: datetime) -> Chat | None:
        """The chat as it stood at ``when``, rebuilt from its events; None before it existed."""
        chat = None
        for event in self.events.get(chat_id):
            if event.timestamp > when:
                break
            chat = event.mutate(chat)
        if chat is None:
            self._get(Chat, chat_id)  # 404 for an unknown chat, None for one not yet requested
        return chat

    def chat_events(self, chat_id: UUID) -> list:
        self._get(Chat, chat_id)
        return list(self.events.get(chat_id))

    @staticmethod
    def _staff_id(caller: Principal) -> UUID:
        if caller.operator_id is None:
            raise Forbidden("only an operator's own token can act in a chat")
        return caller.operator_id
