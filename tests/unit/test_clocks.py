"""Response clocks on hand-built chats: DESIGN.md's "SLA, defined once", case by case.

Each story drives a real Chat aggregate with explicit times and feeds the events it records to
``ChatClocks``, passing the state through JSON between events as the read model stores it.
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from hypothesis import given
from hypothesis import strategies as st

from domain.chat import Chat
from domain.clocks import FIRST_RESPONSE, NEXT_RESPONSE, ChatClocks, ResponseFact, default_sl
from domain.group import Group

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BOT = "bot:webbot"
ANN, BOB = uuid4(), uuid4()


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@dataclass
class ServiceLevels:
    """A fake of the read models' service levels: the groups' SLs as their events set them."""

    levels: dict[UUID, tuple[int, int]] = field(default_factory=dict)

    def apply(self, event: Any) -> None:
        if isinstance(event, Group.GroupCreated | Group.GroupUpdated):
            self.levels[event.originator_id] = (
                event.sl_first_response_s,
                event.sl_next_response_s,
            )

    def __call__(self, group_id: UUID | None, kind: str) -> int:
        level = self.levels.get(group_id) if group_id is not None else None
        if level is None:
            return default_sl(kind)
        return level[0] if kind == FIRST_RESPONSE else level[1]


class Story:
    """A chat and its clocks; ``run()`` feeds the events recorded since the last run."""

    def __init__(self, group_id: UUID | None = None, levels: ServiceLevels | None = None):
        self.levels = levels or ServiceLevels()
        self.chat = Chat.request(
            chat_id=uuid4(),
            at=T0,
            actor=BOT,
            external_id="conversation-1",
            client={"id": "c1"},
            group_id=group_id,
            transcript=[{"author": "client", "text": "hi"}, {"author": "bot", "text": "hello"}],
        )
        self.clocks: ChatClocks | None = None
        self.facts: list[ResponseFact] = []
        self.run()

    def run(self) -> list[ResponseFact]:
        new: list[ResponseFact] = []
        for event in self.chat.collect_events():
            if isinstance(event, Chat.ChatRequested):
                self.clocks = ChatClocks.requested(event)
            else:
                new += self.clocks.apply(event, self.levels)
            # Between batches the read model keeps the clocks as JSON.
            self.clocks = ChatClocks.from_json(json.loads(json.dumps(self.clocks.to_json())))
        self.facts += new
        return new

    # -- what people do -------------------------------------------------------------------------

    def assign(self, seconds: float, operator_id: UUID = ANN, group_id: UUID | None = None):
        self.chat.assign(
            operator_id, group_id or self.chat.group_id, at=at(seconds), actor="system"
        )
        return self.run()

    def intercept(self, seconds: float, operator_id: UUID = ANN, greeting: bool = True):
        self.chat.intercept(operator_id, at=at(seconds), actor=f"operator:{operator_id}")
        if greeting:
            self.chat.post_system_message(uuid4(), "Hi, I am Ann", at=at(seconds), actor="system")
        return self.run()

    def operator(self, seconds: float, operator_id: UUID | None = None):
        who = operator_id or self.chat.operator_id
        self.chat.reply(
            uuid4(), who, "answer", supervisor=False, at=at(seconds), actor=f"operator:{who}"
        )
        return self.run()

    def client(self, seconds: float):
        self.chat.relay_client_message(uuid4(), "question", at=at(seconds), actor=BOT)
        return self.run()

    def bot(self, seconds: float):
        self.chat.post_bot_message(uuid4(), "let me see", at=at(seconds), actor=BOT)
        return self.run()

    def system(self, seconds: float):
        self.chat.post_system_message(uuid4(), "notice", at=at(seconds), actor="system")
        return self.run()

    def mute(self, seconds: float, minutes: int | None = None):
        self.chat.mute(
            operator_id=self.chat.operator_id,
            supervisor=False,
            minutes=minutes,
            at=at(seconds),
            actor="operator",
        )
        return self.run()

    def unmute(self, seconds: float):
        self.chat.unmute(
            operator_id=self.chat.operator_id, supervisor=False, at=at(seconds), actor="operator"
        )
        return self.run()

    def reassign(self, seconds: float, operator_id: UUID | None, group_id: UUID | None = None):
        self.chat.reassign(
            operator_id=operator_id,
            group_id=group_id or self.chat.group_id,
            at=at(seconds),
            actor="supervisor",
        )
        return self.run()

    def close(self, seconds: float):
        self.chat.close(
            operator_id=None, supervisor=True, reason=None, at=at(seconds), actor="supervisor"
        )
        return self.run()

    def active(self, seconds: float = 0, operator_id: UUID = ANN) -> Story:
        """Assigned and intercepted (with the greeting) at ``seconds``."""
        self.assign(seconds, operator_id)
        self.intercept(seconds, operator_id)
        return self


def group(levels: ServiceLevels, *, first: int = 60, next_: int = 120) -> Group:
    made = Group.create(
        group_id=uuid4(),
        at=T0,
        actor="admin",
        name="Sales",
        sl_first_response_s=first,
        sl_next_response_s=next_,
    )
    for event in made.collect_events():
        levels.apply(event)
    return made


def update_sl(levels: ServiceLevels, made: Group, seconds: float, **changes: int) -> None:
    made.update(at=at(seconds), actor="admin", **changes)
    for event in made.collect_events():
        levels.apply(event)


def only(facts: list[ResponseFact]) -> ResponseFact:
    assert len(facts) == 1, facts
    return facts[0]


# -- first response ---------------------------------------------------------------------------


def test_first_response_runs_from_the_request_and_counts_the_bots_time() -> None:
    levels = ServiceLevels()
    sales = group(levels, first=60)
    story = Story(sales.id, levels)
    assert story.bot(10) == []  # the bot still talking: the clock runs on
    assert story.client(15) == []  # the client writing before any operator starts nothing
    story.active(20)
    assert story.client(25) == []
    fact = only(story.operator(50))
    assert fact.kind == FIRST_RESPONSE
    assert (fact.started_at, fact.stopped_at, fact.duration_s) == (T0, at(50), 50.0)
    assert (fact.group_id, fact.operator_id, fact.chat_id) == (sales.id, ANN, story.chat.id)
    assert (fact.sl_s, fact.within_sl, fact.answered, fact.number) == (60, True, True, 1)


def test_the_greeting_and_system_messages_are_not_a_response() -> None:
    story = Story().active(5)  # intercept posts the greeting as a system message
    assert story.system(10) == []
    assert story.bot(12) == []
    assert story.facts == []
    fact = only(story.operator(90))
    assert (fact.kind, fact.duration_s) == (FIRST_RESPONSE, 90.0)
    assert fact.within_sl is False  # no group: the default first-response SL of 60 s


def test_an_operator_writing_again_stops_nothing() -> None:
    story = Story().active()
    story.operator(30)
    assert story.operator(40) == []
    assert story.operator(50) == []
    assert [f.kind for f in story.facts] == [FIRST_RESPONSE]


# -- next response ----------------------------------------------------------------------------


def test_a_client_message_after_an_operator_message_starts_the_next_response_clock() -> None:
    levels = ServiceLevels()
    sales = group(levels, next_=30)
    story = Story(sales.id, levels).active()
    story.operator(10)
    assert story.client(60) == []
    assert story.bot(65) == []  # bot lines in between change nothing
    fact = only(story.operator(85))
    assert fact.kind == NEXT_RESPONSE
    assert (fact.started_at, fact.stopped_at, fact.duration_s) == (at(60), at(85), 25.0)
    assert (fact.sl_s, fact.within_sl, fact.number) == (30, True, 2)


def test_a_second_client_message_does_not_restart_the_clock() -> None:
    story = Story().active()
    story.operator(10)
    story.client(20)
    story.client(50)
    story.client(70)
    fact = only(story.operator(100))
    assert (fact.started_at, fact.duration_s) == (at(20), 80.0)
    # The turn is closed: the next client message opens a new one.
    story.client(110)
    assert only(story.operator(111)).duration_s == 1.0


def test_a_muted_clients_messages_start_no_clock() -> None:
    story = Story().active()
    story.operator(10)
    story.mute(20)
    assert story.client(30) == []
    assert story.operator(40) == []  # nothing was running
    story.unmute(50)
    story.client(55)
    fact = only(story.operator(60))
    assert (fact.kind, fact.started_at, fact.duration_s) == (NEXT_RESPONSE, at(55), 5.0)


def test_a_timed_mute_ends_at_its_time_even_before_the_engine_lifts_it() -> None:
    story = Story().active()
    story.operator(10)
    story.mute(20, minutes=1)  # until 80 s
    story.client(79)
    assert story.operator(79.5) == []
    story.client(80)  # at `until` the client is no longer muted
    fact = only(story.operator(95))
    assert (fact.started_at, fact.duration_s) == (at(80), 15.0)


def test_a_mute_does_not_stop_the_first_response_clock() -> None:
    story = Story().active()
    story.mute(5)
    story.client(10)
    fact = only(story.operator(40))
    assert (fact.kind, fact.started_at, fact.duration_s) == (FIRST_RESPONSE, T0, 40.0)


# -- reassignment and service levels ----------------------------------------------------------


def test_reassignment_keeps_a_running_clock_running_and_the_new_groups_sl_applies() -> None:
    levels = ServiceLevels()
    sales = group(levels, next_=30)
    vip = group(levels, next_=300)
    story = Story(sales.id, levels).active()
    story.operator(10)
    story.client(20)
    assert story.reassign(40, BOB, vip.id) == []
    fact = only(story.operator(120))
    assert (fact.kind, fact.started_at, fact.duration_s) == (NEXT_RESPONSE, at(20), 100.0)
    assert (fact.operator_id, fact.group_id, fact.sl_s, fact.within_sl) == (
        BOB,
        vip.id,
        300,
        True,
    )


def test_back_to_the_queue_and_to_another_operator_the_first_response_clock_runs_on() -> None:
    levels = ServiceLevels()
    sales = group(levels, first=100)
    story = Story(sales.id, levels).active()
    story.chat.reassign(operator_id=None, group_id=sales.id, at=at(30), actor="supervisor")
    story.chat.queue(sales.id, at=at(30), actor="system")
    assert story.run() == []
    story.assign(60, BOB)
    fact = only(story.operator(90))
    assert (fact.kind, fact.duration_s, fact.operator_id) == (FIRST_RESPONSE, 90.0, BOB)
    assert fact.within_sl is True


def test_the_groups_sl_when_the_clock_stops_applies() -> None:
    levels = ServiceLevels()
    sales = group(levels, first=60, next_=60)
    story = Story(sales.id, levels).active()
    update_sl(levels, sales, 10, sl_first_response_s=20)  # tightened while the clock runs
    fact = only(story.operator(40))
    assert (fact.sl_s, fact.within_sl) == (20, False)

    story.client(50)
    update_sl(levels, sales, 60, sl_next_response_s=600)  # relaxed while the clock runs
    fact = only(story.operator(250))
    assert (fact.kind, fact.duration_s, fact.sl_s, fact.within_sl) == (
        NEXT_RESPONSE,
        200.0,
        600,
        True,
    )


def test_a_response_exactly_at_the_sl_is_within_it() -> None:
    levels = ServiceLevels()
    sales = group(levels, first=45)
    story = Story(sales.id, levels).active()
    assert only(story.operator(45)).within_sl is True


# -- closing ----------------------------------------------------------------------------------


def test_closing_with_a_clock_running_gives_an_unanswered_fact_only() -> None:
    story = Story().active()
    story.operator(10)
    story.client(20)
    fact = only(story.close(70))
    assert (fact.kind, fact.answered, fact.within_sl) == (NEXT_RESPONSE, False, False)
    assert (fact.started_at, fact.stopped_at, fact.operator_id) == (at(20), at(70), ANN)
    assert story.clocks.closed is True
    assert story.clocks.apply(object(), story.levels) == []


def test_closing_an_unanswered_chat_from_the_queue() -> None:
    story = Story()
    story.chat.queue(None, at=at(1), actor="system")
    story.run()
    fact = only(story.close(300))
    assert (fact.kind, fact.answered, fact.operator_id) == (FIRST_RESPONSE, False, None)


def test_closing_with_no_clock_running_gives_nothing() -> None:
    story = Story().active()
    story.operator(10)
    assert story.close(20) == []


# -- the percentile that the SQL computes -----------------------------------------------------


def percentile_cont(values: list[float], fraction: float) -> float | None:
    """PostgreSQL's ``percentile_cont``: linear interpolation between the nearest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    below, above = math.floor(position), math.ceil(position)
    low, high = ordered[below], ordered[above]
    return low + (high - low) * (position - below)


@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=2, max_size=200))
def test_the_reference_percentile_agrees_with_the_standard_library(values: list[float]) -> None:
    # statistics.quantiles(method="inclusive") interpolates the same way for the deciles.
    deciles = statistics.quantiles(values, n=10, method="inclusive")
    assert math.isclose(percentile_cont(values, 0.5), deciles[4], rel_tol=1e-9, abs_tol=1e-6)
    assert math.isclose(percentile_cont(values, 0.9), deciles[8], rel_tol=1e-9, abs_tol=1e-6)
    assert percentile_cont(values, 0.5) == percentile_cont(list(reversed(values)), 0.5)


def test_the_reference_percentile_on_known_values() -> None:
    assert percentile_cont([], 0.5) is None
    assert percentile_cont([7.0], 0.9) == 7.0
    assert percentile_cont([10.0, 20.0, 30.0, 40.0], 0.5) == 25.0
    assert percentile_cont([10.0, 20.0, 30.0, 40.0], 0.9) == 37.0
