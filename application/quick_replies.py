"""Use cases of quick replies: supervisors keep the company's and groups' ones, each operator
their own; staff list those they may use, and reply in a chat with one."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from application.auth import Principal
from application.base import SwitchboardBase
from application.errors import Forbidden, NotFound, UnknownReference
from application.ports import Done
from application.retry import retry_on_conflict
from domain.chat import Chat
from domain.operator import Operator
from domain.quick_reply import QuickReply, QuickReplyIndex, filled_in

MAX_LISTED = 500


class QuickReplyCommands(SwitchboardBase):
    @retry_on_conflict
    def create_quick_reply(
        self,
        *,
        shortcut: str,
        text: str,
        title: str | None = None,
        group_id: UUID | None = None,
        personal: bool = False,
        caller: Principal,
    ) -> Done[QuickReply]:
        if personal:
            if caller.operator_id is None:
                raise Forbidden("a personal quick reply needs an operator's own token")
        elif not caller.supervises:
            raise Forbidden("supervisors keep the company's and groups' quick replies")
        self._group_for_reference(group_id)
        at = self.clock.now()
        reply = QuickReply.create(
            uuid4(),
            shortcut=shortcut,
            text=text,
            title=title,
            group_id=group_id,
            owner_id=caller.operator_id if personal else None,
            at=at,
            actor=caller.actor,
        )
        index = self._index(caller)
        index.add(reply, at=at, actor=caller.actor)
        return Done(reply, self._saved(reply, index))

    @retry_on_conflict
    def update_quick_reply(
        self, reply_id: UUID, changes: dict[str, Any], *, caller: Principal
    ) -> Done[QuickReply]:
        reply = self._managed_reply(reply_id, caller)
        changed = reply.change(changes, at=self.clock.now(), actor=caller.actor)
        return Done(reply, self._saved(reply) if changed else self.head(), recorded=changed)

    @retry_on_conflict
    def delete_quick_reply(self, reply_id: UUID, *, caller: Principal) -> Done[None]:
        reply = self._managed_reply(reply_id, caller)
        at = self.clock.now()
        reply.delete(at=at, actor=caller.actor)
        index = self._index(caller)
        index.remove(reply.id, at=at, actor=caller.actor)
        return Done(None, self._saved(reply, index))

    def list_quick_replies(
        self, *, caller: Principal, q: str | None = None, group_id: UUID | None = None
    ) -> list[QuickReply]:
        """The replies the caller may use, by shortcut; ``q`` in the shortcut, title or text."""
        index = self._find(QuickReplyIndex, QuickReplyIndex.fixed_id())
        if index is None:
            return []
        groups = self._groups_of(caller)
        ids = index.visible_to(caller.operator_id, groups, supervisor=caller.supervises)
        replies = [r for r in (self._find(QuickReply, i) for i in ids) if r and not r.deleted]
        if group_id is not None:
            replies = [r for r in replies if r.group_id == group_id]
        if q:
            needle = q.casefold()
            replies = [r for r in replies if needle in _haystack(r)]
        return sorted(replies, key=lambda r: (r.shortcut.casefold(), str(r.id)))[:MAX_LISTED]

    @retry_on_conflict
    def reply_with_quick_reply(
        self, chat_id: UUID, reply_id: UUID, *, caller: Principal
    ) -> Done[dict]:
        """The operator's reply with a quick reply's text, its placeholders filled in."""
        chat = self._get(Chat, chat_id)
        if caller.operator_id is None:
            raise Forbidden("only an operator's own token can act in a chat")
        operator = self._get(Operator, caller.operator_id)
        reply = self._find(QuickReply, reply_id)
        groups = frozenset(operator.group_ids)
        usable = reply is not None and not reply.deleted
        if not usable or not reply.may_use(operator.id, groups, supervisor=caller.supervises):
            raise UnknownReference(f"no quick reply {reply_id} of yours")
        text = filled_in(
            reply.text,
            client_name=str(chat.client.get("name") or ""),
            operator_first_name=operator.first_name,
        )
        chat.reply(
            uuid4(),
            operator.id,
            text,
            supervisor=caller.supervises,
            at=self.clock.now(),
            actor=caller.actor,
        )
        return Done(chat.messages[-1], self._saved(chat))

    def _managed_reply(self, reply_id: UUID, caller: Principal) -> QuickReply:
        reply = self._find(QuickReply, reply_id)
        if reply is None or reply.deleted:
            raise NotFound(f"no quick reply {reply_id}")
        if not reply.may_manage(caller.operator_id, supervisor=caller.supervises):
            raise Forbidden("supervisors keep the company's and groups' quick replies")
        return reply

    def _index(self, caller: Principal) -> QuickReplyIndex:
        index = self._find(QuickReplyIndex, QuickReplyIndex.fixed_id())
        if index is None:
            index = QuickReplyIndex.start(at=self.clock.now(), actor=caller.actor)
        return index

    def _groups_of(self, caller: Principal) -> frozenset[UUID]:
        if caller.operator_id is None:
            return frozenset()
        operator = self._find(Operator, caller.operator_id)
        return frozenset(operator.group_ids) if operator is not None else frozenset()


def _haystack(reply: QuickReply) -> str:
    return " ".join((reply.shortcut, reply.title or "", reply.text)).casefold()
