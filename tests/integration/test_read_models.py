"""The dashboard and directory read models, on real PostgreSQL, after real commands.

Every test waits on the log position its last command returned, never on time.
"""

from __future__ import annotations

import base64
import time
from datetime import timedelta
from uuid import UUID

import pytest

from application.auth import Principal
from domain.client import client_id_of
from infrastructure.bootstrap import Services
from projections.dashboard import Viewer
from projections.machinery.keyset import BadCursor
from tests.clock import FakeClock

ADMIN = Principal("admin", "root")
BOT = Principal("bot", "webbot")
WAIT_S = 5


def seen(container: Services, position: int | None) -> None:
    """Both read models have caught up with ``position``."""
    assert position is not None
    assert container.wait_for("dashboard", position, WAIT_S) is True
    assert container.wait_for("directory", position, WAIT_S) is True


def settled(container: Services) -> None:
    """The read models and the dispatcher have seen the whole log (its moves too)."""
    for _ in range(20):
        head = container.app.head()
        for name in ("directory", "dashboard", "dispatcher"):
            assert container.wait_for(name, head, WAIT_S) is True, name
        if container.app.head() == head:
            return
    raise AssertionError("the log kept growing")


def group(container: Services, name: str, **options) -> UUID:
    return container.app.create_group(actor=ADMIN.actor, name=name, **options).value.id


def staff(
    container: Services,
    email: str,
    groups: list[UUID],
    *,
    role: str = "operator",
    max_chats: int | None = None,
    working: bool = True,
) -> Principal:
    app = container.app
    token = app.register_operator(
        actor=ADMIN.actor,
        first_name=email.split("@")[0].title(),
        last_name="Tester",
        email=email,
        role=role,
        group_ids=groups,
        max_chats=max_chats,
    ).value[1]
    principal = app.authenticate(token)
    assert principal is not None and principal.operator_id is not None
    if working:
        app.set_status(principal.operator_id, "working", caller=principal)
    return principal


def viewer(principal: Principal, container: Services | None = None) -> Viewer:
    """The caller as the dashboard sees them: an operator's groups from the directory."""
    groups = frozenset()
    if container is not None and principal.operator_id is not None:
        groups = frozenset(container.directory.groups_of(principal.operator_id))
    return Viewer(principal.operator_id, principal.supervises, groups)


def handoff(container: Services, external_id: str, group_id: UUID | None = None, **client):
    return container.app.handoff(
        bot=BOT,
        external_id=external_id,
        client=client or {"id": external_id, "channel": "web"},
        group_id=group_id,
    )


def ids(rows: list[dict]) -> list[UUID]:
    return [row["id"] for row in rows]


def tab(container: Services, name: str, who: Principal, **options) -> list[dict]:
    rows, next_cursor = container.dashboard.rows(
        name, viewer(who, container), limit=1000, **options
    )
    assert next_cursor is None
    return rows


# -- dashboard tabs ---------------------------------------------------------------------------


def test_tabs_show_an_operator_their_own_chats_and_their_groups_queue(
    container: Services, clock: FakeClock
) -> None:
    app = container.app
    auto = group(container, "Sales")
    manual = group(container, "Billing", routing="manual")
    alice = staff(container, "alice@example.com", [auto], max_chats=1)
    bob = staff(container, "bob@example.com", [manual], working=False)
    sue = staff(container, "sue@example.com", [], role="supervisor", working=False)

    closed = handoff(container, "c0", auto).value.id
    app.intercept(closed, caller=alice)
    app.reply(closed, "hello", caller=alice)
    app.close_chat(closed, caller=alice, reason="done")
    clock.advance(seconds=1)
    mine = handoff(container, "c1", auto).value.id  # alice has room for exactly one
    clock.advance(seconds=1)
    queued_sales = handoff(container, "c2", auto).value.id
    clock.advance(seconds=1)
    queued_billing = handoff(container, "c3", manual).value.id
    clock.advance(seconds=1)
    unrouted = handoff(container, "c4").value.id
    seen(container, app.head())

    assert app.get_chat(mine).operator_id == alice.operator_id
    assert {app.get_chat(c).status for c in (queued_sales, queued_billing, unrouted)} == {"queued"}

    # The unrouted chat waits in the help queue, which every operator sees.
    assert ids(tab(container, "mine", alice)) == [mine]
    assert ids(tab(container, "queue", alice)) == [queued_sales, unrouted]
    assert ids(tab(container, "closed", alice)) == [closed]
    assert set(ids(tab(container, "all", alice))) == {closed, mine, queued_sales, unrouted}

    assert ids(tab(container, "mine", bob)) == []
    assert ids(tab(container, "queue", bob)) == [queued_billing, unrouted]
    assert ids(tab(container, "closed", bob)) == []
    assert ids(tab(container, "all", bob)) == [unrouted, queued_billing]

    assert ids(tab(container, "mine", sue)) == []
    queue = tab(container, "queue", sue)
    assert ids(queue) == [queued_sales, queued_billing, unrouted]  # oldest first
    assert [row["group_id"] for row in queue] == [auto, manual, None]
    assert ids(tab(container, "closed", sue)) == [closed]
    assert ids(tab(container, "all", sue)) == [unrouted, queued_billing, queued_sales, mine, closed]

    row = {r["id"]: r for r in tab(container, "all", sue)}[mine]
    assert row["status"] == "assigned"
    assert (row["operator_id"], row["group_id"]) == (alice.operator_id, auto)


