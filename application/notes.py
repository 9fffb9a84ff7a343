"""Use cases of private notes: staff who may see a chat write notes on it for each other."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from application.auth import Principal
from application.base import SwitchboardBase
from application.errors import Forbidden
from application.ports import Done
from application.retry import retry_on_conflict
from domain.chat import Chat
from domain.operator import Operator
from domain.visibility import ChatFacts, Viewer, sees


class NoteCommands(SwitchboardBase):
    @retry_on_conflict
    def add_note(self, chat_id: UUID, text: str, *, caller: Principal) -> Done[dict[str, Any]]:
        """A private note on the chat; the caller must be one who may see it."""
        chat = self._get(Chat, chat_id)
        self.check_sees(chat, caller)
        chat.add_note(
            uuid4(), text, author_id=caller.operator_id, at=self.clock.now(), actor=caller.actor
        )
        return Done(chat.notes[-1], self._saved(chat))

    def check_sees(self, chat: Chat, caller: Principal) -> None:
        """The one visibility rule (``domain.visibility``); the groups read only when needed."""
        facts = ChatFacts(chat.status, chat.operator_id, chat.group_id)
        viewer = Viewer(caller.operator_id, caller.supervises)
        if not sees(viewer, facts) and caller.operator_id is not None:
            operator = self._find(Operator, caller.operator_id)
            groups = frozenset(operator.group_ids) if operator is not None else frozenset()
            viewer = Viewer(caller.operator_id, caller.supervises, groups)
        if not sees(viewer, facts):
            raise Forbidden("operators see their own chats and their groups' queues")
