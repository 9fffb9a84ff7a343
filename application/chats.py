"""Use cases around a chat: handoff and routing, intercept, messages, close, rating."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from application.auth import Principal
from application.base import SwitchboardBase
from application.errors import Forbidden
from application.ports import Done
from application.retry import current_attempt, retry_on_conflict
from domain.actors import SYSTEM
from domain.chat import QUEUED, Chat
from domain.errors import NotAssigned
from domain.group import Group
from domain.operator import Operator
from domain.reservation import Reservation
from domain.routing import Candidate, rank_candidates
from domain.settings import greeting

HANDOFF = "handoff"
IDEMPOTENCY_KEY = "idempotency-key"
# How many ranked candidates a handoff checks on their aggregates before it queues the chat.
CANDIDATES_TRIED = 5
ROUTING_CATCH_UP_S = 0.5
RACES_BEFORE_QUEUEING = 3
# What assign_from_queue did.
ASSIGNED, SKIPPED, NO_ROOM = "assigned", "skipped", "no_room"


class ChatCommands(SwitchboardBase):
    # -- the bot's side -----------------------------------------------------------------------

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
    ) -> Done[Chat]:
        """Hand a chat from a bot to the operators; the same key again returns the same chat.

        Idempotency rests on Reservation aggregates keyed by (bot, external id) and (bot,
        Idempotency-Key): parallel retries race to write the same reservation version, one
        wins, the others retry and find its chat.
        """
        keys = [(HANDOFF, f"{bot.name}\x00{external_id}")]
        if idempotency_key:
            keys.append((IDEMPOTENCY_KEY, f"{bot.name}\x00{idempotency_key}"))
        reservations = [self._find(Reservation, Reservation.id_for(*key)) for key in keys]
        for reservation in reservations:
            if reservation is not None and not reservation.is_free:
                existing = self._find(Chat, reservation.owner_id)
                if existing is not None and existing.is_open:
                    return Done(existing, self.head(), recorded=False)

        group = self._group_for_reference(group_id)
        at = self.clock.now()
        chat = Chat.request(
            chat_id=uuid4(),
            at=at,
            actor=bot.actor,
            external_id=external_id,
            client=client,
            topic=topic,
            subtopic=subtopic,
            group_id=group_id,
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
        operator = self._route(chat, group, at=at)
        return Done(chat, self._saved(chat, operator, *pointers))

    @retry_on_conflict
    def relay_client_message(self, chat_id: UUID, text: str, *, bot: Principal) -> Done[dict]:
        chat = self._get(Chat, chat_id)
        chat.relay_client_message(uuid4(), text, at=self.clock.now(), actor=bot.actor)
        return Done(chat.messages[-1], self._saved(chat))

    @retry_on_conflict
    def post_bot_message(self, chat_id: UUID, text: str, *, bot: Principal) -> Done[dict]:
        chat = self._get(Chat, chat_id)
        chat.post_bot_message(uuid4(), text, at=self.clock.now(), actor=bot.actor)
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
        text = greeting(
            self.company_settings(), first_name=holder.first_name, last_name=holder.last_name
        )
        if text.strip():
            chat.post_system_message(uuid4(), text, at=at, actor=SYSTEM)
        return Done(chat, self._saved(chat, operator))

    @retry_on_conflict
    def reply(self, chat_id: UUID, text: str, *, caller: Principal) -> Done[dict]:
        chat = self._get(Chat, chat_id)
        chat.reply(
            uuid4(),
            self._staff_id(caller),
            text,
            supervisor=caller.supervises,
            at=self.clock.now(),
            actor=caller.actor,
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

    def _close(
        self,
        chat: Chat,
        *,
        caller: Principal | None,
        reason: str | None,
        settings: dict[str, Any] | None = None,
    ) -> Operator | None:
        """Close ``chat`` (unsaved); returns its operator with the place released."""
        at = self.clock.now()
        actor = caller.actor if caller else SYSTEM
        operator_id = caller.operator_id if caller else None
        supervisor = caller is None or caller.supervises
        settings = settings or self.company_settings()
        chat.check_open()
        chat.check_may_act(operator_id, supervisor=supervisor)
        if settings["rating_prompt"] and settings["rating_prompt_text"].strip():
            chat.post_system_message(uuid4(), settings["rating_prompt_text"], at=at, actor=SYSTEM)
        holder = chat.close(
            operator_id=operator_id,
            supervisor=supervisor,
            reason=reason,
            at=at,
            actor=actor,
            # The engine closing an abandoned chat cannot pick a topic for it.
            require_topic=caller is not None and settings["require_topic_to_close"],
        )
        operator = self._find(Operator, holder) if holder else None
        if operator is not None:
            operator.release_chat(chat.id, at=at, actor=actor)
        return operator

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

    # -- routing ------------------------------------------------------------------------------

    @retry_on_conflict
    def assign_from_queue(self, chat_id: UUID) -> Done[str]:
        """Give a queued chat to the best operator who can take it now, if anyone can.

        Run by the dispatcher when room appears. Safe to repeat. The value says what
        happened: ``ASSIGNED``; ``SKIPPED`` for a chat no longer queued, or waiting in a manual
        or deleted group; ``NO_ROOM`` when no working operator anywhere has room.
        """
        chat = self._find(Chat, chat_id)
        if chat is None or not chat.is_open or chat.status != QUEUED:
            return Done(SKIPPED, None, recorded=False)
        group = self._find(Group, chat.group_id) if chat.group_id else None
        if group is not None and (group.is_manual or group.deleted):
            return Done(SKIPPED, None, recorded=False)
        operator = self._choose_operator(
            chat, group, at=self.clock.now(), catch_up=True, exclude=chat.passed_over
        )
        if operator is None:
            # Only the operator it was taken from may have room: younger chats may still go.
            return Done(SKIPPED if chat.passed_over else NO_ROOM, None, recorded=False)
        return Done(ASSIGNED, self._saved(chat, operator))

    def _route(
        self, chat: Chat, group: Group | None, *, at: datetime, exclude: UUID | None = None
    ) -> Operator | None:
        """Assign the chat to the best operator who can take it, or queue it."""
        group_id = group.id if group else None
        operator = None
        # After a few lost races for the same operators, stop fighting: the chat is queued
        # and the dispatcher, which assigns one chat at a time, gives it to whoever has room.
        racing = current_attempt() > RACES_BEFORE_QUEUEING
        if (group is None or not group.is_manual) and not racing:
            operator = self._choose_operator(chat, group, at=at, catch_up=True, exclude=exclude)
        if operator is None:
            chat.queue(group_id, at=at, actor=SYSTEM)
        return operator

    def _choose_operator(
        self,
        chat: Chat,
        group: Group | None,
        *,
        at: datetime,
        catch_up: bool,
        exclude: UUID | None = None,
    ) -> Operator | None:
        """Assign the chat to the best operator who can take it; None if nobody can.

        Candidates come ranked from the routing view; each is checked on its own aggregate,
        so a stale view costs a look further down the list, never an operator over capacity.
        """
        group_id = group.id if group else None
        for attempt in range(2 if catch_up else 1):
            # Nobody free in the picture we had: make sure it is not just out of date.
            if attempt and not self.routing.catch_up(timeout=ROUTING_CATCH_UP_S):
                break
            ranked = self._ranked(group_id, exclude)
            # Nobody free in the group as far as the picture shows: someone may just have
            # turned working there. Look again before sending the chat elsewhere.
            outside = bool(ranked) and not _in_group(ranked[0], group_id)
            if not attempt and catch_up and outside and self.routing.catch_up(ROUTING_CATCH_UP_S):
                ranked = self._ranked(group_id, exclude)
            lost_races = current_attempt() - 1
            if lost_races:
                # Racing writers all ranked the same best operator; after a lost race, try
                # the best few in random order so that they stop colliding (the group's own
                # operators still before the others).
                own = [c for c in ranked if _in_group(c, group_id)]
                others = [c for c in ranked if not _in_group(c, group_id)]
                random.shuffle(own)
                random.shuffle(others)
                ranked = own + others
            for candidate in ranked:
                self._picks.hold(candidate.operator_id)  # (the best is held twice: no harm)
                operator = self._find(Operator, candidate.operator_id)
                if operator is None or not _can_take(operator):
                    continue
                operator.take_chat(chat.id, at=at, actor=SYSTEM)
                chat.assign(operator.id, group_id, at=at, actor=SYSTEM)
                return operator
        return None

    def _ranked(self, group_id: UUID | None, exclude: UUID | None) -> list[Candidate]:
        # The group's own operators come first; the others only matter when none has room.
        candidates = [c for c in self.routing.candidates(group_id) if c.operator_id != exclude]
        if group_id is not None and not any(c.available for c in candidates):
            candidates = [c for c in self.routing.candidates() if c.operator_id != exclude]
        # An operator another command of this process is giving a chat to (not yet saved)
        # goes after the others: concurrent commands do not race for the same operator's
        # version. The best is held for this command now.
        ranked = self._picks.hold_best(lambda held: rank_candidates(candidates, group_id, held))
        return ranked[:CANDIDATES_TRIED]

    def end_attempt(self) -> None:
        """A run of a command is over (saved, failed or lost a race): its picks are free."""
        self._picks.release()

    @staticmethod
    def _staff_id(caller: Principal) -> UUID:
        if caller.operator_id is None:
            raise Forbidden("only an operator's own token can act in a chat")
        return caller.operator_id


def _in_group(candidate: Candidate, group_id: UUID | None) -> bool:
    return group_id is None or group_id in candidate.group_ids


def _can_take(operator: Operator) -> bool:
    return operator.active and operator.status == "working" and operator.has_room
