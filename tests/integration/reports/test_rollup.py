"""The reports' roll-up on real PostgreSQL: random stories of chats, fed as domain events.

Each story (groups whose service levels change, chats queued, assigned, moved between groups,
muted, answered after 0.1 s to hours, closed, some while still queued, rated after the close)
goes through ``process_batch`` of a ``Reports`` read model of its own. The report, read from
the roll-up and the raw rows of partial hours, must equal a reference computed in Python from
the raw rows, for any time zone, period, bucket, group and operator (and operator within a
group); the roll-up itself must be the same whatever the batches, and equal to its raw rows
summed up.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.conninfo import conninfo_to_dict

from domain.chat import Chat
from domain.clocks import KINDS, ResponseFact
from domain.group import Group
from projections.reports import Reports
from projections.reports.rollup import (
    ALL_GROUPS,
    HISTOGRAM_FLOOR_S,
    RELATIVE_ERROR,
    ChatTally,
    ReportChat,
    ResponseTally,
    hour_of,
    scope_of,
)
from tests.integration.reports.story import chats, csat, queue, stats

T0 = datetime(2026, 3, 27, 21, 17, tzinfo=UTC)  # Berlin moves its clocks on the 29th
STORY_DAYS = 4
ZONES = ("UTC", "Europe/Berlin", "Asia/Kolkata", "Asia/Kathmandu")
ROLLUP = {
    "report_response_hours": "scope, hour, kind",
    "report_chat_hours": "scope, hour",
    "report_operator_response_hours": "scope, hour, kind",
    "report_operator_chat_hours": "scope, hour",
}
RAW = {
    "sla_facts": "chat_id, number",
    "report_chats": "id",
    "sla_chat_state": "chat_id",
}
SETTINGS = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# -- stories ------------------------------------------------------------------------------------


class Story:
    """Domain events of groups and chats over a few days, in the order a log would hold them."""

    def __init__(self, seed: int, chat_count: int) -> None:
        self.rng = random.Random(seed)
        self.groups = [self._uuid(), self._uuid()]
        self.operators = [self._uuid() for _ in range(4)]
        self.events: list[Any] = []
        for group_id in self.groups:
            group = Group.create(
                group_id=group_id,
                at=T0 - timedelta(days=1),
                actor="admin",
                name=f"group {group_id}",
                sl_first_response_s=self.rng.choice((20, 60, 300)),
                sl_next_response_s=self.rng.choice((30, 120, 600)),
            )
            for n in range(3):  # service levels change while clocks run
                group.update(
                    at=T0 + timedelta(days=n + self.rng.random()),
                    actor="admin",
                    sl_first_response_s=self.rng.choice((20, 60, 300)),
                    sl_next_response_s=self.rng.choice((30, 120, 600)),
                )
            self.events += group.collect_events()
        for n in range(chat_count):
            self.events += self._chat(n)
        self.events.sort(key=lambda event: event.timestamp)

    def _uuid(self) -> UUID:
        return UUID(int=self.rng.getrandbits(128), version=4)

    def _wait(self) -> timedelta:
        """From 0.1 s to about three hours, evenly on a log scale."""
        return timedelta(seconds=10 ** self.rng.uniform(-1, 4))

    def _chat(self, n: int) -> list[Any]:
        rng = self.rng
        t = T0 + timedelta(seconds=rng.uniform(0, STORY_DAYS * 86400))
        group_id = rng.choice([*self.groups, None])
        chat = Chat.request(
            chat_id=self._uuid(),
            at=t,
            actor="bot:webbot",
            external_id=f"ext-{n}",
            client={"id": f"client-{n}"},
            group_id=group_id,
        )
        if rng.random() < 0.4:
            t += self._wait()
            chat.queue(group_id, at=t, actor="system")
            if rng.random() < 0.2:  # closed while it waits
                t += self._wait()
                chat.close(operator_id=None, supervisor=True, reason="gone", at=t, actor="system")
                return self._rated(chat, t)
            if rng.random() < 0.1:  # still waiting
                return chat.collect_events()
            t += self._wait()
        operator = rng.choice(self.operators)
        chat.assign(operator, group_id, at=t, actor="system")
        t += self._wait()
        chat.intercept(operator, at=t, actor="operator")
        for _ in range(rng.randint(0, 4)):
            t += self._wait()
            step = rng.random()
            if step < 0.45:
                chat.reply(self._uuid(), operator, "answer", **self._as(t))
            elif step < 0.8:
                chat.relay_client_message(self._uuid(), "question", at=t, actor="bot:webbot")
            elif step < 0.88:
                minutes = rng.choice((None, 1, 30))
                chat.mute(operator_id=None, supervisor=True, minutes=minutes, **self._by(t))
            elif step < 0.92 and chat.muted:
                chat.unmute(operator_id=None, supervisor=True, **self._by(t))
            else:  # to another group: with an operator, or back to its queue first
                group_id = rng.choice([g for g in [*self.groups, None] if g != group_id])
                back_to_queue = rng.random() < 0.5
                operator = rng.choice([o for o in self.operators if o != chat.operator_id])
                chat.reassign(
                    operator_id=None if back_to_queue else operator,
                    group_id=group_id,
                    **self._by(t),
                )
                if back_to_queue:
                    chat.queue(group_id, at=t, actor="system")
                    t += self._wait()
                    chat.assign(operator, group_id, at=t, actor="system")
        if rng.random() < 0.15:
            return chat.collect_events()  # still open
        t += self._wait()
        chat.close(operator_id=None, supervisor=True, reason="done", **self._by(t))
        return self._rated(chat, t)

    def _rated(self, chat: Chat, closed_at: datetime) -> list[Any]:
        if self.rng.random() < 0.6:  # sometimes hours after the close
            at = closed_at + self._wait() * self.rng.choice((1, 10))
            chat.rate(self.rng.randint(1, 5), None, at=at, actor="bot:webbot")
        return chat.collect_events()

    @staticmethod
    def _by(t: datetime) -> dict[str, Any]:
        return {"at": t, "actor": "supervisor"}

    @staticmethod
    def _as(t: datetime) -> dict[str, Any]:
        return {"supervisor": True, "at": t, "actor": "supervisor"}


# -- read models of their own -------------------------------------------------------------------


@pytest.fixture
def models(database_url: str) -> Iterator[Any]:
    """``make(schema)``: an empty Reports read model in a schema of its own."""
    params = conninfo_to_dict(database_url)
    stores: list[PostgresDatastore] = []

    def make(schema: str) -> Reports:
        store = PostgresDatastore(
            dbname=params["dbname"],
            host=params.get("host", "127.0.0.1"),
            port=params.get("port", "5432"),
            user=params.get("user", "postgres"),
            password=params.get("password", ""),
            pool_size=1,
            schema=schema,
        )
        stores.append(store)
        with store.transaction(commit=True) as curs:
            curs.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            curs.execute(f"CREATE SCHEMA {schema}")
        model = Reports(store, application_name="switchboard")
        model.create_table()
        return model

    try:
        yield make
    finally:
        for store in stores:
            store.close()


def feed(model: Reports, events: list[Any], sizes: list[int]) -> None:
    """The events in batches of the given sizes (the last size repeats)."""
    position, sizes = 0, list(sizes)
    while position < len(events):
        size = sizes.pop(0) if len(sizes) > 1 else sizes[0]
        batch = events[position : position + size]
        model.process_batch(
            [(e, Tracking("switchboard", position + n + 1)) for n, e in enumerate(batch)]
        )
        position += len(batch)


def rows(model: Reports, table: str, order: str) -> list[dict[str, Any]]:
    with model.datastore.transaction() as curs:
        curs.execute(f"SELECT * FROM {model.table(table)} ORDER BY {order}")
        return curs.fetchall()


# -- the reference, from the raw rows ------------------------------------------------------------


def reference(
    model: Reports,
    start: datetime,
    end: datetime,
    group_id: UUID | None,
    operator_id: UUID | None = None,
) -> dict:
    """A report's sections for [start, end), computed in Python from the raw rows: a fact is
    its ``operator_id``'s (who answered; unanswered: who held the chat at its close), a chat
    is the operator's who held it last."""

    def counted(row: dict[str, Any], at: str) -> bool:
        in_group = group_id is None or row["group_id"] == group_id
        by_operator = operator_id is None or row["operator_id"] == operator_id
        return in_group and by_operator and row[at] is not None and start <= row[at] < end

    facts = [f for f in rows(model, "sla_facts", "chat_id") if counted(f, "stopped_at")]
    sections: dict[str, Any] = {}
    for kind in KINDS:
        answered = [f for f in facts if f["kind"] == kind and f["answered"]]
        sections[kind] = stats(
            [f["duration_s"] for f in answered],
            within=sum(f["within_sl"] for f in answered),
            unanswered=sum(1 for f in facts if f["kind"] == kind and not f["answered"]),
        )
    all_chats = rows(model, "report_chats", "id")
    requested = [c for c in all_chats if counted(c, "requested_at")]
    closed = [c for c in all_chats if counted(c, "closed_at")]
    sections["chats"] = chats(
        len(requested), len(closed), sum(1 for c in closed if not c["operator_replied"])
    )
    sections["csat"] = csat(*[c["rating"] for c in closed if c["rating"] is not None])
    sections["queue"] = queue(
        *[c["queue_wait_s"] for c in requested if c["queued"] and c["queued_since"] is None],
        waiting=sum(1 for c in requested if c["queued_since"] is not None),
    )
    return sections


