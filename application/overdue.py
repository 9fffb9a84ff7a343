"""Overdue answers: the engine's use cases when a response clock runs past its group's SL.

- ``mark_overdue`` records ``ResponseOverdue`` on the chat, at most once per clock (the
  aggregate knows whether its running clock is already marked);
- ``reassign_overdue`` (company setting ``reassign_overdue_after_s``) moves a chat still
  unanswered that long after its SL to another operator of its group, recorded as
  ``Reassigned`` by the system, once per clock (a chat reassigned while overdue, by anyone,
  stays with its new operator). Never to the operator holding it; when nobody else of the
  group has room, nothing is recorded and the scheduler's next pass tries again.
The scheduler's rules call these; each checks the aggregates again, so each is safe to repeat.
"""

from __future__ import annotations

from uuid import UUID

from application.base import SwitchboardBase
from application.ports import Done
from application.retry import retry_on_conflict
from domain.actors import SYSTEM
from domain.chat import Chat
from domain.clocks import ServiceLevel, group_sl
from domain.group import Group
from domain.operator import Operator

NOTHING: Done[bool] = Done(False, None, recorded=False)


class OverdueActions(SwitchboardBase):
    @retry_on_conflict
    def mark_overdue(self, chat_id: UUID) -> Done[bool]:
        """Record that the chat's running clock ran past its group's SL, once per clock."""
        chat = self._find(Chat, chat_id)
        if chat is None or not chat.mark_overdue(self._sl(chat), at=self.clock.now(), actor=SYSTEM):
            return NOTHING
        return Done(True, self._saved(chat))

    @retry_on_conflict
    def reassign_overdue(self, chat_id: UUID, *, attempt: int = 1) -> Done[bool]:
        """Route a chat still unanswered ``reassign_overdue_after_s`` past its SL to another
        operator of its group who has room (a chat with no group: anyone else). Chats of a
        manual or deleted group are left where they are: nobody routes there."""
        after_s = self.company_settings()["reassign_overdue_after_s"]
        chat = self._find(Chat, chat_id)
        if after_s is None or chat is None:
            return NOTHING
        group = self._find(Group, chat.group_id) if chat.group_id else None
        if group is not None and (group.is_manual or group.deleted):
            return NOTHING
        at = self.clock.now()
        if not chat.overdue_move_due(group_sl(group), after_s, at=at):
            return NOTHING
        holder_id = chat.operator_id
        with self.routing.attempt(attempt) as routing:
            target = routing.pick(group, exclude=holder_id, own_group=True)
            if target is None:
                return NOTHING  # nobody else has room: the next pass tries again
            target.take_chat(chat.id, at=at, actor=SYSTEM)
            chat.reassign(operator_id=target.id, group_id=chat.group_id, at=at, actor=SYSTEM)
            holder = self._find(Operator, holder_id) if holder_id else None
            if holder is not None:
                holder.release_chat(chat.id, at=at, actor=SYSTEM)
            self._tell_client_of_transfer(chat, target, at=at)  # MoveCommands
            return Done(True, self._saved(chat, holder, target))

    def _sl(self, chat: Chat) -> ServiceLevel:
        """The service levels of the chat's group as they stand now."""
        return group_sl(self._find(Group, chat.group_id) if chat.group_id else None)
