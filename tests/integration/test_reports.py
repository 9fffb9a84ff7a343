"""The reports read model on real PostgreSQL: two days of chats, every number checked by hand.

Two groups (Sales: SL 60 s / 120 s; Support: 30 s / 60 s), two operators (Ann in Sales, Bob in
Support), seven chats from Monday 2 March 2026 08:00 UTC to Tuesday 14:04 UTC. The response
facts they give, in the order their clocks stop:

| chat | kind  | seconds | group   | operator | stopped (UTC)   | SL  | within |
| ---- | ----- | ------- | ------- | -------- | --------------- | --- | ------ |
| A    | first | 40      | Sales   | Ann      | Mon 08:00:40    | 60  | yes    |
| A    | next  | 150     | Sales   | Ann      | Mon 08:04:10    | 120 | no     |
| B    | first | 45      | Support | Bob      | Mon 10:00:45    | 30  | no     |
| B    | next  | 30      | Support | Bob      | Mon 10:01:30    | 60  | yes    |
| C    | first | 20      | Sales   | Ann      | Mon 20:30:20    | 60  | yes    |
| D    | first | 720     | Sales   | Ann      | Tue 12:12       | 60  | no     |
| F    | first | 60      | Sales   | Ann      | Tue 13:01       | 60  | yes    |
| F    | next  | 60      | Sales   | Ann      | Tue 13:09       | 120 | yes    |
| G    | first | 30      | Sales   | Ann      | Tue 14:00:30    | 60  | yes    |
| G    | next  | 180     | Support | Bob      | Tue 14:04       | 200 | yes    |

E (Support, held by Ann) closes unanswered on Tuesday. C is requested at 20:30 UTC on Monday,
which in Yekaterinburg (UTC+5) is already Tuesday.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.auth import Principal
from application.clock import FakeClock
from domain.clocks import FIRST_RESPONSE, NEXT_RESPONSE, ResponseFact
from infrastructure.bootstrap import Container
from projections.reports import BadPeriod, Reports
from tests.unit.test_clocks import percentile_cont

ADMIN = Principal("admin", "root")
BOT = Principal("bot", "webbot")
MONDAY, TUESDAY = date(2026, 3, 2), date(2026, 3, 3)
START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
EKB = "Asia/Yekaterinburg"


def settle(container: Container) -> None:
    """Every read model (and the dispatcher, whose assignments add events) at the head."""
    for _ in range(20):
        head = container.app.head() or 0
        for name in ("directory", "dashboard", "dispatcher", "reports"):
            assert container.wait_for(name, head, 10), f"{name} did not reach {head}"
        if (container.app.head() or 0) == head:
            return
    pytest.fail("the log kept growing")


def staff(container: Container, email: str, group_id: UUID) -> Principal:
    _, token = container.app.register_operator(
        actor=ADMIN.actor,
        first_name=email[:3].title(),
        last_name="T",
        email=email,
        group_ids=[group_id],
    ).value
    caller = container.app.authenticate(token)
    assert caller is not None
    return caller


class Day:
    """Moves the fake clock to times of a day, settling first so that nothing runs late."""

    def __init__(self, container: Container, clock: FakeClock, day: date) -> None:
        self.container, self.clock, self.day = container, clock, day

    def __call__(self, hh: int, mm: int = 0, ss: float = 0) -> None:
        settle(self.container)
        when = datetime(self.day.year, self.day.month, self.day.day, hh, mm, tzinfo=UTC)
        self.clock.set(when + timedelta(seconds=ss))


@pytest.fixture
def story(container: Container, clock: FakeClock):
    """The two days of the module docstring; returns the ids the tests filter on."""
    app = container.app
    clock.set(START)
    sales = app.create_group(
        actor=ADMIN.actor, name="Sales", sl_first_response_s=60, sl_next_response_s=120
    ).value.id
    support = app.create_group(
        actor=ADMIN.actor, name="Support", sl_first_response_s=30, sl_next_response_s=60
    ).value.id
    ann = staff(container, "ann@example.com", sales)
    bob = staff(container, "bob@example.com", support)
    app.set_status(ann.operator_id, "working", caller=ann)
    app.set_status(bob.operator_id, "working", caller=bob)

    def handoff(name: str, group_id: UUID) -> UUID:
        transcript = [{"author": "client", "text": "help"}, {"author": "bot", "text": "wait"}]
        return app.handoff(
            bot=BOT,
            external_id=name,
            client={"id": name},
            group_id=group_id,
            transcript=transcript,
        ).value.id

    def say(chat: UUID, who: Principal | None) -> None:
        if who is None:
            app.relay_client_message(chat, "question", bot=BOT)
        else:
            app.reply(chat, "answer", caller=who)

    monday = Day(container, clock, MONDAY)
    monday(8)
    a = handoff("A", sales)
    monday(8, 0, 10)
    app.intercept(a, caller=ann)  # the greeting is a system message: no response
    monday(8, 0, 40)
    say(a, ann)
    monday(8, 1, 40)
    say(a, None)
    monday(8, 1, 50)
    say(a, None)  # the turn is already open: the clock runs from 08:01:40
    monday(8, 4, 10)
    say(a, ann)
    monday(8, 5)
    app.close_chat(a, caller=ann, reason="done")
    app.rate(a, 5, None, bot=BOT)

    monday(10)
    b = handoff("B", support)
    monday(10, 0, 5)
    app.intercept(b, caller=bob)
    monday(10, 0, 45)
    say(b, bob)
    monday(10, 1)
    say(b, None)
    monday(10, 1, 30)
    say(b, bob)
    monday(10, 2)
    app.close_chat(b, caller=bob, reason="done")
    app.rate(b, 3, None, bot=BOT)

    monday(20, 30)
    c = handoff("C", sales)
    monday(20, 30, 5)
    app.intercept(c, caller=ann)
    monday(20, 30, 20)
    say(c, ann)
    monday(20, 35)
    app.close_chat(c, caller=ann, reason="done")

    tuesday = Day(container, clock, TUESDAY)
    tuesday(11)
    app.set_status(ann.operator_id, "break", caller=ann)
    app.set_status(bob.operator_id, "break", caller=bob)
    tuesday(12)
    d = handoff("D", sales)  # nobody working: it waits in the Sales queue
    assert app.get_chat(d).status == "queued"
    tuesday(12, 10)
    app.set_status(ann.operator_id, "working", caller=ann)  # the dispatcher gives her D
    tuesday(12, 11)
    assert app.get_chat(d).operator_id == ann.operator_id
    app.intercept(d, caller=ann)
    tuesday(12, 12)
    say(d, ann)
    tuesday(12, 20)
    app.close_chat(d, caller=ann, reason="done")
    app.rate(d, 4, None, bot=BOT)

    tuesday(12, 30)
    e = handoff("E", support)  # Bob is on a break: Ann, the one working, gets it
    assert app.get_chat(e).operator_id == ann.operator_id
    tuesday(12, 40)
    app.close_chat(e, caller=ann, reason="spam")  # nobody ever wrote: abandoned
    app.rate(e, 1, None, bot=BOT)

    tuesday(13)
    f = handoff("F", sales)
    tuesday(13, 0, 30)
    app.intercept(f, caller=ann)
    tuesday(13, 1)
    say(f, ann)  # 60 s: exactly the SL, within it
    tuesday(13, 2)
    app.mute(f, caller=ann, minutes=5)  # until 13:07
    tuesday(13, 3)
    say(f, None)  # muted: no clock
    tuesday(13, 8)
    say(f, None)  # the mute is over (not yet lifted by the scheduler): the clock starts
    tuesday(13, 9)
    say(f, ann)

    tuesday(13, 30)
    app.set_status(bob.operator_id, "working", caller=bob)
    tuesday(14)
    g = handoff("G", sales)
    assert app.get_chat(g).operator_id == ann.operator_id
    tuesday(14, 0, 10)
    app.intercept(g, caller=ann)
    tuesday(14, 0, 30)
    say(g, ann)
    tuesday(14, 1)
    say(g, None)
    tuesday(14, 2)
    app.reassign(g, caller=ADMIN, operator_id=bob.operator_id, group_id=support)
    tuesday(14, 3)
    app.update_group(support, actor=ADMIN.actor, sl_next_response_s=200)  # mid-clock
    tuesday(14, 4)
    say(g, bob)
    tuesday(15)
    settle(container)
    return {"sales": sales, "support": support, "ann": ann.operator_id, "bob": bob.operator_id}


def stats(values: list[float], within: int, unanswered: int = 0) -> dict:
    """A response section as the reference computes it."""
    return {
        "count": len(values),
        "within_sl": within,
        "pct_within_sl": 100.0 * within / len(values) if values else None,
        "avg_s": sum(values) / len(values) if values else None,
        "p50_s": percentile_cont(values, 0.5),
        "p90_s": percentile_cont(values, 0.9),
        "max_s": max(values) if values else None,
        "unanswered": unanswered,
    }


def csat(*scores: int) -> dict:
    return {
        "count": len(scores),
        "avg": sum(scores) / len(scores) if scores else None,
        "distribution": {str(s): scores.count(s) for s in range(1, 6)},
    }


def chats(requested: int, closed: int, abandoned: int) -> dict:
    return {"requested": requested, "closed": closed, "abandoned": abandoned}


def queue(*waits: float, waiting: int = 0) -> dict:
    return {
        "count": len(waits),
        "avg_wait_s": sum(waits) / len(waits) if waits else None,
        "max_wait_s": max(waits) if waits else None,
        "waiting": waiting,
    }


def sections(report: dict) -> dict:
    return {
        key: report[key] for key in ("first_response", "next_response", "csat", "chats", "queue")
    }


# -- the report, by day in UTC and in Yekaterinburg -------------------------------------------


def test_the_report_by_day_in_utc(container: Container, story) -> None:
    report = container.reports.sla_report(MONDAY, TUESDAY, bucket="day", tz="UTC")

    assert report["period"] == {
        "from": datetime(2026, 3, 2, tzinfo=UTC),
        "to": datetime(2026, 3, 4, tzinfo=UTC),
        "tz": "UTC",
        "bucket": "day",
        "percentiles": "exact",
    }
    assert sections(report) == {
        "first_response": stats([40, 45, 20, 720, 60, 30], within=4, unanswered=1),
        "next_response": stats([150, 30, 60, 180], within=3),
        "csat": csat(5, 3, 4, 1),
        "chats": chats(requested=7, closed=5, abandoned=1),
        "queue": queue(600),
    }
    # The same, worked out by hand.
    first = report["first_response"]
    assert (first["avg_s"], first["p50_s"], first["p90_s"], first["max_s"]) == (
        152.5,
        42.5,
        390.0,
        720.0,
    )
    assert first["pct_within_sl"] == pytest.approx(66.6667, abs=1e-4)
    assert report["next_response"]["p90_s"] == pytest.approx(171.0)
    assert report["csat"]["avg"] == 3.25

    monday, tuesday = report["buckets"]
    assert (monday["date"], monday["from"], monday["to"]) == (
        MONDAY,
        datetime(2026, 3, 2, tzinfo=UTC),
        datetime(2026, 3, 3, tzinfo=UTC),
    )
    assert sections(monday) == {
        "first_response": stats([40, 45, 20], within=2),
        "next_response": stats([150, 30], within=1),
        "csat": csat(5, 3),
        "chats": chats(requested=3, closed=3, abandoned=0),
        "queue": queue(),
    }
    assert monday["first_response"]["p90_s"] == pytest.approx(44.0)
    assert tuesday["date"] == TUESDAY
    assert sections(tuesday) == {
        "first_response": stats([720, 60, 30], within=2, unanswered=1),
        "next_response": stats([60, 180], within=2),
        "csat": csat(4, 1),
        "chats": chats(requested=4, closed=2, abandoned=1),
        "queue": queue(600),
    }
    assert tuesday["first_response"]["p90_s"] == pytest.approx(588.0)


def test_the_report_by_day_in_yekaterinburg(container: Container, story) -> None:
    """UTC+5: chat C, requested at 20:30 UTC on Monday, counts on Tuesday."""
    report = container.reports.sla_report(MONDAY, TUESDAY, bucket="day", tz=EKB)

    assert (report["period"]["from"], report["period"]["to"]) == (
        datetime(2026, 3, 1, 19, tzinfo=UTC),
        datetime(2026, 3, 3, 19, tzinfo=UTC),
    )
    # The whole period holds every chat, as in UTC.
    assert report["first_response"] == stats([40, 45, 20, 720, 60, 30], within=4, unanswered=1)
    assert report["chats"] == chats(requested=7, closed=5, abandoned=1)

    monday, tuesday = report["buckets"]
    assert (monday["date"], monday["from"], monday["to"]) == (
        MONDAY,
        datetime(2026, 3, 1, 19, tzinfo=UTC),
        datetime(2026, 3, 2, 19, tzinfo=UTC),
    )
    assert sections(monday) == {
        "first_response": stats([40, 45], within=1),
        "next_response": stats([150, 30], within=1),
        "csat": csat(5, 3),
        "chats": chats(requested=2, closed=2, abandoned=0),
        "queue": queue(),
    }
    assert sections(tuesday) == {
        "first_response": stats([20, 720, 60, 30], within=3, unanswered=1),
        "next_response": stats([60, 180], within=2),
        "csat": csat(4, 1),
        "chats": chats(requested=5, closed=3, abandoned=1),
        "queue": queue(600),
    }
    assert tuesday["first_response"]["p50_s"] == 45.0
    assert tuesday["first_response"]["p90_s"] == pytest.approx(522.0)


def test_times_clip_the_period_and_its_days(container: Container, story) -> None:
    """From Monday 10:00 to Tuesday 12:15 UTC: B, C and D's first response; a partial day each."""
    report = container.reports.sla_report(
        datetime(2026, 3, 2, 10, tzinfo=UTC), datetime(2026, 3, 3, 12, 15, tzinfo=UTC)
    )
    assert report["first_response"] == stats([45, 20, 720], within=1)
    assert report["next_response"] == stats([30], within=1)
    assert report["chats"] == chats(requested=3, closed=2, abandoned=0)  # B, C, D; B and C
    assert [(b["from"], b["to"]) for b in report["buckets"]] == [
        (datetime(2026, 3, 2, 10, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC)),
        (datetime(2026, 3, 3, tzinfo=UTC), datetime(2026, 3, 3, 12, 15, tzinfo=UTC)),
    ]