def test_a_supervisor_filters_tabs_by_operator_and_group(container: Services) -> None:
    sales = group(container, "Sales")
    support = group(container, "Support")
    alice = staff(container, "alice@example.com", [sales])
    sue = staff(container, "sue@example.com", [], role="supervisor", working=False)
    to_alice = handoff(container, "a", sales).value.id
    app = container.app
    app.set_status(alice.operator_id, "break", caller=alice)
    queued = handoff(container, "b", support).value.id
    seen(container, app.head())

    assert ids(tab(container, "all", sue, operator_id=alice.operator_id)) == [to_alice]
    assert ids(tab(container, "all", sue, group_id=support)) == [queued]
    assert ids(tab(container, "queue", sue, group_id=sales)) == []


# -- client labels ----------------------------------------------------------------------------


def test_client_label_is_the_phone_else_a_stable_number_per_client(container: Services) -> None:
    first = handoff(container, "e1", id="u1", channel="web").value.id
    again = handoff(container, "e2", id="u1", channel="web").value.id
    phone = handoff(container, "e3", id="u9", channel="web", phone="+15550100").value.id
    second = handoff(container, "e4", id="u2", channel="web").value.id
    third = handoff(container, "e5", id="u3", channel="web").value.id
    back = handoff(container, "e6", id="u2", channel="web").value.id
    seen(container, container.app.head())

    labels = {r["id"]: r["client_label"] for r in tab(container, "all", ADMIN)}
    assert labels == {
        first: "Client #1",
        again: "Client #1",
        phone: "+15550100",
        second: "Client #2",
        third: "Client #3",
        back: "Client #2",
    }


def test_client_label_follows_the_phone_edited_on_the_card(container: Services) -> None:
    app = container.app
    first = handoff(container, "p1", id="u5", channel="web")
    again = handoff(container, "p2", id="u5", channel="web", phone="+15550111")
    other = handoff(container, "p3", id="u6", channel="web", phone="+15550122")
    seen(container, app.head())
    card = client_id_of({"id": "u5", "channel": "web"})
    # Edited together with the next handoff of the same client, in one batch or two; the bot
    # sends no phone this time: the label is the card's.
    app.edit_client(card, {"phone": "+15550199"}, caller=ADMIN)
    later = handoff(container, "p4", id="u5", channel="web")
    seen(container, app.head())

    labels = {r["id"]: r["client_label"] for r in tab(container, "all", ADMIN)}
    assert labels[first.value.id] == labels[again.value.id] == "+15550199"
    assert labels[later.value.id] == "+15550199"
    assert labels[other.value.id] == "+15550122"

    app.edit_client(card, {"phone": None}, caller=ADMIN)
    seen(container, app.head())
    labels = {r["id"]: r["client_label"] for r in tab(container, "all", ADMIN)}
    assert labels[first.value.id] == labels[later.value.id] == "Client #1"
    assert labels[other.value.id] == "+15550122"


# -- timers -----------------------------------------------------------------------------------


