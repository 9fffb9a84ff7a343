"""Use cases that move or quiet a chat: reassign, mute, topics, message edits."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from application.auth import Principal
from application.base import SwitchboardBase
from application.errors import UnknownReference
from application.ports import Done
from application.retry import retry_on_conflict
from domain.chat import ACTIVE, Chat
from domain.chat_notes import check_note
from domain.errors import ReassignForbidden
from domain.group import Group
from domain.operator import Operator


class MoveCommands(SwitchboardBase):
    # -- reassign -----------------------------------------------------------------------------

    @retry_on_conflict
    def reassign(
        self,
        chat_id: UUID,
        *,
        caller: Principal,
        operator_id: UUID | None = None,
        group_id: UUID | None = None,
        comment: str | None = None,
        attempt: int = 1,
    ) -> Done[Chat]:
        """Move a chat to another operator, or to a group where routing picks one.

        Both operators' loads change in the same transaction as the chat. Given both, the
        chat goes to that operator and counts in that group. ``comment`` is kept as a private
        note; where the company wants it, the client is told who took the chat over.
        """
        chat = self._get(Chat, chat_id)
        chat.check_open()
        if comment is not None:
            check_note(comment)
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
        with self.routing.attempt(attempt) as routing:
            if target is None:
                # Back to routing in the group, never straight back to the operator it left.
                target_group = group or self._find_live_group(chat.group_id)
                target = routing.route(chat, target_group, at=at, exclude=holder_id)
            self._after_reassign(chat, target, comment, caller=caller, at=at)
            return Done(chat, self._saved(chat, holder, target))

    def _after_reassign(
        self,
        chat: Chat,
        target: Operator | None,
        comment: str | None,
        *,
        caller: Principal,
        at: datetime,
    ) -> None:
        if comment is not None:
            chat.add_note(uuid4(), comment, author_id=caller.operator_id, at=at, actor=caller.actor)
        self._tell_client_of_transfer(chat, target, at=at)

    def _tell_client_of_transfer(
        self, chat: Chat, target: Operator | None, *, at: datetime
    ) -> None:
        """Where the company wants it, the client is told who took the chat over."""
        settings = self.company_settings()
        # A client still talking with the bot has met no operator yet: nothing to tell.
        if target is not None and chat.status == ACTIVE and settings["notify_operator_change"]:
            names = {"first_name": target.first_name, "last_name": target.last_name}
            self._post_system_text(chat, settings, "transfer", at=at, **names)

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
            allowed=not self.company_settings()["forbid_message_deletes"],
            at=self.clock.now(),
            actor=caller.actor,
        )
        return Done(chat.message(message_id), self._saved(chat))