def test_bucket_none_gives_the_totals_only(container: Container, story) -> None:
    report = container.reports.sla_report(MONDAY, TUESDAY, bucket="none")
    assert report["buckets"] == []
    assert report["period"]["bucket"] == "none"
    assert report["next_response"] == stats([150, 30, 60, 180], within=3)


def test_empty_days_are_in_the_buckets_with_empty_sections(container: Container, story) -> None:
    report = container.reports.sla_report(date(2026, 2, 27), date(2026, 3, 1))
    assert [b["date"] for b in report["buckets"]] == [
        date(2026, 2, 27),
        date(2026, 2, 28),
        date(2026, 3, 1),
    ]
    for part in (report, *report["buckets"]):
        assert sections(part) == {
            "first_response": stats([], within=0),
            "next_response": stats([], within=0),
            "csat": csat(),
            "chats": chats(0, 0, 0),
            "queue": queue(),
        }


def test_days_follow_daylight_saving_time(container: Container) -> None:
    """Berlin moves its clocks forward on 29 March 2026: that day has 23 hours."""
    report = container.reports.sla_report(date(2026, 3, 28), date(2026, 3, 30), tz="europe/berlin")
    assert report["period"]["tz"] == "Europe/Berlin"
    assert [(b["date"], b["from"], b["to"] - b["from"]) for b in report["buckets"]] == [
        (date(2026, 3, 28), datetime(2026, 3, 27, 23, tzinfo=UTC), timedelta(hours=24)),
        (date(2026, 3, 29), datetime(2026, 3, 28, 23, tzinfo=UTC), timedelta(hours=23)),
        (date(2026, 3, 30), datetime(2026, 3, 29, 22, tzinfo=UTC), timedelta(hours=24)),
    ]


