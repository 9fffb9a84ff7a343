"""Routing under contention: which operator a chat goes to while other commands route too.

Every command ranks operators from the same picture (the directory, through ``RoutingView``),
so commands running at the same moment would all choose its best operator; all but one would
lose the version race on that operator, reload everything and run again. So:
- each run of a routing command is an ``attempt`` numbered by the conflict retry (1, then 2
  after a lost race...): after a lost race the picture is brought up to date first, the best
  few are tried in random order, and after ``RACES_BEFORE_QUEUEING`` the chat is queued for
  the dispatcher, which assigns one chat at a time;
- an operator another run of this process has chosen and not yet saved (its ``picks``) ranks
  after the others until that run ends (saved, failed or lost).
The aggregates still decide: a stale picture costs a look further down the list, never an
operator over capacity.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from typing import Protocol, TypeVar
from uuid import UUID

from application.ports import RoutingView
from domain.actors import SYSTEM
from domain.chat import Chat
from domain.group import Group
from domain.operator import Operator
from domain.routing import Candidate, rank_candidates

# How many ranked candidates a command checks on their aggregates before it queues the chat.
CANDIDATES_TRIED = 5
ROUTING_CATCH_UP_S = 0.5
RACES_BEFORE_QUEUEING = 3


class Assignment(StrEnum):
    """What assigning a queued chat did."""

    ASSIGNED = "assigned"
    SKIPPED = "skipped"  # no longer queued, or waiting in a manual or deleted group
    NO_ROOM = "no_room"  # no working operator anywhere has room


class HasOperator(Protocol):
    @property
    def operator_id(self) -> UUID: ...


C = TypeVar("C", bound=HasOperator)


class Picks:
    """Operators this process's runs of commands have chosen and not yet saved."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: Counter[UUID] = Counter()  # operator -> runs holding it

    def hold(self, operator_id: UUID, held: list[UUID]) -> None:
        """A run chose ``operator_id``; ``held`` is that run's list of what it holds."""
        with self._lock:
            self._held[operator_id] += 1
        held.append(operator_id)

    def release(self, held: list[UUID]) -> None:
        """That run is over: let go of whatever it held."""
        if not held:
            return
        with self._lock:
            for operator_id in held:
                self._held[operator_id] -= 1
                if self._held[operator_id] <= 0:
                    del self._held[operator_id]
        held.clear()

    def hold_best(self, rank: Callable[[Mapping[UUID, int]], list[C]], held: list[UUID]) -> list[C]:
        """Rank with what other runs hold (``rank`` gets operator -> runs holding it) and hold
        the best for this run, in one step: no other run ranks between the two."""
        with self._lock:
            order = rank(dict(self._held))
            if order:
                self._held[order[0].operator_id] += 1
        if order:
            held.append(order[0].operator_id)
        return order


class Routing:
    """Chooses operators for chats; ``attempt()`` opens one run of a routing command."""

    def __init__(self, view: RoutingView, find_operator: Callable[[UUID], Operator | None]):
        self.view = view
        self.find_operator = find_operator
        self.picks = Picks()
        # This process's order among equally good operators (other processes have their own).
        self.salt = random.getrandbits(128)

    @contextmanager
    def attempt(self, number: int) -> Iterator[RoutingAttempt]:
        """Run ``number`` of a command: what it picks is held until the block ends."""
        if number > 1:
            # Another writer won: bring the picture up to date before deciding again.
            self.view.catch_up(timeout=ROUTING_CATCH_UP_S)
        attempt = RoutingAttempt(self, number)
        try:
            yield attempt
        finally:
            self.picks.release(attempt.held)


