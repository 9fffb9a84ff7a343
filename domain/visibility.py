"""Who sees which chat: the one rule behind the dashboard, the live stream, history and the
chat read check.

- A supervisor (or an admin) sees every chat.
- An operator sees, live, the chats they hold (assigned, active, or closed while theirs), the
  chats queued in one of their groups, and the chats queued in no group: the help queue, which
  every operator sees (a chat waiting in a group that is deleted is moved there).
- In history, an operator sees the chats they held at any time, whoever holds them now.

The rule is data: ``Way``s, bound to a viewer as ``Clause``s, any of which admits a chat.
``sees`` checks them in Python; ``projections.machinery.visibility`` renders the same clauses as
SQL, so the two cannot drift.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from uuid import UUID

from domain.chat import ACTIVE, ASSIGNED, CLOSED, QUEUED

STATUSES = frozenset({QUEUED, ASSIGNED, ACTIVE, CLOSED})
# The facts of a chat the rule looks at.
OPERATOR, GROUP, HOLDERS = "operator_id", "group_id", "holders"


@dataclass(frozen=True)
class Viewer:
    """Who looks: an operator (their id and groups), and whether they supervise."""

    operator_id: UUID | None
    supervises: bool = False
    group_ids: frozenset[UUID] = frozenset()


@dataclass(frozen=True)
class ChatFacts:
    """A chat as the rule sees it. ``holders``: every operator who held it (history only)."""

    status: str | None
    operator_id: UUID | None
    group_id: UUID | None
    holders: frozenset[UUID] = frozenset()

    def value(self, fact: str) -> UUID | frozenset[UUID] | None:
        return getattr(self, fact)


@dataclass(frozen=True)
class Way:
    """One way an operator sees a chat: its ``fact`` is the viewer's id (``by`` "operator"),
    one of their groups (``by`` "groups") or unset (``by`` "nobody": every viewer sees it),
    while its status is one of ``statuses`` (``None``: any)."""

    fact: str
    by: str
    statuses: frozenset[str] | None = None


# The help queue: chats waiting in no group, in every operator's sight.
HELP = Way(GROUP, "nobody", frozenset({QUEUED}))
LIVE = (Way(OPERATOR, "operator"), Way(GROUP, "groups", frozenset({QUEUED})), HELP)
RECORD = (Way(HOLDERS, "operator"),)


@dataclass(frozen=True)
class Clause:
    """Admits the chats whose ``fact`` is one of ``values`` (``None`` among them: unset;
    ``holders``: that one of them held) and whose status is one of ``statuses`` (``None``:
    any). No ``fact``: every chat."""

    fact: str | None = None
    values: frozenset[UUID | None] = frozenset()
    statuses: frozenset[str] | None = None

    def admits(self, chat: ChatFacts) -> bool:
        if self.statuses is not None and chat.status not in self.statuses:
            return False
        if self.fact is None:
            return True
        value = chat.value(self.fact)
        if isinstance(value, frozenset):
            return not value.isdisjoint(self.values)
        return value in self.values


EVERY = (Clause(),)


def clauses(viewer: Viewer, ways: Sequence[Way] = LIVE) -> tuple[Clause, ...]:
    """The viewer's clauses: any of them admits a chat they see (none: they see nothing)."""
    if viewer.supervises:
        return EVERY
    bound = []
    for way in ways:
        values: frozenset[UUID | None]
        if way.by == "operator":
            values = frozenset() if viewer.operator_id is None else frozenset({viewer.operator_id})
        elif way.by == "nobody":
            values = frozenset({None})
        else:
            values = frozenset(viewer.group_ids)
        if values:  # a clause over no values admits nothing
            bound.append(Clause(way.fact, values, way.statuses))
    return tuple(bound)


def narrowed(found: Iterable[Clause], statuses: frozenset[str]) -> tuple[Clause, ...]:
    """The clauses for a query already limited to ``statuses`` (a dashboard tab): a clause
    that admits none of them goes, and a status condition the query implies is left out."""
    out = []
    for clause in found:
        if clause.statuses is None:
            out.append(clause)
        elif clause.statuses & statuses:
            keep = clause.statuses if not statuses <= clause.statuses else None
            out.append(replace(clause, statuses=keep))
    return tuple(out)


def sees(viewer: Viewer, chat: ChatFacts, ways: Sequence[Way] = LIVE) -> bool:
    return any(clause.admits(chat) for clause in clauses(viewer, ways))


def audience(chat: ChatFacts, ways: Sequence[Way] = LIVE) -> frozenset[tuple[str, UUID | None]]:
    """Through which (fact, value) operators see the chat: its holder, its group's queue, or
    (fact, ``None``) the help queue, which everyone sees."""
    return frozenset(
        (way.fact, value)
        for way in ways
        if (way.statuses is None or chat.status in way.statuses)
        and (
            isinstance(value := chat.value(way.fact), UUID)
            or (way.by == "nobody" and value is None)
        )
    )


def lost_sight(before: ChatFacts, after: ChatFacts) -> ChatFacts | None:
    """What a move took the chat away from, as the facts of a departure, or ``None`` when
    everyone who saw it still does. A departure's status is ``None``, except when the chat
    left the help queue: then the status it had there, which tells every viewer."""
    lost = audience(before) - audience(after)
    if not lost:
        return None
    named = {fact: value for fact, value in lost if value is not None}
    status = before.status if any(value is None for _, value in lost) else None
    return ChatFacts(status, named.get(OPERATOR), named.get(GROUP))


def departure_clauses(viewer: Viewer) -> tuple[Clause, ...]:
    """The clauses over departures: a viewer saw what a departure names (its status checked
    when it was recorded; the help queue's, by the status the departure keeps); supervisors
    see every chat, so nothing departs from them."""
    if viewer.supervises:
        return ()
    return tuple(
        clause if None in clause.values else replace(clause, statuses=None)
        for clause in clauses(viewer)
    )


def saw(viewer: Viewer, departure: ChatFacts) -> bool:
    """Whether the viewer saw the chat before the move a departure records."""
    return any(clause.admits(departure) for clause in departure_clauses(viewer))