def assert_equal_sections(got: dict, expected: dict, *, exact_percentiles: bool) -> None:
    """Equal, but for averages (sums of floats, to 1e-9) and, if estimated, percentiles."""
    for name, section in expected.items():
        for key, value in section.items():
            if key in ("avg_s", "avg_wait_s") and value is not None:
                assert got[name][key] == pytest.approx(value, rel=1e-9), (name, key)
            elif key in ("p50_s", "p90_s") and not exact_percentiles:
                continue
            else:
                assert got[name][key] == value, (name, key)


def scopes(group_id: UUID | None, operator_id: UUID | None) -> list[str]:
    """The roll-up's scopes of a fact or chat: its group, all groups, and its operator's."""
    group = scope_of(group_id)
    if operator_id is None:
        return [group, ALL_GROUPS]
    return [group, ALL_GROUPS, f"operator:{operator_id}", f"operator:{operator_id}:{group}"]


def periods(rng: random.Random) -> list[tuple[date | datetime, date | datetime]]:
    """The story's days as dates, and a period given as times with minutes."""
    first = T0 + timedelta(minutes=rng.randint(0, 36 * 60))
    last = first + timedelta(minutes=rng.randint(1, 4 * 24 * 60))
    return [(date(2026, 3, 27), date(2026, 3, 31)), (first, last)]


