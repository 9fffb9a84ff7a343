"""Overdue answers: a chat's running response clock, and the mark that it ran past its SL.

A mixin of ``Chat``, like ``ChatMoves``: the ``ResponseOverdue`` event stays nested in
``Chat``. The aggregate keeps its running clock by passing each of its events to
``domain.clocks.ChatClocks``, the one code that says when a clock starts and stops (a muted
client's messages start none), and computes the deadline with ``ChatClocks.due_at``. A clock
is marked overdue at most once, and an overdue chat moves on at most once (the engine's move,
or anyone's reassign of it): a clock that stops (answered, closed) or starts anew (the client's
next turn) starts clean.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    from domain.clocks import ChatClocks, ServiceLevel


def _clocks() -> Any:
    """``domain.clocks`` reads Chat's events, so it is imported once Chat exists."""
    import domain.clocks

    return domain.clocks


def _no_sl(group_id: UUID | None, kind: str) -> int:
    """The aggregate keeps no facts of stopped clocks: their SL does not matter here."""
    return 0


class ChatOverdue:
    """The running response clock of a ``Chat`` and whether it is marked overdue."""

    id: UUID
    group_id: UUID | None
    operator_id: UUID | None
    assigned_at: datetime | None
    muted: bool
    muted_until: datetime | None
    is_open: bool
    # Kept by each event from ``ChatRequested`` on (a snapshot older than them is upcast).
    clock_kind: str | None = None
    clock_started_at: datetime | None = None
    operator_replied: bool = False
    overdue: bool = False
    overdue_moved: bool = False  # reassigned while overdue: the engine moves it no more

    def response_clocks(self) -> ChatClocks:
        """The chat's response clocks as ``domain.clocks`` runs them."""
        return _clocks().ChatClocks(
            chat_id=self.id,
            group_id=self.group_id,
            operator_id=self.operator_id,
            operator_replied=self.operator_replied,
            clock_kind=self.clock_kind,
            clock_started_at=self.clock_started_at,
            muted=self.muted,
            muted_until=self.muted_until,
            closed=not self.is_open,
        )

    def follow_clocks(self, before: ChatClocks | None, event: Any) -> None:
        """After each event: the clocks as they were before it (None: the chat's request,
        which starts them), moved by it."""
        if before is None:
            self._keep_clocks(_clocks().ChatClocks.requested(event))
            return
        if self.overdue and isinstance(event, self.Reassigned):  # type: ignore[attr-defined]
            self.overdue_moved = True
        before.apply(event, _no_sl)
        self._keep_clocks(before)

    def _keep_clocks(self, clocks: ChatClocks) -> None:
        running = (clocks.clock_kind, clocks.clock_started_at)
        if running != (self.clock_kind, self.clock_started_at):
            # Answered, closed, or the client's next turn.
            self.overdue, self.overdue_moved = False, False
        self.clock_kind, self.clock_started_at = running
        self.operator_replied = clocks.operator_replied

    def due_at(self, sl: ServiceLevel) -> datetime | None:
        """When the running clock passes its group's SL (``sl``); None when none runs."""
        return self.response_clocks().due_at(sl) if self.is_open else None

    def mark_overdue(self, sl: ServiceLevel, *, at: datetime, actor: str) -> bool:
        """Record that the running clock ran past its group's SL; False when it has not yet,
        none runs, or this clock is already marked."""
        due_at = self.due_at(sl)
        if due_at is None or at <= due_at or self.overdue:
            return False
        self.trigger_event(  # type: ignore[attr-defined]
            self.ResponseOverdue,  # type: ignore[attr-defined]
            timestamp=at,
            actor=actor,
            clock=self.clock_kind,
            due_at=due_at,
            operator_id=self.operator_id,
        )
        return True

    def overdue_move_due(self, sl: ServiceLevel, after_s: int, *, at: datetime) -> bool:
        """Whether a chat marked overdue, still unanswered and not moved since, has been
        ``after_s`` past its SL with the operator holding it (one who got it after the SL, from
        the queue, has as long from then)."""
        due_at = self.due_at(sl)
        if not self.overdue or self.overdue_moved or due_at is None or self.operator_id is None:
            return False
        since = max(due_at, self.assigned_at or due_at)
        return at - since >= timedelta(seconds=after_s)


def upcast_clocks(state: dict[str, Any]) -> None:
    """A snapshot taken before the chat kept its clock: the clock its messages show (a muted
    client's messages cannot be told apart there, and start one)."""
    clocks = _clocks()
    messages = state.get("messages", [])
    answers = [n for n, m in enumerate(messages) if m["author"] == "operator"]
    kind, started = None, None
    if state.get("status") != "closed" and not answers:
        kind, started = clocks.FIRST_RESPONSE, state.get("_created_on")
    elif state.get("status") != "closed":
        waiting = [m["at"] for m in messages[answers[-1] + 1 :] if m["author"] == "client"]
        if waiting:
            kind, started = clocks.NEXT_RESPONSE, waiting[0]
    state.update(clock_kind=kind, clock_started_at=started, operator_replied=bool(answers))
    state.update(overdue=False, overdue_moved=False)
