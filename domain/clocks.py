"""Response clocks, as DESIGN.md defines them once ("SLA, defined once"): pure, no I/O.

A ``ChatClocks`` follows one chat's events in order and emits a ``ResponseFact`` each time a
clock stops:

- first response: from ``ChatRequested`` to the first message an operator writes. The bot's
  time counts (the clock starts at the request); bot and system messages (the greeting too)
  neither start nor stop a clock;
- next response: a client message after an operator message opens the client's turn and starts
  a clock; the next operator message stops it. More client messages while the turn is open do
  not restart it, and a muted client's messages start none (a timed mute ends at its time);
- a reassignment keeps a running clock running; the SL of the chat's group when the clock
  stops applies;
- closing the chat with a clock running gives an unanswered fact, kept apart from the stats.

The read model stores a chat's state between batches (``to_json``/``from_json``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from domain.chat import Chat, mute_in_effect
from domain.group import DEFAULT_SL_FIRST_RESPONSE_S, DEFAULT_SL_NEXT_RESPONSE_S, Group

FIRST_RESPONSE, NEXT_RESPONSE = "first_response", "next_response"
KINDS = (FIRST_RESPONSE, NEXT_RESPONSE)

# (group, kind) -> that group's service level in seconds, as it stands now.
ServiceLevel = Callable[[UUID | None, str], int]


@dataclass(frozen=True)
class ResponseFact:
    """One stopped clock. ``number`` (the chat's n-th clock, from 1) keys it across rebuilds."""

    kind: str
    chat_id: UUID
    number: int
    group_id: UUID | None  # the chat's group when the clock stopped
    operator_id: UUID | None  # who answered (unanswered: who held the chat at close)
    started_at: datetime
    stopped_at: datetime
    sl_s: int  # that group's service level when the clock stopped
    answered: bool = True

    @property
    def duration_s(self) -> float:
        return (self.stopped_at - self.started_at).total_seconds()

    @property
    def within_sl(self) -> bool:
        return self.answered and self.duration_s <= self.sl_s


def default_sl(kind: str) -> int:
    return DEFAULT_SL_FIRST_RESPONSE_S if kind == FIRST_RESPONSE else DEFAULT_SL_NEXT_RESPONSE_S


def group_sl(group: Group | None) -> ServiceLevel:
    """One chat's group's service levels as its aggregate has them now (the defaults when the
    chat has no group), for a command that asks whether the chat's clock ran past its SL."""

    def seconds(group_id: UUID | None, kind: str) -> int:
        if group is None:
            return default_sl(kind)
        return group.sl_first_response_s if kind == FIRST_RESPONSE else group.sl_next_response_s

    return seconds


@dataclass
class ChatClocks:
    """The response clocks of one chat."""

    chat_id: UUID
    group_id: UUID | None = None
    operator_id: UUID | None = None
    operator_replied: bool = False  # later clocks are next responses
    clock_kind: str | None = None  # the running clock, if any
    clock_started_at: datetime | None = None
    muted: bool = False
    muted_until: datetime | None = None
    stopped: int = 0  # clocks stopped so far: numbers the facts
    closed: bool = False

    @classmethod
    def requested(cls, event: Chat.ChatRequested) -> ChatClocks:
        """The first-response clock starts with the request: the bot's time counts."""
        return cls(
            chat_id=event.originator_id,
            group_id=event.requested_group_id,
            clock_kind=FIRST_RESPONSE,
            clock_started_at=event.timestamp,
        )

    def apply(self, event: Any, sl: ServiceLevel) -> list[ResponseFact]:
        """Take the chat's next event; returns the facts of the clocks it stopped."""
        if self.closed:
            return []
        match event:
            case Chat.Queued():
                self.group_id = event.group_id
            case Chat.MovedToHelp():
                self.group_id = None
            case Chat.Assigned():
                self.group_id, self.operator_id = event.group_id, event.operator_id
            case Chat.Reassigned():
                # The running clock keeps running; its SL is the group's when it stops.
                self.group_id, self.operator_id = event.group_id, event.operator_id
            case Chat.Intercepted():
                self.operator_id = event.operator_id
            case Chat.Muted():
                self.muted, self.muted_until = True, event.until
            case Chat.Unmuted():
                self.muted, self.muted_until = False, None
            case Chat.MessagePosted(author="operator"):
                answered_by = _operator(event.author_id) or self.operator_id
                self.operator_replied = True
                return self._stop(event.timestamp, answered_by, sl, answered=True)
            case Chat.MessagePosted(author="client"):
                # The client's turn opens after an operator's message, unless already open.
                opens = self.operator_replied and self.clock_kind is None
                if opens and not self.client_muted(event.timestamp):
                    self.clock_kind, self.clock_started_at = NEXT_RESPONSE, event.timestamp
            case Chat.Closed():
                self.closed = True
                return self._stop(event.timestamp, self.operator_id, sl, answered=False)
        return []

    def due_at(self, sl: ServiceLevel) -> datetime | None:
        """When the running clock runs past its group's service level (``None``: none runs)."""
        if self.clock_kind is None or self.clock_started_at is None:
            return None
        return self.clock_started_at + timedelta(seconds=sl(self.group_id, self.clock_kind))

    def client_muted(self, at: datetime) -> bool:
        return mute_in_effect(self.muted, self.muted_until, at)

    def _stop(
        self, at: datetime, operator_id: UUID | None, sl: ServiceLevel, *, answered: bool
    ) -> list[ResponseFact]:
        if self.clock_kind is None or self.clock_started_at is None:
            return []
        self.stopped += 1
        fact = ResponseFact(
            kind=self.clock_kind,
            chat_id=self.chat_id,
            number=self.stopped,
            group_id=self.group_id,
            operator_id=operator_id,
            started_at=self.clock_started_at,
            stopped_at=at,
            sl_s=sl(self.group_id, self.clock_kind),
            answered=answered,
        )
        self.clock_kind, self.clock_started_at = None, None
        return [fact]

    # -- stored between batches ---------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {key: _plain(value) for key, value in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChatClocks:
        values = dict(data)
        for key in ("chat_id", "group_id", "operator_id"):
            if values.get(key) is not None:
                values[key] = UUID(values[key])
        for key in ("clock_started_at", "muted_until"):
            if values.get(key) is not None:
                values[key] = datetime.fromisoformat(values[key])
        return cls(**values)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value


def _operator(author_id: str | None) -> UUID | None:
    """The operator behind a message; an id that is not one must not stop the read model."""
    try:
        return UUID(author_id) if author_id else None
    except ValueError:
        return None