# -- by group and by operator -----------------------------------------------------------------


def test_by_group(container: Container, story) -> None:
    sales = container.reports.sla_report(MONDAY, TUESDAY, group_id=story["sales"])
    assert sales["first_response"] == stats([40, 20, 720, 60, 30], within=4)
    assert sales["next_response"] == stats([150, 60], within=1)
    # Chats count in the group they were in last: G moved to Support.
    assert sales["chats"] == chats(requested=4, closed=3, abandoned=0)  # A, C, D, F
    assert sales["csat"] == csat(5, 4)
    assert sales["queue"] == queue(600)

    support = container.reports.sla_report(MONDAY, TUESDAY, group_id=story["support"])
    assert support["first_response"] == stats([45], within=0, unanswered=1)
    assert support["next_response"] == stats([30, 180], within=2)  # G's SL became 200 s
    assert support["chats"] == chats(requested=3, closed=2, abandoned=1)  # B, E, G
    assert support["csat"] == csat(3, 1)


def test_by_operator(container: Container, story) -> None:
    bob = container.reports.sla_report(MONDAY, TUESDAY, operator_id=story["bob"])
    assert bob["first_response"] == stats([45], within=0)
    assert bob["next_response"] == stats([30, 180], within=2)
    assert bob["chats"] == chats(requested=2, closed=1, abandoned=0)  # B, G (held last)
    assert bob["csat"] == csat(3)

    ann = container.reports.sla_report(MONDAY, TUESDAY, operator_id=story["ann"], tz=EKB)
    assert ann["first_response"] == stats([40, 20, 720, 60, 30], within=4, unanswered=1)
    assert ann["next_response"] == stats([150, 60], within=1)
    assert [b["first_response"]["count"] for b in ann["buckets"]] == [1, 4]

    both = container.reports.sla_report(
        MONDAY, TUESDAY, operator_id=story["ann"], group_id=story["support"]
    )
    assert both["first_response"] == stats([], within=0, unanswered=1)  # E