class RoutingAttempt:
    def __init__(self, routing: Routing, number: int) -> None:
        self.number = number
        self.held: list[UUID] = []
        self._routing = routing
        self._ranking: tuple[UUID | None, list[Candidate]] | None = None

    def first_choice(self, group_id: UUID | None) -> UUID | None:
        """Rank now, before the command loads anything, so that the best operator is loaded
        with its other aggregates; ``choose`` starts from this ranking. None: no one to load."""
        if self.number > 1:
            return None  # after a lost race the order is shuffled: load as it goes
        ranked = self._ranked(group_id, None)
        self._ranking = (group_id, ranked)
        return ranked[0].operator_id if ranked else None

    def route(
        self,
        chat: Chat,
        group: Group | None,
        *,
        at: datetime,
        exclude: UUID | None = None,
        preferred: Operator | None = None,
    ) -> Operator | None:
        """Assign the chat to the operator the bot prefers when they can take it, else to the
        best operator who can, or queue it."""
        operator = None
        # After a few lost races for the same operators, stop fighting: the chat is queued
        # and the dispatcher, which assigns one chat at a time, gives it to whoever has room.
        racing = self.number > RACES_BEFORE_QUEUEING
        if preferred is not None and preferred.can_take and not racing:
            self._routing.picks.hold(preferred.id, self.held)
            preferred.take_chat(chat.id, at=at, actor=SYSTEM)
            chat.assign(preferred.id, group.id if group else None, at=at, actor=SYSTEM)
            operator = preferred
        if operator is None and (group is None or not group.is_manual) and not racing:
            operator = self.choose(chat, group, at=at, exclude=exclude)
        if operator is None:
            chat.queue(group.id if group else None, at=at, actor=SYSTEM)
        return operator

    def choose(
        self, chat: Chat, group: Group | None, *, at: datetime, exclude: UUID | None = None
    ) -> Operator | None:
        """Assign the chat to the best operator who can take it; None if nobody can."""
        operator = self.pick(group, exclude=exclude)
        if operator is not None:
            operator.take_chat(chat.id, at=at, actor=SYSTEM)
            chat.assign(operator.id, group.id if group else None, at=at, actor=SYSTEM)
        return operator

    def pick(
        self, group: Group | None, *, exclude: UUID | None = None, own_group: bool = False
    ) -> Operator | None:
        """The best operator who can take a chat of ``group`` now (``own_group``: only one of
        the group's own); None if nobody can. The caller gives them the chat.

        Candidates come ranked from the routing view; each is checked on its own aggregate,
        so a stale view costs a look further down the list, never an operator over capacity.
        """
        view = self._routing.view
        group_id = group.id if group else None
        for look in range(2):
            # Nobody free in the picture we had: make sure it is not just out of date.
            if look and not view.catch_up(timeout=ROUTING_CATCH_UP_S):
                break
            ranked = self._ranked_before(group_id, exclude) if not look else None
            if ranked is None:
                ranked = self._ranked(group_id, exclude, own_group)
            # Nobody free in the group as far as the picture shows: someone may just have
            # turned working there. Look again before sending the chat elsewhere.
            outside = bool(ranked) and not _in_group(ranked[0], group_id)
            if not look and outside and view.catch_up(ROUTING_CATCH_UP_S):
                ranked = self._ranked(group_id, exclude, own_group)
            if self.number > 1:
                # Racing writers all ranked the same best operator; after a lost race, try
                # the best few in random order so that they stop colliding (the group's own
                # operators still before the others).
                own = [c for c in ranked if _in_group(c, group_id)]
                others = [c for c in ranked if not _in_group(c, group_id)]
                random.shuffle(own)
                random.shuffle(others)
                ranked = own + others
            for candidate in ranked:
                self._routing.picks.hold(candidate.operator_id, self.held)  # (best: twice)
                operator = self._routing.find_operator(candidate.operator_id)
                if operator is None or not operator.can_take:
                    continue
                return operator
        return None

    def _ranked_before(self, group_id: UUID | None, exclude: UUID | None) -> list[Candidate] | None:
        """The ranking ``first_choice`` made for this group, once."""
        ranking, self._ranking = self._ranking, None
        if ranking is None or exclude is not None or ranking[0] != group_id:
            return None
        return ranking[1]

    def _ranked(
        self, group_id: UUID | None, exclude: UUID | None, own_group: bool = False
    ) -> list[Candidate]:
        view = self._routing.view
        # The group's own operators come first; the others only matter when none has room.
        candidates = [c for c in view.candidates(group_id) if c.operator_id != exclude]
        if group_id is not None and not own_group and not any(c.available for c in candidates):
            candidates = [c for c in view.candidates() if c.operator_id != exclude]
        # An operator another run of this process is giving a chat to (not yet saved) goes
        # after the others: concurrent commands do not race for the same operator's version.
        ranked = self._routing.picks.hold_best(
            lambda held: rank_candidates(candidates, group_id, held, self._routing.salt),
            self.held,
        )
        return ranked[:CANDIDATES_TRIED]


def _in_group(candidate: Candidate, group_id: UUID | None) -> bool:
    return group_id is None or group_id in candidate.group_ids
