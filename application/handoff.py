"""Use cases of handoff and routing: a bot hands a chat off, the engine gives it to an
operator or queues it, and the dispatcher gives queued chats out when room appears."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from application.auth import Principal
from application.base import SwitchboardBase
from application.errors import UnknownReference
from application.ports import Done
from application.retry import retry_on_conflict
from application.routing import Assignment
from domain.actors import SYSTEM
from domain.chat import QUEUED, Chat
from domain.client import Client, client_id_of
from domain.errors import InvalidValue
from domain.group import Group
from domain.operator import Operator
from domain.reservation import Reservation

HANDOFF = "handoff"
IDEMPOTENCY_KEY = "idempotency-key"


class HandoffCommands(SwitchboardBase):
    @retry_on_conflict
    def handoff(
        self,
        *,
        bot: Principal,
        external_id: str,
        client: dict[str, Any],
        topic: str | None = None,
        subtopic: str | None = None,
        group_id: UUID | None = None,
        transcript: list[dict[str, Any]] | None = None,
        idempotency_key: str | None = None,
        group_name: str | None = None,
        operator_id: UUID | None = None,
        attempt: int = 1,
    ) -> Done[Chat]:
        """Hand a chat from a bot to the operators; the same key again returns the same chat.

        The chat goes to the group named (by ``group_id`` or ``group_name``), else the
        company's default group; to ``operator_id`` first when that operator is working with
        room, else by the group's routing, then to anyone, then to the queue.

        Idempotency rests on Reservation aggregates keyed by (bot, external id) and (bot,
        Idempotency-Key): parallel retries race to write the same reservation version, one
        wins, the others retry and find its chat.
        """
        keys = [(HANDOFF, f"{bot.name}\x00{external_id}")]
        if idempotency_key:
            keys.append((IDEMPOTENCY_KEY, f"{bot.name}\x00{idempotency_key}"))
        reservation_ids = [Reservation.id_for(*key) for key in keys]
        with self.routing.attempt(attempt) as routing:
            # The group is resolved first so that routing can rank before the rest loads; a
            # refused reference waits until the key is known not to name an open chat (a
            # bot's retry gets its chat back even if the group has gone since).
            try:
                group, refusal = self._handoff_group(group_id, group_name), None
            except (UnknownReference, InvalidValue) as refused:
                group, refusal = None, refused
            target = group.id if group else None
            # Ranked before anything else loads: the reservations, the preferred operator and
            # the best one then load (or catch up) in one statement.
            best = routing.first_choice(target)
            loading: dict[UUID, type] = dict.fromkeys(reservation_ids, Reservation)
            loading.update({operator_id: Operator} if operator_id else {})
            loading.update({best: Operator} if best else {})
            client_id = client_id_of(client)  # its card loads in the same statement
            loading[client_id] = Client
            with self._together(loading):
                reservations = [self._find(Reservation, id_) for id_ in reservation_ids]
                for reservation in reservations:
                    if reservation is not None and not reservation.is_free:
                        existing = self._find(Chat, reservation.owner_id)
                        if existing is not None and existing.is_open:
                            return Done(existing, self.head(), recorded=False)
                if refusal is not None:
                    raise refusal
                card = self._find(Client, client_id)
                if card is not None:
                    card.check_not_blocked()
                preferred = self._preferred_operator(operator_id)
                at = self.clock.now()
                chat = Chat.request(
                    chat_id=uuid4(),
                    at=at,
                    actor=bot.actor,
                    external_id=external_id,
                    client=client,
                    topic=topic,
                    subtopic=subtopic,
                    group_id=target,
                    transcript=transcript,
                )
                pointers = []
                for (kind, key), reservation in zip(keys, reservations, strict=True):
                    if reservation is None:
                        reservation = Reservation.reserve(
                            kind=kind, key=key, owner_id=chat.id, at=at, actor=bot.actor
                        )
                    else:
                        reservation.transfer(chat.id, at=at, actor=bot.actor)
                    pointers.append(reservation)
                if card is None:
                    card = Client.first_seen(chat.client, chat_id=chat.id, at=at, actor=bot.actor)
                else:
                    card.hand_off(chat.client, chat_id=chat.id, at=at, actor=bot.actor)
                operator = routing.route(chat, group, at=at, preferred=preferred)
                return Done(chat, self._saved(chat, operator, card, *pointers))

    def _handoff_group(self, group_id: UUID | None, group_name: str | None) -> Group | None:
        """The group named (by id or by name), else the default group if it still exists."""
        if group_name is not None:
            group = self._group_named(group_name)
            if group_id is not None and group_id != group.id:
                raise InvalidValue(f"group {group_name!r} is not group {group_id}")
            return group
        if group_id is not None:
            return self._group_for_reference(group_id)
        default = self.company_settings()["default_group_id"]
        group = self._find(Group, default) if default is not None else None
        return None if group is None or group.deleted else group

    def _preferred_operator(self, operator_id: UUID | None) -> Operator | None:
        if operator_id is None:
            return None
        operator = self._find(Operator, operator_id)
        if operator is None or not operator.active:
            raise UnknownReference(f"no operator {operator_id}")
        return operator

    @retry_on_conflict
    def assign_from_queue(self, chat_id: UUID, *, attempt: int = 1) -> Done[Assignment]:
        """Give a queued chat to the best operator who can take it now, if anyone can.

        Run by the dispatcher when room appears. Safe to repeat. The value says what
        happened (``Assignment``).
        """
        chat = self._find(Chat, chat_id)
        if chat is None or not chat.is_open or chat.status != QUEUED:
            return Done(Assignment.SKIPPED, None, recorded=False)
        group = self._find(Group, chat.group_id) if chat.group_id else None
        if group is not None and (group.is_manual or group.deleted):
            return Done(Assignment.SKIPPED, None, recorded=False)
        with self.routing.attempt(attempt) as routing:
            operator = routing.choose(chat, group, at=self.clock.now(), exclude=chat.passed_over)
            if operator is None:
                # Only the operator it was taken from may have room: younger chats may still go.
                outcome = Assignment.SKIPPED if chat.passed_over else Assignment.NO_ROOM
                return Done(outcome, None, recorded=False)
            return Done(Assignment.ASSIGNED, self._saved(chat, operator))

    @retry_on_conflict
    def move_to_help(self, chat_id: UUID) -> Done[bool]:
        """A chat left waiting in a deleted group moves to the help queue (no group), where
        every operator sees it and the dispatcher gives it to anyone with room.

        Run by the dispatcher for the chats the dashboard shows in deleted groups. Safe to
        repeat: the chat and its group decide (the value says whether it moved).
        """
        chat = self._find(Chat, chat_id)
        group = self._find(Group, chat.group_id) if chat and chat.group_id else None
        if chat is None or group is None:
            return Done(False, None, recorded=False)
        if not chat.move_to_help(group, at=self.clock.now(), actor=SYSTEM):
            return Done(False, None, recorded=False)
        return Done(True, self._saved(chat))