def test_unknown_ids_give_empty_reports(container: Container, story) -> None:
    report = container.reports.sla_report(MONDAY, TUESDAY, group_id=uuid4(), operator_id=uuid4())
    assert report["first_response"]["count"] == 0
    assert report["chats"] == chats(0, 0, 0)


def test_bad_periods(container: Container, story) -> None:
    reports = container.reports
    with pytest.raises(BadPeriod, match="after"):
        reports.sla_report(TUESDAY, MONDAY)
    with pytest.raises(BadPeriod, match="time zone"):
        reports.sla_report(MONDAY, TUESDAY, tz="Mars/Olympus_Mons")
    with pytest.raises(BadPeriod, match="time zone"):
        reports.sla_report(MONDAY, TUESDAY, tz="UTC+3")
    with pytest.raises(BadPeriod, match="offset"):
        reports.sla_report(datetime(2026, 3, 2), TUESDAY)
    with pytest.raises(BadPeriod, match="at most"):
        reports.sla_report(date(2020, 1, 1), date(2026, 1, 1), bucket="day")
    with pytest.raises(BadPeriod, match="1970"):
        reports.sla_report(date(1, 1, 1), TUESDAY, bucket="none")
    with pytest.raises(BadPeriod, match="bucket"):
        reports.sla_report(MONDAY, TUESDAY, bucket="week")
    # A long period is fine without day buckets.
    report = reports.sla_report(date(2020, 1, 1), date(2030, 1, 1), bucket="none")
    assert report["chats"]["requested"] == 7


