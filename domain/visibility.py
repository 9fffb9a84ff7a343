"""Who sees which chat: the one rule behind the dashboard, the live stream, history and the
chat read check.

- A supervisor (or an admin) sees every chat.
- An operator sees, live, the chats they hold (assigned, active, or closed while theirs) and
  the chats queued in one of their groups.
- In history, an operator sees the chats they held at any time, whoever holds them now.

The unrouted queue (queued, no group) is the supervisors': an operator sees a queued chat only
through one of their groups. The dashboard and the stream always did so; the chat read check
let every operator read unrouted queued chats too, and now agrees with them (an operator may
still intercept one, and then holds it). Issue 17's ``help`` tab opens unrouted chats (and those
of deleted groups) to every operator: a ``Way`` added to ``LIVE``.

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
    """One way an operator sees a chat: its ``fact`` is the viewer's id (``by`` "operator")
    or one of their groups (``by`` "groups"), while its status is one of ``statuses``
    (``None``: any)."""

    fact: str
    by: str
    statuses: frozenset[str] | None = None


LIVE = (Way(OPERATOR, "operator"), Way(GROUP, "groups", frozenset({QUEUED})))
RECORD = (Way(HOLDERS, "operator"),)


@dataclass(frozen=True)
class Clause:
    """Admits the chats whose ``fact`` is one of ``values`` (``holders``: that one of them held)
    and whose status is one of ``statuses`` (``None``: any). No ``fact``: every chat."""

    fact: str | None = None
    values: frozenset[UUID] = frozenset()
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
        if way.by == "operator":
            values = frozenset() if viewer.operator_id is None else frozenset({viewer.operator_id})
        else:
            values = viewer.group_ids
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


def audience(chat: ChatFacts, ways: Sequence[Way] = LIVE) -> frozenset[tuple[str, UUID]]:
    """Through which (fact, value) operators see the chat: its holder, its group's queue."""
    return frozenset(
        (way.fact, value)
        for way in ways
        if (way.statuses is None or chat.status in way.statuses)
        and isinstance(value := chat.value(way.fact), UUID)
    )


def lost_sight(before: ChatFacts, after: ChatFacts) -> ChatFacts | None:
    """What a move took the chat away from, as the facts of a departure (status ``None``),
    or ``None`` when everyone who saw it still does."""
    lost = dict(audience(before) - audience(after))
    if not lost:
        return None
    return ChatFacts(None, lost.get(OPERATOR), lost.get(GROUP))


def departure_clauses(viewer: Viewer) -> tuple[Clause, ...]:
    """The clauses over departures: a viewer saw what a departure names (its status checked
    when it was recorded); supervisors see every chat, so nothing departs from them."""
    if viewer.supervises:
        return ()
    return tuple(replace(clause, statuses=None) for clause in clauses(viewer))


def saw(viewer: Viewer, departure: ChatFacts) -> bool:
    """Whether the viewer saw the chat before the move a departure records."""
    return any(clause.admits(departure) for clause in departure_clauses(viewer))
