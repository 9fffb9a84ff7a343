"""Use cases between handoff and rating: reassign, mute, topics, message edits, and the
engine's own timed actions (lifting mutes, closing abandoned chats, marking idle operators).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from application.auth import Principal
from application.chats import ChatCommands
from application.errors import UnknownReference
from application.ports import Done
from application.retry import retry_on_conflict
from domain.actors import SYSTEM
from domain.chat import ACTIVE, Chat
from domain.errors import ReassignForbidden
from domain.group import Group
from domain.operator import ABSENT, WORKING, Operator

INACTIVITY_REASON = "inactivity"


class LifecycleCommands(ChatCommands):
    # -- reassign -----------------------------------------------------------------------------

    @retry_on_conflict
    def reassign(
        self,
        chat_id: UUID,
        *,
        caller: Principal,
        operator_id: UUID | None = None,
        group_id: UUID | None = None,
    ) -> Done[Chat]:
        """Move a chat to another operator, or to a group where routing picks one.

        Both operators' loads change in the same transaction as the chat. Given both, the
        chat goes to that operator and counts in that group.
        """
        chat = self._get(Chat, chat_id)
        chat.check_open()
        if not caller.supervises:
            if not self.company_settings()["operators_may_reassign"]:
                raise ReassignForbidden("only supervisors reassign chats here")
            chat.check_may_act(caller.operator_id, supervisor=False)
        group = self._group_for_reference(group_id)
        at = self.clock.now()
        target = None
        if operator_id is not None:
            target = self._find(Operator, operator_id)
            if target is None:
                raise UnknownReference(f"no operator {operator_id}")
            target.take_chat(chat.id, at=at, actor=caller.actor)
        holder_id = chat.reassign(
            operator_id=operator_id,
            group_id=group.id if group else chat.group_id,
            at=at,
            actor=caller.actor,
        )
        holder = self._find(Operator, holder_id) if holder_id else None
        if holder is not None:
            holder.release_chat(chat.id, at=at, actor=caller.actor)
        if target is None:
            # Back to routing in the group, never straight back to the operator it left.
            target_group = group or self._find_live_group(chat.group_id)
            target = self._route(chat, target_group, at=at, exclude=holder_id)
        return Done(chat, self._saved(chat, holder, target))

    def _find_live_group(self, group_id: UUID | None) -> Group | None:
        group = self._find(Group, group_id) if group_id else None
        return None if group is None or group.deleted else group

    # -- mute ---------------------------------------------------------------------------------

    @retry_on_conflict
    def mute(self, chat_id: UUID, *, caller: Principal, minutes: int | None) -> Done[Chat]:
        chat = self._get(Chat, chat_id)
        chat.mute(
            operator_id=caller.operator_id,
            supervisor=caller.supervises,
            minutes=minutes,
            at=self.clock.now(),
            actor=caller.actor,
        )
        return Done(chat, self._saved(chat))

    @retry_on_conflict
    def unmute(self, chat_id: UUID, *, caller: Principal) -> Done[Chat]:
        chat = self._get(Chat, chat_id)
        changed = chat.unmute(
            operator_id=caller.operator_id,
            supervisor=caller.supervises,
            at=self.clock.now(),
            actor=caller.actor,
        )
        return Done(chat, self._saved(chat) if changed else self.head(), recorded=changed)

    # -- topic and messages -------------------------------------------------------------------

    @retry_on_conflict
    def change_topic(
        self, chat_id: UUID, *, caller: Principal, **changes: str | None
    ) -> Done[Chat]:
        """Change ``topic`` and/or ``subtopic`` (the keys given); None clears one."""
        chat = self._get(Chat, chat_id)
        changed = chat.change_topic(
            topic=changes.get("topic", chat.topic),
            subtopic=changes.get("subtopic", chat.subtopic),
            operator_id=caller.operator_id,
            supervisor=caller.supervises,
            at=self.clock.now(),
            actor=caller.actor,
        )
        return Done(chat, self._saved(chat) if changed else self.head(), recorded=changed)

    @retry_on_conflict
    def edit_message(
        self, chat_id: UUID, message_id: UUID, text: str, *, caller: Principal
    ) -> Done[dict]:
        chat = self._get(Chat, chat_id)
        chat.edit_message(
            message_id,
            text,
            operator_id=caller.operator_id,
            supervisor=caller.supervises,
            allowed=not self.company_settings()["forbid_message_edits"],
            at=self.clock.now(),
            actor=caller.actor,
        )
        return Done(chat.message(message_id), self._saved(chat))

    @retry_on_conflict
    def delete_message(self, chat_id: UUID, message_id: UUID, *, caller: Principal) -> Done[dict]:
        chat = self._get(Chat, chat_id)
        chat.delete_message(
            message_id,
            operator_id=caller.operator_id,
            supervisor=caller.supervises,
            allowed=not self.company_settings()["forbid_message_edits"],
            at=self.clock.now(),
            actor=caller.actor,
        )
        return Done(chat.message(message_id), self._saved(chat))

    # -- the engine's timed actions (the scheduler calls these; each is safe to repeat) ------

    @retry_on_conflict
    def lift_expired_mute(self, chat_id: UUID) -> Done[bool]:
        chat = self._find(Chat, chat_id)
        if chat is None or not chat.lift_expired_mute(at=self.clock.now(), actor=SYSTEM):
            return Done(False, None, recorded=False)
        return Done(True, self._saved(chat))

    @retry_on_conflict
    def close_if_inactive(self, chat_id: UUID) -> Done[bool]:
        """Close an active chat whose client has been silent past the company's limit.

        Checked again on the aggregate: a client who wrote in the meantime, or whose last
        message still waits for an answer, keeps the chat open.
        """
        settings = self.company_settings()
        minutes = settings["inactivity_close_minutes"]
        chat = self._find(Chat, chat_id)
        if minutes is None or chat is None or chat.status != ACTIVE or chat.client_turn_open:
            return Done(False, None, recorded=False)
        now = self.clock.now()
        if now - last_activity(chat) < timedelta(minutes=minutes):
            return Done(False, None, recorded=False)
        operator = self._close(chat, caller=None, reason=INACTIVITY_REASON, settings=settings)
        return Done(True, self._saved(chat, operator))

    @retry_on_conflict
    def mark_absent_if_idle(self, operator_id: UUID, idle_since: datetime) -> Done[bool]:
        """Mark a working operator ``absent`` when nothing they did is newer than ``idle_since``.

        ``idle_since`` comes from the read model (their last message or status change); the
        aggregate confirms they are still working and have not changed status since.
        """
        operator = self._find(Operator, operator_id)
        if operator is None or not operator.active or operator.status != WORKING:
            return Done(False, None, recorded=False)
        if operator.status_since > idle_since:
            return Done(False, None, recorded=False)
        operator.change_status(ABSENT, at=self.clock.now(), actor=SYSTEM, by_engine=True)
        return Done(True, self._saved(operator))


def last_activity(chat: Chat) -> datetime:
    """When the conversation last moved: its last message, else when it was taken over."""
    moments = [chat.requested_at]
    if chat.messages:
        moments.append(chat.messages[-1]["at"])
    if chat.intercepted_at:
        moments.append(chat.intercepted_at)
    return max(moments)