# -- operator activity ------------------------------------------------------------------------


def test_operator_activity_per_day(container: Container, clock: FakeClock, story) -> None:
    now = clock.now()  # Tuesday 15:00 UTC: both still working
    activity = container.reports.operator_activity(MONDAY, TUESDAY, now=now)
    by_operator = {entry["operator_id"]: entry for entry in activity["operators"]}
    hours = 3600

    ann = by_operator[story["ann"]]
    assert [(d["date"], d["seconds"]) for d in ann["days"]] == [
        (MONDAY, seconds(working=17 * hours)),  # working from 07:00
        (TUESDAY, seconds(working=11 * hours + 170 * 60, **{"break": 70 * 60})),
    ]
    assert ann["seconds"] == seconds(working=28 * hours + 170 * 60, **{"break": 70 * 60})
    bob = by_operator[story["bob"]]
    assert [(d["date"], d["seconds"]) for d in bob["days"]] == [
        (MONDAY, seconds(working=17 * hours)),
        (TUESDAY, seconds(working=12.5 * hours, **{"break": 2.5 * hours})),
    ]

    ekb = container.reports.operator_activity(
        MONDAY, TUESDAY, now=now, operator_id=story["ann"], tz=EKB
    )
    (ann,) = ekb["operators"]
    assert [(d["date"], d["seconds"]) for d in ann["days"]] == [
        (MONDAY, seconds(working=12 * hours)),  # 07:00 to 19:00 UTC
        (TUESDAY, seconds(working=16 * hours + 170 * 60, **{"break": 70 * 60})),
    ]

    # Later, the open intervals count up to the new now.
    later = container.reports.operator_activity(
        TUESDAY, TUESDAY, now=now + timedelta(hours=1), operator_id=story["bob"]
    )
    assert later["operators"][0]["seconds"]["working"] == 13.5 * hours