# -- the tests -----------------------------------------------------------------------------------


@SETTINGS
@given(seed=st.integers(0, 2**32), size=st.integers(1, 60), batch=st.integers(2, 400))
def test_the_rolled_up_report_equals_the_raw_rows(
    models: Any, seed: int, size: int, batch: int
) -> None:
    story = Story(seed, size)
    model = models("rollup_report")
    feed(model, story.events, [batch])
    rng = random.Random(seed)
    for tz in ZONES:
        for start, end in periods(rng):
            for group_id in (None, rng.choice(story.groups)):
                for bucket in ("day", "none"):
                    report = model.sla_report(start, end, group_id=group_id, bucket=bucket, tz=tz)
                    assert report["period"]["percentiles"] == "exact"
                    parts = [(report["period"]["from"], report["period"]["to"], report)]
                    parts += [(b["from"], b["to"], b) for b in report["buckets"]]
                    for part_start, part_end, got in parts:
                        expected = reference(model, part_start, part_end, group_id)
                        assert_equal_sections(got, expected, exact_percentiles=True)


@SETTINGS
@given(
    seed=st.integers(0, 2**32),
    size=st.integers(1, 60),
    batch=st.integers(2, 400),
    tz=st.sampled_from(ZONES),
    bucket=st.sampled_from(("day", "none")),
)
def test_the_rolled_up_report_by_operator_equals_the_raw_rows(
    models: Any, seed: int, size: int, batch: int, tz: str, bucket: str
) -> None:
    """By operator, and by operator within a group: the operator scopes of the roll-up."""
    story = Story(seed, size)
    model = models("rollup_operator")
    feed(model, story.events, [batch])
    rng = random.Random(seed)
    operator_id = rng.choice(story.operators)
    for start, end in periods(rng):
        for group_id in (None, *story.groups):
            report = model.sla_report(
                start, end, group_id=group_id, operator_id=operator_id, bucket=bucket, tz=tz
            )
            assert report["period"]["percentiles"] == "exact"
            parts = [(report["period"]["from"], report["period"]["to"], report)]
            parts += [(b["from"], b["to"], b) for b in report["buckets"]]
            for part_start, part_end, got in parts:
                expected = reference(model, part_start, part_end, group_id, operator_id)
                assert_equal_sections(got, expected, exact_percentiles=True)