def test_waiting_since_and_sl_due_follow_the_clients_turn(
    container: Services, clock: FakeClock
) -> None:
    app = container.app
    sales = group(container, "Sales", sl_first_response_s=30, sl_next_response_s=90)
    alice = staff(container, "alice@example.com", [sales])

    def row(chat_id: UUID, position: int | None) -> dict:
        seen(container, position)
        return {r["id"]: r for r in tab(container, "all", ADMIN)}[chat_id]

    requested_at = clock.now()
    done = handoff(container, "x", sales)
    chat = done.value.id
    first = row(chat, done.position)
    assert first["requested_at"] == requested_at
    assert first["waiting_since"] == requested_at
    assert first["sl_due_at"] == requested_at + timedelta(seconds=30)

    clock.advance(seconds=5)
    before_reply = row(chat, app.intercept(chat, caller=alice).position)
    assert before_reply["status"] == "active"
    assert before_reply["waiting_since"] == requested_at  # intercepting is not an answer

    clock.advance(seconds=5)
    answered = row(chat, app.reply(chat, "How can I help?", caller=alice).position)
    assert (answered["waiting_since"], answered["sl_due_at"]) == (None, None)
    assert (answered["last_message_author"], answered["last_message_text"]) == (
        "operator",
        "How can I help?",
    )

    clock.advance(seconds=20)
    asked_at = clock.now()
    asked = row(chat, app.relay_client_message(chat, "My order?", bot=BOT).position)
    assert asked["waiting_since"] == asked_at
    assert asked["sl_due_at"] == asked_at + timedelta(seconds=90)

    clock.advance(seconds=10)
    again = row(chat, app.relay_client_message(chat, "Hello??", bot=BOT).position)
    assert again["waiting_since"] == asked_at  # the turn that is open keeps its start
    assert again["sl_due_at"] == asked_at + timedelta(seconds=90)
    assert again["last_message_text"] == "Hello??"

    clock.advance(seconds=10)
    closed_at = clock.now()
    closed = row(chat, app.close_chat(chat, caller=alice, reason="solved").position)
    assert closed["status"] == "closed"
    assert closed["closed_at"] == closed_at
    assert (closed["waiting_since"], closed["sl_due_at"]) == (None, None)


def test_an_unrouted_chat_gets_the_default_first_response_sl(
    container: Services, clock: FakeClock
) -> None:
    requested_at = clock.now()
    done = handoff(container, "lonely")
    seen(container, done.position)
    [row] = tab(container, "queue", ADMIN)
    assert row["group_id"] is None
    assert row["waiting_since"] == requested_at
    assert row["sl_due_at"] == requested_at + timedelta(seconds=60)


# -- pagination -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["all", "queue", "closed"])
def test_keyset_pagination_walks_every_row_exactly_once(
    container: Services, clock: FakeClock, name: str
) -> None:
    app = container.app
    for n in range(7):
        if n % 3:  # some rows share a timestamp: the id breaks the tie
            clock.advance(seconds=1)
        chat = handoff(container, f"p{n}").value.id
        if n % 2:
            app.close_chat(chat, caller=ADMIN, reason=None)
    seen(container, app.head())
    everything = tab(container, name, ADMIN)
    assert len(everything) >= 3

    walked, cursor, pages = [], None, 0
    while True:
        rows, cursor = container.dashboard.rows(name, viewer(ADMIN), cursor=cursor, limit=2)
        walked.extend(ids(rows))
        pages += 1
        assert len(rows) <= 2
        if cursor is None:
            break
        assert pages < 20
    assert walked == ids(everything)
    assert len(set(walked)) == len(walked)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


BAD_CURSORS = [
    "not a cursor",
    "",
    "%%%%",
    _b64(b"[1, 2]"),
    _b64(b'"ab"'),
    _b64(b"{}"),
    _b64(b"[null, null, null]"),
    _b64(b'["2026-01-01T09:00:00+00:00", "not-a-uuid"]'),
    _b64(b'["yesterday", "00000000-0000-0000-0000-000000000000"]'),
    _b64(b"\xff\xfe"),
    _b64(b"[" * 5000),  # nested past the recursion limit
]


def test_a_bad_cursor_raises_bad_cursor(container: Services) -> None:
    for cursor in BAD_CURSORS:
        for name in ("all", "queue"):
            with pytest.raises(BadCursor):
                container.dashboard.rows(name, viewer(ADMIN), cursor=cursor)


# -- directory --------------------------------------------------------------------------------


def operators(container: Services, **filters) -> list[dict]:
    rows, next_cursor = container.directory.operators(limit=1000, **filters)
    assert next_cursor is None
    return rows