def seconds(**spent: float) -> dict[str, float]:
    return {
        status: float(spent.get(status, 0))
        for status in ("working", "break", "leaving", "absent", "offline")
    }


# -- rebuilt from the log ---------------------------------------------------------------------


def test_a_rebuild_one_event_at_a_time_gives_the_same_rows(container: Container, story) -> None:
    """Batches may end anywhere (and the process stop there): the running clocks are rows."""
    params = container.database.params
    replay_store = PostgresDatastore(
        dbname=params.get("dbname", "postgres"),
        host=params.get("host", "127.0.0.1"),
        port=params.get("port", "5432"),
        user=params.get("user", "postgres"),
        password=params.get("password", ""),
        pool_size=1,
        schema="reports_replay",
    )
    try:
        with replay_store.transaction(commit=True) as curs:
            curs.execute("CREATE SCHEMA reports_replay")
        replay = Reports(replay_store, application_name=container.reports.application_name)
        replay.create_table()
        app = container.app
        for notification in app.recorder.select_notifications(start=1, limit=10_000):
            event = app.mapper.to_domain_event(notification)
            replay.process_batch([(event, Tracking(app.name, notification.id))])
        for table, order in (
            ("sla_facts", "chat_id, number"),
            ("report_chats", "id"),
            ("operator_activity", "operator_id, number"),
            ("sla_chat_state", "chat_id"),
            ("report_response_hours", "scope, hour, kind"),
            ("report_chat_hours", "scope, hour"),
        ):
            assert rows(replay, table, order) == rows(container.reports, table, order), table
        assert rows(replay, "sla_facts", "chat_id") != []
    finally:
        replay_store.close()


def rows(model: Reports, table: str, order: str) -> list[dict]:
    with model.datastore.transaction() as curs:
        curs.execute(f"SELECT * FROM {model.table(table)} ORDER BY {order}")
        return curs.fetchall()


# -- the SQL's percentiles against the reference ----------------------------------------------


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    durations=st.lists(st.integers(0, 10**10), min_size=0, max_size=60),
    sl_s=st.integers(1, 3_000),
)
def test_sql_aggregates_equal_the_reference(
    container: Container, durations: list[int], sl_s: int
) -> None:
    """Facts recorded by the read model (a group of their own each time) are summed up by the
    report exactly as the reference computes them."""
    group_id = uuid4()
    start = datetime(2026, 5, 1, tzinfo=UTC)
    facts = [
        ResponseFact(
            kind=FIRST_RESPONSE if n % 3 else NEXT_RESPONSE,
            chat_id=uuid4(),
            number=1,
            group_id=group_id,
            operator_id=None,
            started_at=start + timedelta(minutes=n),
            stopped_at=start + timedelta(minutes=n, microseconds=micros),
            sl_s=sl_s,
        )
        for n, micros in enumerate(durations)
    ]
    # Recorded as the read model records them (its rows and its roll-up), in one batch.
    recorder = Reports(container.reports.datastore, container.reports.application_name)
    with recorder.datastore.transaction(commit=True) as curs:
        recorder.begin_batch()
        for fact in facts:
            recorder.record(fact)
        recorder.end_batch(curs)
    report = container.reports.sla_report(
        date(2026, 4, 1), date(2026, 12, 31), group_id=group_id, bucket="none"
    )
    for kind in (FIRST_RESPONSE, NEXT_RESPONSE):
        values = [f.duration_s for f in facts if f.kind == kind]
        expected = stats(values, within=sum(f.within_sl for f in facts if f.kind == kind))
        got = report[kind]
        assert got["p50_s"] == expected["p50_s"]
        assert got["p90_s"] == expected["p90_s"]
        # Sums of floats depend on the order of the terms: the mean to the last bits only.
        assert got["avg_s"] == (None if not values else pytest.approx(expected["avg_s"], rel=1e-12))
        assert {k: v for k, v in got.items() if k != "avg_s"} == {
            k: v for k, v in expected.items() if k != "avg_s"
        }
