"""Use cases of the client card: read, edit, notes, tags, block and unblock.

The handoff makes or updates the card (``application.handoff``); blocking closes the client's
open chats in the same save, so a blocked client has none.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from application.auth import Principal
from application.base import SwitchboardBase
from application.ports import Done
from application.retry import retry_on_conflict
from domain.chat import Chat
from domain.client import BlockForbidden, Client, client_id_of
from domain.operator import Operator

BLOCKED = "blocked"  # the close reason of a chat closed by its client's block


class ClientCommands(SwitchboardBase):
    def get_client(self, client_id: UUID) -> Client:
        return self._get(Client, client_id)

    def find_client(self, client_id: UUID) -> Client | None:
        return self._find(Client, client_id)

    def check_client_may_write(self, chat: Chat) -> None:
        """A bot's message in a blocked client's chat is refused (``ClientBlocked``).

        A blocked client has no open chat (the block closes them, and a handoff racing it
        writes the same card, so one of the two retries): an open chat needs no lookup.
        """
        if chat.is_open:
            return
        client = self._find(Client, client_id_of(chat.client))
        if client is not None:
            client.check_not_blocked()

    @retry_on_conflict
    def edit_client(self, client_id: UUID, changes: dict[str, Any], *, caller: Principal):
        client = self._get(Client, client_id)
        client.edit(changes, at=self.clock.now(), actor=caller.actor)
        return self._done(client)

    @retry_on_conflict
    def add_client_note(self, client_id: UUID, text: str, *, caller: Principal):
        client = self._get(Client, client_id)
        note_id = uuid4()
        client.add_note(
            note_id, text, author_id=caller.operator_id, at=self.clock.now(), actor=caller.actor
        )
        position = self._saved(client)
        return Done(next(n for n in client.notes if n["id"] == note_id), position)

    @retry_on_conflict
    def delete_client_note(self, client_id: UUID, note_id: UUID, *, caller: Principal):
        client = self._get(Client, client_id)
        client.delete_note(note_id, at=self.clock.now(), actor=caller.actor)
        return self._done(client)

    @retry_on_conflict
    def set_client_tags(self, client_id: UUID, tags: list[str], *, caller: Principal):
        client = self._get(Client, client_id)
        client.set_tags(tags, at=self.clock.now(), actor=caller.actor)
        return self._done(client)

    @retry_on_conflict
    def block_client(self, client_id: UUID, reason: str | None, *, caller: Principal):
        """Block the client and close their open chats (``close_reason`` ``blocked``)."""
        self._check_may_block(caller)
        client = self._get(Client, client_id)
        at = self.clock.now()
        client.block(reason, at=at, actor=caller.actor)
        changed: list[Any] = [client]
        operators: dict[UUID, Operator] = {}
        with self._together(dict.fromkeys(client.chat_ids, Chat)):
            chats = [self._find(Chat, chat_id) for chat_id in client.chat_ids]
        for chat in chats:
            if chat is None or not chat.is_open:
                continue
            holder = chat.close(
                operator_id=None, supervisor=True, reason=BLOCKED, at=at, actor=caller.actor
            )
            changed.append(chat)
            if holder is not None:
                operator = operators.get(holder) or self._find(Operator, holder)
                if operator is not None:
                    operator.release_chat(chat.id, at=at, actor=caller.actor)
                    operators[holder] = operator
        return self._done(client, *changed[1:], *operators.values())

    @retry_on_conflict
    def unblock_client(self, client_id: UUID, *, caller: Principal):
        self._check_may_block(caller)
        client = self._get(Client, client_id)
        client.unblock(at=self.clock.now(), actor=caller.actor)
        return self._done(client)

    def _check_may_block(self, caller: Principal) -> None:
        if caller.supervises:
            return
        if not self.company_settings().get("operators_may_block_clients", False):
            raise BlockForbidden("only supervisors block clients in this company")

    def _done(self, client: Client, *others: Any) -> Done[Client]:
        recorded = bool(client.pending_events) or any(o.pending_events for o in others)
        return Done(client, self._saved(client, *others), recorded=recorded)
