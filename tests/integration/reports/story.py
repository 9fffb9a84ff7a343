"""The reports' story for their integration tests: two days of chats, every number by hand.

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
from uuid import UUID

import pytest

from application.auth import Principal
from infrastructure.bootstrap import Services
from tests.clock import FakeClock
from tests.unit.test_clocks import percentile_cont

ADMIN = Principal("admin", "root")
BOT = Principal("bot", "webbot")
MONDAY, TUESDAY = date(2026, 3, 2), date(2026, 3, 3)
START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
EKB = "Asia/Yekaterinburg"


def settle(container: Services) -> None:
    """Every read model (and the dispatcher, whose assignments add events) at the head."""
    for _ in range(20):
        head = container.app.head() or 0
        for name in ("directory", "dashboard", "dispatcher", "reports"):
            assert container.wait_for(name, head, 10), f"{name} did not reach {head}"
        if (container.app.head() or 0) == head:
            return
    pytest.fail("the log kept growing")


def staff(container: Services, email: str, group_id: UUID) -> Principal:
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

    def __init__(self, container: Services, clock: FakeClock, day: date) -> None:
        self.container, self.clock, self.day = container, clock, day

    def __call__(self, hh: int, mm: int = 0, ss: float = 0) -> None:
        settle(self.container)
        when = datetime(self.day.year, self.day.month, self.day.day, hh, mm, tzinfo=UTC)
        self.clock.set(when + timedelta(seconds=ss))


def tell_story(container: Services, clock: FakeClock) -> dict[str, UUID]:
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