def test_directory_follows_status_groups_and_load(container: Services) -> None:
    app = container.app
    sales = group(container, "Sales")
    support = group(container, "Support")
    alice = staff(container, "alice@example.com", [sales], working=False)
    me = alice.operator_id

    def listed(position: int | None) -> dict:
        seen(container, position)
        [row] = [r for r in operators(container) if r["id"] == me]
        assert row["load"] == app.get_operator(me).load
        return row

    row = listed(app.head())
    assert (row["status"], row["group_ids"], row["load"]) == ("offline", [sales], 0)

    row = listed(app.set_status(me, "working", caller=alice).position)
    assert row["status"] == "working"

    first = handoff(container, "d1", sales)
    row = listed(first.position)
    assert row["load"] == 1
    assert row["last_assigned_at"] is not None
    second = handoff(container, "d2", sales)
    assert listed(second.position)["load"] == 2

    assert listed(app.close_chat(first.value.id, caller=alice, reason=None).position)["load"] == 1

    moved = app.update_operator(me, actor=ADMIN.actor, group_ids=[sales, support])
    assert listed(moved.position)["group_ids"] == [sales, support]
    assert ids(operators(container, group_id=support)) == [me]

    row = listed(app.set_status(me, "break", caller=alice).position)
    assert (row["status"], row["load"]) == ("break", 1)  # a break keeps the chats held
    assert listed(app.close_chat(second.value.id, caller=ADMIN, reason=None).position)["load"] == 0


def test_directory_hides_deleted_groups_and_unlinks_their_operators(container: Services) -> None:
    app = container.app
    sales = group(container, "Sales")
    gone = group(container, "Gone")
    alice = staff(container, "alice@example.com", [sales, gone])
    seen(container, app.head())
    assert [g["name"] for g in container.directory.groups()] == ["Gone", "Sales"]

    done = app.delete_group(gone, actor=ADMIN.actor)
    seen(container, done.position)
    assert [g["id"] for g in container.directory.groups()] == [sales]
    [row] = operators(container)
    assert row["id"] == alice.operator_id
    assert row["group_ids"] == [sales]


def test_wait_for_a_position_beyond_the_head_gives_up_after_the_timeout(
    container: Services,
) -> None:
    head = container.app.create_group(actor=ADMIN.actor, name="Sales").position
    seen(container, head)
    for name in ("dashboard", "directory"):
        started = time.monotonic()
        assert container.wait_for(name, head + 1_000, 0.3) is False
        assert time.monotonic() - started >= 0.3
    assert container.wait_for("dashboard", head, 0) is True


def test_read_model_connections_never_jit_compile(container: Services) -> None:
    """A page of full-text hits at a million chats spent ~180 ms in JIT for 1 ms of work."""
    with container.read_store.transaction() as curs:
        curs.execute("SHOW jit")
        assert curs.fetchone()["jit"] == "off"


# -- the dispatcher's queue -------------------------------------------------------------------


def test_waiting_lists_the_queued_chats_the_engine_may_assign_oldest_first(
    container: Services, clock: FakeClock
) -> None:
    app = container.app
    auto = group(container, "Sales")
    manual = group(container, "Billing", routing="manual")
    gone = group(container, "Old")
    chats = []
    for name, group_id in (("w1", auto), ("w2", manual), ("w3", None), ("w4", gone), ("w5", auto)):
        chats.append(handoff(container, name, group_id).value.id)
        clock.advance(seconds=1)
    in_auto, in_manual, unrouted, in_gone, later = chats
    seen(container, app.head())

    # Nobody works, so all five wait; the engine may not take a manual group's.
    assert {app.get_chat(c).status for c in chats} == {"queued"}
    assert container.dashboard.waiting(10) == [in_auto, unrouted, in_gone, later]
    assert container.dashboard.waiting(2) == [in_auto, unrouted]

    # A deleted group's chat is moved to the help queue (no group), and may go from there.
    app.delete_group(gone, actor=ADMIN.actor)
    settled(container)
    assert app.get_chat(in_gone).group_id is None
    assert container.dashboard.stranded(10) == []
    assert container.dashboard.waiting(10) == [in_auto, unrouted, in_gone, later]

    # A manual group switched to automatic routing: its queue may drain too.
    seen(container, app.update_group(manual, actor=ADMIN.actor, routing="auto").position)
    assert container.dashboard.waiting(10) == [in_auto, in_manual, unrouted, in_gone, later]