@SETTINGS
@given(seed=st.integers(0, 2**32), by_operator=st.booleans())
def test_estimated_percentiles_are_within_the_histograms_error(
    models: Any, seed: int, by_operator: bool
) -> None:
    story = Story(seed, 80)
    model = models("rollup_estimates")
    feed(model, story.events, [500])
    model.EXACT_PERCENTILES_UP_TO = 0
    rng = random.Random(seed)
    operator_id = rng.choice(story.operators) if by_operator else None
    for tz in ("UTC", "Asia/Kathmandu"):
        for start, end in periods(rng):
            report = model.sla_report(start, end, operator_id=operator_id, bucket="day", tz=tz)
            answered = sum(report[kind]["count"] for kind in KINDS)
            assert report["period"]["percentiles"] == ("estimated" if answered else "exact")
            facts = [
                f
                for f in rows(model, "sla_facts", "chat_id")
                if operator_id is None or f["operator_id"] == operator_id
            ]
            parts = [(report["period"]["from"], report["period"]["to"], report)]
            parts += [(b["from"], b["to"], b) for b in report["buckets"]]
            for part_start, part_end, got in parts:
                expected = reference(model, part_start, part_end, None, operator_id)
                assert_equal_sections(got, expected, exact_percentiles=False)
                for kind in KINDS:
                    values = sorted(
                        f["duration_s"]
                        for f in facts
                        if f["kind"] == kind
                        and f["answered"]
                        and part_start <= f["stopped_at"] < part_end
                    )
                    for fraction, key in ((0.5, "p50_s"), (0.9, "p90_s")):
                        exact = expected[kind][key]
                        if exact is None:
                            assert got[kind][key] is None
                            continue
                        # Below the floor one bucket holds all: an error of up to the floor.
                        low = values[math.floor(fraction * (len(values) - 1))]
                        slack = HISTOGRAM_FLOOR_S if low < HISTOGRAM_FLOOR_S else 1e-9
                        assert abs(got[kind][key] - exact) <= RELATIVE_ERROR * exact + slack


@SETTINGS
@given(seed=st.integers(0, 2**32), size=st.integers(1, 40), batches=st.lists(st.integers(1, 50)))
def test_the_roll_up_is_the_same_whatever_the_batches(
    models: Any, seed: int, size: int, batches: list[int]
) -> None:
    story = Story(seed, size)
    one_by_one, in_batches = models("rollup_one"), models("rollup_many")
    feed(one_by_one, story.events, [1])
    feed(in_batches, story.events, [*batches, 10_000])
    for table, order in {**RAW, **ROLLUP}.items():
        assert rows(one_by_one, table, order) == rows(in_batches, table, order), table


@SETTINGS
@given(seed=st.integers(0, 2**32), size=st.integers(1, 40), batch=st.integers(1, 100))
def test_the_roll_up_is_its_raw_rows_summed_up(
    models: Any, seed: int, size: int, batch: int
) -> None:
    """Chats that moved between groups, went back to a queue or were rated after their close
    count where their rows say, and nowhere else."""
    story = Story(seed, size)
    model = models("rollup_sums")
    feed(model, story.events, [batch])

    expected_responses: dict[tuple, ResponseTally] = {}
    for row in rows(model, "sla_facts", "chat_id"):
        fact = ResponseFact(**{k: row[k] for k in ResponseFact.__dataclass_fields__ if k in row})
        for scope in scopes(fact.group_id, fact.operator_id):
            key = (scope, hour_of(fact.stopped_at), fact.kind)
            expected_responses.setdefault(key, ResponseTally()).add(fact)
    got_responses = {
        (r["scope"], r["hour"], r["kind"]): ResponseTally.from_row(r)
        for name in ("report_response_hours", "report_operator_response_hours")
        for r in rows(model, name, "scope")
    }
    assert got_responses == expected_responses
    # The operators' scopes are kept apart from the groups': in tables of their own.
    for name in ROLLUP:
        apart = {r["scope"].startswith("operator:") for r in rows(model, name, "scope")}
        assert apart <= {"operator" in name}, name

    expected_chats: dict[tuple, ChatTally] = {}
    for row in rows(model, "report_chats", "id"):
        chat = ReportChat(**row)
        chat_scopes, chat_hours = chat.counts()
        assert set(chat_scopes) == set(scopes(chat.group_id, chat.operator_id))
        for hour, tally in chat_hours.items():
            for scope in chat_scopes:
                expected_chats.setdefault((scope, hour), ChatTally()).merge(tally)
    got_chats = {
        (r.pop("scope"), r.pop("hour")): ChatTally(**r)
        for name in ("report_chat_hours", "report_operator_chat_hours")
        for r in rows(model, name, "scope")
    }
    assert got_chats == expected_chats
