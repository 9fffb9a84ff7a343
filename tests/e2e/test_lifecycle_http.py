"""A chat's life over HTTP: mute, reassign, topics, close, rating, greeting, company settings,
message edits and the audit trail, each rule with its status and problem+json ``code``.

The settings are company-wide and the server is shared by the module: every test that changes
them puts them back (``changed_settings``), and after each test the open chats are closed and the
working operators sent offline, so no test's routing meets another's operators or queues.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import ServerProcess, Setup, position

PROBLEM_FIELDS = {"type", "title", "status", "detail", "code"}
DEFAULT_GREETING = "Hello! My name is {first_name}. How can I help you?"
SETTINGS_FIELDS = {
    "greeting_template",
    "require_topic_to_close",
    "rating_prompt",
    "rating_prompt_text",
    "operators_may_reassign",
    "inactivity_close_minutes",
    "absent_after_minutes",
    "forbid_message_edits",
}
# Bounded wait for the queue dispatcher, which has no min_position of its own.
DISPATCHER_WAIT_S = 10.0
# Handoffs racing a member's turn to working, in test_a_handoff_right_after_a_member_...
ROUTING_ROUNDS = 40
# Server and tests share one machine clock; this much slack covers the request's own time.
CLOCK_SLACK = timedelta(seconds=2)


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body.keys() >= PROBLEM_FIELDS, body
    assert body["status"] == status
    assert body["code"] == code, body
    assert body["detail"]
    return body


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, f"{response.request.url}: {response.text}"
    return response.json()


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# -- helpers --------------------------------------------------------------------------------------


def named_token(setup: Setup, role: str) -> tuple[str, httpx.Client]:
    """A token of ``role`` with a known name (events name their actor ``role:name``)."""
    name = f"{role}-{uuid.uuid4().hex[:12]}"
    response = setup.admin.post("/v1/tokens", json={"role": role, "name": name})
    assert response.status_code == 201, response.text
    position(response)
    return name, setup.make_client(response.json()["token"])


def hand_off(bot: httpx.Client, group: dict[str, Any] | None, **fields: Any) -> httpx.Response:
    body = {
        "external_id": f"ext-{uuid.uuid4()}",
        "client": {"id": f"client-{uuid.uuid4().hex[:8]}", "name": "Ann"},
        **fields,
    }
    if group is not None:
        body["group_id"] = group["id"]
    response = bot.post("/v1/chats", json=body)
    assert response.status_code == 201, response.text
    position(response)
    return response


def operator_load(setup: Setup, operator_id: str) -> int:
    """The operator's load as its aggregate has it (the write model, no waiting)."""
    return ok(setup.admin.get(f"/v1/operators/{operator_id}"))["load"]


def directory_loads(setup: Setup, group_id: str, min_position: int) -> dict[str, int]:
    """Operators' loads as the directory read model has them once it reached ``min_position``."""
    listed = ok(
        setup.admin.get(
            "/v1/operators", params={"group_id": group_id, "min_position": min_position}
        )
    )
    return {row["id"]: row["load"] for row in listed["items"]}


def dashboard_ids(client: httpx.Client, tab: str, min_position: int) -> list[str]:
    page = ok(client.get("/v1/dashboard", params={"tab": tab, "min_position": min_position}))
    return [row["id"] for row in page["items"]]


def events_of(reader: httpx.Client, chat_id: str) -> list[dict[str, Any]]:
    return ok(reader.get(f"/v1/chats/{chat_id}/events"))["items"]


def messages_of(client: httpx.Client, chat_id: str) -> list[dict[str, Any]]:
    return ok(client.get(f"/v1/chats/{chat_id}/messages"))["items"]


@contextmanager
def changed_settings(admin: httpx.Client, **changes: Any) -> Iterator[httpx.Response]:
    """PUT ``changes`` to the company settings; put every setting back as it was on exit."""
    before = ok(admin.get("/v1/settings"))
    try:
        response = admin.put("/v1/settings", json=changes)
        assert response.status_code == 200, response.text
        yield response
    finally:
        restored = admin.put("/v1/settings", json=before)
        assert restored.status_code == 200, restored.text
        assert restored.json() == before


def routing_sees_everything(setup: Setup) -> None:
    """Wait until the directory, which routing reads, has caught up with the whole log."""
    head = ok(setup.admin.get("/readyz"))["position"]
    ok(setup.admin.get("/v1/operators", params={"limit": 1, "min_position": head}))


def wait_for_dispatcher(client: httpx.Client, reached: int) -> None:
    """Until the queue dispatcher has handled every event up to ``reached`` (via /readyz)."""
    deadline = time.monotonic() + DISPATCHER_WAIT_S
    while True:
        ready = client.get("/readyz").json()
        if ready["position"] - ready["lag"]["dispatcher"] >= reached:
            return
        assert time.monotonic() < deadline, f"dispatcher did not reach {reached}: {ready}"
        time.sleep(0.05)


@pytest.fixture(autouse=True)
def tidy(setup: Setup) -> Iterator[None]:
    """After each test: no open chat (no queue to drain) and nobody working (nobody to route to),
    so the next test's routing sees only its own operators."""
    yield
    head = ok(setup.admin.get("/readyz"))["position"]
    cursor = None
    while True:
        params = {"tab": "all", "limit": 500, "min_position": head}
        page = ok(
            setup.admin.get(
                "/v1/dashboard", params={**params, "cursor": cursor} if cursor else params
            )
        )
        for row in page["items"]:
            if row["status"] != "closed":
                closed = setup.admin.post(f"/v1/chats/{row['id']}/close")
                assert closed.status_code in (200, 409), closed.text
        cursor = page["next_cursor"]
        if cursor is None:
            break
    head = ok(setup.admin.get("/readyz"))["position"]
    working = ok(
        setup.admin.get(
            "/v1/operators", params={"status": "working", "limit": 500, "min_position": head}
        )
    )
    for row in working["items"]:
        off = setup.admin.put(f"/v1/operators/{row['id']}/status", json={"status": "offline"})
        assert off.status_code == 200, off.text


@pytest.fixture
def held(setup: Setup) -> dict[str, Any]:
    """A chat intercepted by the only working operator of a fresh group."""
    group = setup.group()
    operator, op = setup.operator(group["id"], first_name="Zoë", last_name="Quist")
    bot_name, bot = named_token(setup, "bot")
    chat = hand_off(bot, group).json()
    assert chat["operator_id"] == operator["id"]
    intercepted = op.post(f"/v1/chats/{chat['id']}/intercept")
    assert intercepted.status_code == 200, intercepted.text
    assert intercepted.json()["status"] == "active"
    return {
        "chat": intercepted.json(),
        "id": chat["id"],
        "group": group,
        "operator": operator,
        "op": op,
        "bot": bot,
        "bot_name": bot_name,
    }


# -- mute -----------------------------------------------------------------------------------------


def test_mute_until_unmuted_and_for_some_minutes(setup: Setup, held: dict[str, Any]) -> None:
    chat_id, op = held["id"], held["op"]

    muted = op.post(f"/v1/chats/{chat_id}/mute")
    body = ok(muted)
    assert body["muted"] is True
    assert body["muted_until"] is None
    assert ok(op.get(f"/v1/chats/{chat_id}"))["muted"] is True
    [row] = [
        r
        for r in ok(
            op.get("/v1/dashboard", params={"tab": "mine", "min_position": position(muted)})
        )["items"]
        if r["id"] == chat_id
    ]
    assert row["muted"] is True

    unmuted = op.post(f"/v1/chats/{chat_id}/unmute")
    body = ok(unmuted)
    assert body["muted"] is False
    assert body["muted_until"] is None
    assert position(unmuted) > position(muted)

    before = datetime.now(UTC)
    timed = op.post(f"/v1/chats/{chat_id}/mute", json={"minutes": 30})
    after = datetime.now(UTC)
    body = ok(timed)
    position(timed)
    assert body["muted"] is True
    until = _at(body["muted_until"])
    assert before + timedelta(minutes=30) - CLOCK_SLACK <= until
    assert until <= after + timedelta(minutes=30) + CLOCK_SLACK

    # The longest mute is a week.
    week = op.post(f"/v1/chats/{chat_id}/mute", json={"minutes": 7 * 24 * 60})
    assert ok(week)["muted"] is True
    assert ok(op.post(f"/v1/chats/{chat_id}/unmute"))["muted"] is False


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"minutes": 0}, id="zero"),
        pytest.param({"minutes": 7 * 24 * 60 + 1}, id="over-a-week"),
        pytest.param({"minutes": -5}, id="negative"),
        pytest.param({"minutes": "x"}, id="not-a-number"),
        pytest.param({"minutes": 1.5}, id="fraction"),
        pytest.param({"minutes": 5, "colour": "red"}, id="unknown-field"),
    ],
)
def test_a_bad_mute_is_a_validation_error(held: dict[str, Any], body: dict[str, Any]) -> None:
    response = held["op"].post(f"/v1/chats/{held['id']}/mute", json=body)
    assert_problem(response, 422, "validation")
    assert ok(held["op"].get(f"/v1/chats/{held['id']}"))["muted"] is False


def test_only_the_chats_operator_or_a_supervisor_mutes(setup: Setup, held: dict[str, Any]) -> None:
    chat_id = held["id"]
    _, other = setup.operator(held["group"]["id"], working=False)
    assert_problem(other.post(f"/v1/chats/{chat_id}/mute"), 403, "not_assigned")
    assert_problem(
        other.post(f"/v1/chats/{chat_id}/mute", json={"minutes": 5}), 403, "not_assigned"
    )
    assert_problem(other.post(f"/v1/chats/{chat_id}/unmute"), 403, "not_assigned")
    assert ok(setup.admin.get(f"/v1/chats/{chat_id}"))["muted"] is False

    supervisor = setup.token("supervisor")
    assert ok(supervisor.post(f"/v1/chats/{chat_id}/mute", json={"minutes": 10}))["muted"] is True
    assert ok(supervisor.post(f"/v1/chats/{chat_id}/unmute"))["muted"] is False

    _, lead = setup.operator(working=False, role="supervisor")
    assert ok(lead.post(f"/v1/chats/{chat_id}/mute"))["muted"] is True
    # The chat's own operator lifts a supervisor's mute.
    assert ok(held["op"].post(f"/v1/chats/{chat_id}/unmute"))["muted"] is False

    # A bot is no staff: 403 by role.
    assert_problem(held["bot"].post(f"/v1/chats/{chat_id}/mute"), 403, "forbidden")


# -- reassign -------------------------------------------------------------------------------------


def test_a_supervisor_reassigns_to_a_working_operator_and_both_loads_follow(
    setup: Setup, held: dict[str, Any]
) -> None:
    chat_id, first = held["id"], held["operator"]
    other_group = setup.group()
    second, second_op = setup.operator(other_group["id"])
    assert operator_load(setup, first["id"]) == 1
    assert operator_load(setup, second["id"]) == 0
    _, supervisor = named_token(setup, "supervisor")

    moved = supervisor.post(f"/v1/chats/{chat_id}/reassign", json={"operator_id": second["id"]})
    chat = ok(moved)
    at = position(moved)
    assert chat["operator_id"] == second["id"]
    # It had been talking to a human: it stays active with its new operator, in its group.
    assert chat["status"] == "active"
    assert chat["group_id"] == held["group"]["id"]
    assert ok(supervisor.get(f"/v1/chats/{chat_id}"))["operator_id"] == second["id"]

    assert operator_load(setup, first["id"]) == 0
    assert operator_load(setup, second["id"]) == 1
    assert directory_loads(setup, held["group"]["id"], at) == {first["id"]: 0}
    assert directory_loads(setup, other_group["id"], at) == {second["id"]: 1}
    assert chat_id in dashboard_ids(second_op, "mine", at)
    assert chat_id not in dashboard_ids(held["op"], "mine", at)

    # The new operator continues the conversation at once; the old one is out of it.
    replied = second_op.post(f"/v1/chats/{chat_id}/messages", json={"text": "I take it from here"})
    assert replied.status_code == 201, replied.text
    assert_problem(
        held["op"].post(f"/v1/chats/{chat_id}/messages", json={"text": "me?"}), 403, "not_assigned"
    )


def test_a_chat_not_yet_intercepted_stays_assigned_when_reassigned(setup: Setup) -> None:
    group = setup.group()
    first, _ = setup.operator(group["id"])
    chat = hand_off(setup.bot(), group).json()
    assert chat["status"] == "assigned"
    second, second_op = setup.operator()

    moved = ok(
        setup.admin.post(f"/v1/chats/{chat['id']}/reassign", json={"operator_id": second["id"]})
    )
    assert moved["status"] == "assigned"
    assert moved["operator_id"] == second["id"]
    assert operator_load(setup, first["id"]) == 0
    # The new operator takes it over from the bot as usual.
    assert ok(second_op.post(f"/v1/chats/{chat['id']}/intercept"))["status"] == "active"


def test_reassigned_to_a_group_the_chat_goes_to_someone_other_than_its_holder(
    setup: Setup,
) -> None:
    group = setup.group()
    bot = setup.bot()
    busy, _ = setup.operator(group["id"])
    for _ in range(2):
        assert hand_off(bot, group).json()["operator_id"] == busy["id"]
    # The holder is the least loaded of the group: routing alone would pick them again.
    holder, holder_op = setup.operator(group["id"])
    routing_sees_everything(setup)
    chat = hand_off(bot, group).json()
    assert chat["operator_id"] == holder["id"]
    assert ok(holder_op.post(f"/v1/chats/{chat['id']}/intercept"))["status"] == "active"

    moved = setup.admin.post(f"/v1/chats/{chat['id']}/reassign", json={"group_id": group["id"]})
    body = ok(moved)
    at = position(moved)
    assert body["operator_id"] == busy["id"]
    assert body["group_id"] == group["id"]
    assert body["status"] == "active"
    assert operator_load(setup, holder["id"]) == 0
    assert operator_load(setup, busy["id"]) == 3
    assert directory_loads(setup, group["id"], at) == {busy["id"]: 3, holder["id"]: 0}

    # To another group: one of its operators gets it.
    elsewhere = setup.group()
    member, _ = setup.operator(elsewhere["id"])
    routing_sees_everything(setup)
    moved = setup.admin.post(f"/v1/chats/{chat['id']}/reassign", json={"group_id": elsewhere["id"]})
    body = ok(moved)
    assert body["operator_id"] == member["id"]
    assert body["group_id"] == elsewhere["id"]
    assert operator_load(setup, busy["id"]) == 2
    assert operator_load(setup, member["id"]) == 1
    types = [e["type"] for e in events_of(setup.admin, chat["id"])]
    assert types[-4:] == ["Reassigned", "Assigned", "Reassigned", "Assigned"]


def test_a_handoff_right_after_a_member_turns_working_goes_to_that_member(setup: Setup) -> None:
    """README: the group's working operators with room come first; others only when none can.

    Routing reads the directory read model and catches it up only when it finds nobody at all,
    so a member who has just turned working is passed over for a working operator of another
    group. A race: each round below loses it now and then, so the test tries a few.
    """
    elsewhere = setup.group()
    outsider, _ = setup.operator(elsewhere["id"])
    bot = setup.bot()
    misrouted = []
    for _ in range(ROUTING_ROUNDS):
        group = setup.group()
        member, _ = setup.operator(group["id"])  # answered 200 "working" before the handoff
        chat = hand_off(bot, group).json()
        if chat["operator_id"] != member["id"]:
            misrouted.append(chat["operator_id"])
    assert misrouted == [], (
        f"{len(misrouted)} of {ROUTING_ROUNDS} handoffs skipped the group's working member "
        f"(went to {set(misrouted)}; the outsider is {outsider['id']})"
    )


def test_reassigned_to_a_group_with_nobody_else_the_chat_waits_and_does_not_come_back(
    setup: Setup, held: dict[str, Any]
) -> None:
    """README: routing picks someone other than the operator it came from, or queues it."""
    chat_id, holder = held["id"], held["operator"]

    moved = setup.admin.post(
        f"/v1/chats/{chat_id}/reassign", json={"group_id": held["group"]["id"]}
    )
    body = ok(moved)
    at = position(moved)
    assert body["status"] == "queued"
    assert body["operator_id"] is None
    assert operator_load(setup, holder["id"]) == 0
    assert chat_id in dashboard_ids(setup.admin, "queue", at)

    # The holder's freed place must not pull the chat straight back to them.
    wait_for_dispatcher(setup.admin, at)
    now = ok(setup.admin.get(f"/v1/chats/{chat_id}"))
    assert now["operator_id"] != holder["id"], (
        f"the dispatcher gave the chat back to the operator it was taken from: {now}"
    )


def test_a_reassign_the_target_or_body_forbids_is_refused(
    setup: Setup, held: dict[str, Any]
) -> None:
    chat_id, holder = held["id"], held["operator"]
    supervisor = setup.token("supervisor")
    offline, _ = setup.operator(working=False)
    full_group = setup.group()
    full, _ = setup.operator(full_group["id"], max_chats=1)
    routing_sees_everything(setup)
    assert hand_off(setup.bot(), full_group).json()["operator_id"] == full["id"]

    def reassign(body: Any) -> httpx.Response:
        return supervisor.post(f"/v1/chats/{chat_id}/reassign", json=body)

    assert_problem(reassign({"operator_id": offline["id"]}), 409, "not_working")
    assert_problem(reassign({"operator_id": full["id"]}), 409, "no_capacity")
    assert_problem(reassign({"operator_id": str(uuid.uuid4())}), 422, "unknown_reference")
    assert_problem(reassign({"group_id": str(uuid.uuid4())}), 422, "unknown_reference")
    assert_problem(reassign({}), 422, "validation")
    assert_problem(reassign({"operator_id": None, "group_id": None}), 422, "validation")
    assert_problem(reassign({"operator_id": "not-a-uuid"}), 422, "validation")
    assert_problem(reassign({"operator_id": offline["id"], "why": "x"}), 422, "validation")
    assert_problem(
        supervisor.post(f"/v1/chats/{uuid.uuid4()}/reassign", json={"operator_id": full["id"]}),
        404,
        "not_found",
    )

    # Nothing moved.
    chat = ok(supervisor.get(f"/v1/chats/{chat_id}"))
    assert chat["operator_id"] == holder["id"]
    assert chat["status"] == "active"
    assert operator_load(setup, holder["id"]) == 1
    assert operator_load(setup, offline["id"]) == 0
    assert operator_load(setup, full["id"]) == 1
    assert "Reassigned" not in [e["type"] for e in events_of(setup.admin, chat_id)]


def test_operators_reassign_their_own_chats_only_when_the_company_allows(
    setup: Setup, held: dict[str, Any]
) -> None:
    chat_id, op = held["id"], held["op"]
    colleague, colleague_op = setup.operator(held["group"]["id"])

    assert ok(setup.admin.get("/v1/settings"))["operators_may_reassign"] is False
    refused = op.post(f"/v1/chats/{chat_id}/reassign", json={"operator_id": colleague["id"]})
    assert_problem(refused, 403, "reassign_forbidden")
    assert_problem(
        op.post(f"/v1/chats/{chat_id}/reassign", json={"group_id": held["group"]["id"]}),
        403,
        "reassign_forbidden",
    )

    with changed_settings(setup.admin, operators_may_reassign=True) as changed:
        assert changed.json()["operators_may_reassign"] is True
        # Not someone else's chat, though.
        assert_problem(
            colleague_op.post(
                f"/v1/chats/{chat_id}/reassign", json={"operator_id": colleague["id"]}
            ),
            403,
            "not_assigned",
        )
        moved = op.post(f"/v1/chats/{chat_id}/reassign", json={"operator_id": colleague["id"]})
        body = ok(moved)
        position(moved)
        assert body["operator_id"] == colleague["id"]
        assert operator_load(setup, held["operator"]["id"]) == 0
        assert operator_load(setup, colleague["id"]) == 1
        # Now it is no longer the first operator's to move.
        assert_problem(
            op.post(f"/v1/chats/{chat_id}/reassign", json={"operator_id": held["operator"]["id"]}),
            403,
            "not_assigned",
        )
    assert ok(setup.admin.get("/v1/settings"))["operators_may_reassign"] is False


# -- topic and subtopic ---------------------------------------------------------------------------


def test_the_operator_changes_topic_and_subtopic_partially(setup: Setup) -> None:
    group = setup.group()
    _, op = setup.operator(group["id"])
    chat = hand_off(setup.bot(), group, topic="billing", subtopic="refund").json()
    chat_id = chat["id"]

    only_subtopic = op.patch(f"/v1/chats/{chat_id}", json={"subtopic": "invoice"})
    body = ok(only_subtopic)
    assert (body["topic"], body["subtopic"]) == ("billing", "invoice")
    [row] = [
        r
        for r in ok(
            op.get("/v1/dashboard", params={"tab": "mine", "min_position": position(only_subtopic)})
        )["items"]
        if r["id"] == chat_id
    ]
    assert (row["topic"], row["subtopic"]) == ("billing", "invoice")

    body = ok(op.patch(f"/v1/chats/{chat_id}", json={"topic": "delivery"}))
    assert (body["topic"], body["subtopic"]) == ("delivery", "invoice")
    body = ok(op.patch(f"/v1/chats/{chat_id}", json={"subtopic": None}))
    assert (body["topic"], body["subtopic"]) == ("delivery", None)
    body = ok(op.patch(f"/v1/chats/{chat_id}", json={"topic": None, "subtopic": "late"}))
    assert (body["topic"], body["subtopic"]) == (None, "late")
    # An empty patch changes nothing and still answers with a position.
    nothing = op.patch(f"/v1/chats/{chat_id}", json={})
    assert (ok(nothing)["topic"], nothing.json()["subtopic"]) == (None, "late")
    position(nothing)
    assert ok(op.get(f"/v1/chats/{chat_id}"))["subtopic"] == "late"

    body = ok(op.patch(f"/v1/chats/{chat_id}", json={"topic": "t" * 200}))
    assert body["topic"] == "t" * 200
    changes = [e["data"] for e in events_of(setup.admin, chat_id) if e["type"] == "TopicChanged"]
    assert [(c["topic"], c["subtopic"]) for c in changes] == [
        ("billing", "invoice"),
        ("delivery", "invoice"),
        ("delivery", None),
        (None, "late"),
        ("t" * 200, "late"),
    ]


def test_a_topic_change_by_anyone_else_or_out_of_shape_is_refused(
    setup: Setup, held: dict[str, Any]
) -> None:
    chat_id = held["id"]
    _, other = setup.operator(held["group"]["id"], working=False)
    assert_problem(other.patch(f"/v1/chats/{chat_id}", json={"topic": "x"}), 403, "not_assigned")
    for body in (
        {"topic": "t" * 201},
        {"subtopic": "s" * 201},
        {"topic": ""},
        {"topic": "   "},
        {"topic": 5},
        {"topic": "a\x00b"},
        {"colour": "red"},
    ):
        assert_problem(held["op"].patch(f"/v1/chats/{chat_id}", json=body), 422, "validation")
    assert ok(held["op"].get(f"/v1/chats/{chat_id}"))["topic"] is None

    supervisor = setup.token("supervisor")
    assert ok(supervisor.patch(f"/v1/chats/{chat_id}", json={"topic": "escalated"}))["topic"] == (
        "escalated"
    )


# -- close and rating -----------------------------------------------------------------------------


def test_a_close_may_need_a_topic_and_a_closed_chat_refuses_all_but_one_rating(
    setup: Setup, held: dict[str, Any]
) -> None:
    chat_id, op, bot = held["id"], held["op"], held["bot"]
    reply = ok(op.post(f"/v1/chats/{chat_id}/messages", json={"text": "done?"}), 201)
    assert_problem(bot.post(f"/v1/chats/{chat_id}/rating", json={"score": 5}), 409, "chat_open")

    with changed_settings(setup.admin, require_topic_to_close=True) as changed:
        assert changed.json()["require_topic_to_close"] is True
        assert_problem(op.post(f"/v1/chats/{chat_id}/close"), 409, "topic_required")
        assert_problem(setup.admin.post(f"/v1/chats/{chat_id}/close"), 409, "topic_required")
        assert ok(op.get(f"/v1/chats/{chat_id}"))["status"] == "active"
        assert ok(op.patch(f"/v1/chats/{chat_id}", json={"topic": "billing"}))["topic"] == "billing"
        closed = op.post(f"/v1/chats/{chat_id}/close", json={"reason": "resolved"})
        body = ok(closed)
        at = position(closed)
        assert body["status"] == "closed"
        assert body["closed_at"] is not None
    assert operator_load(setup, held["operator"]["id"]) == 0
    assert chat_id in dashboard_ids(op, "closed", at)

    # The bot learns the chat is back with it.
    feed = ok(bot.get(f"/v1/chats/{chat_id}/messages"))
    assert feed["chat_status"] == "closed"

    supervisor = setup.token("supervisor")
    other, _ = setup.operator(working=True)
    refusals = [
        op.post(f"/v1/chats/{chat_id}/messages", json={"text": "one more thing"}),
        bot.post(f"/v1/chats/{chat_id}/messages", json={"text": "hello?"}),
        bot.post(f"/v1/chats/{chat_id}/messages", json={"text": "bot here", "author": "bot"}),
        op.post(f"/v1/chats/{chat_id}/mute"),
        op.post(f"/v1/chats/{chat_id}/unmute"),
        supervisor.post(f"/v1/chats/{chat_id}/mute", json={"minutes": 5}),
        supervisor.post(f"/v1/chats/{chat_id}/reassign", json={"operator_id": other["id"]}),
        supervisor.post(f"/v1/chats/{chat_id}/reassign", json={"group_id": held["group"]["id"]}),
        op.patch(f"/v1/chats/{chat_id}", json={"topic": "other"}),
        op.patch(f"/v1/chats/{chat_id}/messages/{reply['message_id']}", json={"text": "x"}),
        op.delete(f"/v1/chats/{chat_id}/messages/{reply['message_id']}"),
        op.post(f"/v1/chats/{chat_id}/close"),
        op.post(f"/v1/chats/{chat_id}/intercept"),
    ]
    for response in refusals:
        assert_problem(response, 409, "chat_closed")
    assert operator_load(setup, other["id"]) == 0

    for score in (0, 6, "five"):
        assert_problem(
            bot.post(f"/v1/chats/{chat_id}/rating", json={"score": score}), 422, "validation"
        )
    assert_problem(
        setup.bot().post(f"/v1/chats/{chat_id}/rating", json={"score": 5}), 403, "forbidden"
    )
    rated = bot.post(f"/v1/chats/{chat_id}/rating", json={"score": 4, "comment": "fine"})
    assert ok(rated)["rating"] == 4
    position(rated)
    assert_problem(bot.post(f"/v1/chats/{chat_id}/rating", json={"score": 5}), 409, "already_rated")
    assert ok(bot.get(f"/v1/chats/{chat_id}"))["rating"] == 4

    # The client's next handoff is a new chat.
    again = bot.post(
        "/v1/chats",
        json={"external_id": held["chat"]["external_id"], "client": held["chat"]["client"]},
    )
    assert again.status_code == 201, again.text
    assert again.json()["id"] != chat_id
    assert again.json()["status"] in ("queued", "assigned")


# -- greeting and rating prompt -------------------------------------------------------------------


def _intercepted_messages(setup: Setup, first_name: str = "Zoë") -> list[dict[str, Any]]:
    group = setup.group()
    _, op = setup.operator(group["id"], first_name=first_name, last_name="Quist")
    bot = setup.bot()
    chat = hand_off(bot, group, transcript=[{"author": "client", "text": "help"}]).json()
    assert ok(op.post(f"/v1/chats/{chat['id']}/intercept"))["status"] == "active"
    return messages_of(bot, chat["id"])


def test_the_default_greeting_names_the_operator(setup: Setup) -> None:
    assert ok(setup.admin.get("/v1/settings"))["greeting_template"] == DEFAULT_GREETING
    messages = _intercepted_messages(setup)
    assert [m["author"] for m in messages] == ["client", "system"]
    assert "Zoë" in messages[-1]["text"]
    assert messages[-1]["text"] == DEFAULT_GREETING.format(first_name="Zoë")


def test_the_greeting_follows_the_company_template(setup: Setup) -> None:
    with changed_settings(
        setup.admin, greeting_template="Hi, I am {first_name} {last_name}"
    ) as changed:
        assert changed.json()["greeting_template"] == "Hi, I am {first_name} {last_name}"
        messages = _intercepted_messages(setup, first_name="Ivo")
    assert messages[-1]["author"] == "system"
    assert messages[-1]["text"] == "Hi, I am Ivo Quist"


def test_an_empty_greeting_sends_none(setup: Setup) -> None:
    with changed_settings(setup.admin, greeting_template=""):
        messages = _intercepted_messages(setup)
    assert [m["author"] for m in messages] == ["client"]


@pytest.mark.parametrize(
    "template",
    [
        "Hi {unknown}",
        "Hi {first_name} {email}",
        "{}",
        "{0}",
        "Hi {first_name!r}",
        "{first_name:>9}",
        "oops }",
        "{first_name.__class__}",
    ],
)
def test_a_greeting_with_other_fields_is_refused(setup: Setup, template: str) -> None:
    before = ok(setup.admin.get("/v1/settings"))
    try:
        assert_problem(
            setup.admin.put("/v1/settings", json={"greeting_template": template}),
            422,
            "validation",
        )
    finally:
        after = ok(setup.admin.get("/v1/settings"))
        if after != before:
            setup.admin.put("/v1/settings", json=before)
    assert after == before


def test_the_rating_prompt_is_posted_before_the_close(setup: Setup, held: dict[str, Any]) -> None:
    chat_id = held["id"]
    with changed_settings(
        setup.admin, rating_prompt=True, rating_prompt_text="How did we do? 1 to 5, please."
    ):
        closed = ok(held["op"].post(f"/v1/chats/{chat_id}/close"))
    assert closed["status"] == "closed"
    feed = ok(held["bot"].get(f"/v1/chats/{chat_id}/messages"))
    assert feed["chat_status"] == "closed"
    assert (feed["items"][-1]["author"], feed["items"][-1]["text"]) == (
        "system",
        "How did we do? 1 to 5, please.",
    )
    events = events_of(setup.admin, chat_id)
    assert [e["type"] for e in events[-2:]] == ["MessagePosted", "Closed"]
    assert events[-2]["data"]["text"] == "How did we do? 1 to 5, please."


def test_a_close_refused_for_want_of_a_topic_posts_no_rating_prompt(
    setup: Setup, held: dict[str, Any]
) -> None:
    chat_id, op = held["id"], held["op"]
    with changed_settings(setup.admin, rating_prompt=True, require_topic_to_close=True):
        assert_problem(op.post(f"/v1/chats/{chat_id}/close"), 409, "topic_required")
        assert [m["author"] for m in messages_of(held["bot"], chat_id)] == ["system"]
        ok(op.patch(f"/v1/chats/{chat_id}", json={"topic": "billing"}))
        ok(op.post(f"/v1/chats/{chat_id}/close"))
        prompt = ok(setup.admin.get("/v1/settings"))["rating_prompt_text"]
    texts = [m["text"] for m in messages_of(held["bot"], chat_id)]
    assert texts.count(prompt) == 1
    assert texts[-1] == prompt


def test_without_the_rating_prompt_the_close_posts_nothing(
    setup: Setup, held: dict[str, Any]
) -> None:
    assert ok(setup.admin.get("/v1/settings"))["rating_prompt"] is False
    ok(held["op"].post(f"/v1/chats/{held['id']}/close"))
    assert [m["author"] for m in messages_of(held["bot"], held["id"])] == ["system"]


# -- company settings -----------------------------------------------------------------------------


def test_staff_read_the_settings_and_bots_do_not(setup: Setup) -> None:
    _, op = setup.operator(working=False)
    _, lead = setup.operator(working=False, role="supervisor")
    answers = [
        ok(client.get("/v1/settings"))
        for client in (setup.admin, setup.token("supervisor"), lead, op)
    ]
    assert answers[0].keys() == SETTINGS_FIELDS
    assert all(answer == answers[0] for answer in answers)
    assert_problem(setup.bot().get("/v1/settings"), 403, "forbidden")
    assert_problem(setup.make_client().get("/v1/settings"), 401, "unauthorized")


def test_only_an_admin_changes_the_settings(setup: Setup) -> None:
    before = ok(setup.admin.get("/v1/settings"))
    _, op = setup.operator(working=False)
    _, lead = setup.operator(working=False, role="supervisor")
    for client in (setup.token("supervisor"), lead, op, setup.bot()):
        assert_problem(
            client.put("/v1/settings", json={"require_topic_to_close": True}), 403, "forbidden"
        )
    assert ok(setup.admin.get("/v1/settings")) == before


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"colour": "red"}, id="unknown-field"),
        pytest.param({"greeting_template": None}, id="null-greeting"),
        pytest.param({"require_topic_to_close": None}, id="null-flag"),
        pytest.param({"rating_prompt_text": None}, id="null-prompt"),
        pytest.param({"inactivity_close_minutes": 0}, id="zero-minutes"),
        pytest.param({"inactivity_close_minutes": 7 * 24 * 60 + 1}, id="too-many-minutes"),
        pytest.param({"absent_after_minutes": -1}, id="negative-minutes"),
        pytest.param({"greeting_template": "x" * 1001}, id="long-greeting"),
        pytest.param({"forbid_message_edits": "maybe"}, id="not-a-flag"),
        pytest.param([], id="not-an-object"),
    ],
)
def test_an_invalid_settings_change_is_a_validation_error(setup: Setup, body: Any) -> None:
    before = ok(setup.admin.get("/v1/settings"))
    try:
        assert_problem(setup.admin.put("/v1/settings", json=body), 422, "validation")
    finally:
        after = ok(setup.admin.get("/v1/settings"))
        if after != before:
            setup.admin.put("/v1/settings", json=before)
    assert after == before


def test_a_settings_change_changes_only_what_is_sent_and_answers_with_a_position(
    setup: Setup,
) -> None:
    before = ok(setup.admin.get("/v1/settings"))
    assert before["inactivity_close_minutes"] == 15
    with changed_settings(setup.admin, inactivity_close_minutes=None) as off:
        assert off.json() == {**before, "inactivity_close_minutes": None}
        first = position(off)
        assert ok(setup.admin.get("/v1/settings")) == off.json()

        with changed_settings(
            setup.admin, absent_after_minutes=30, forbid_message_edits=True
        ) as on:
            assert on.json() == {
                **before,
                "inactivity_close_minutes": None,
                "absent_after_minutes": 30,
                "forbid_message_edits": True,
            }
            assert position(on) > first
            _, op = setup.operator(working=False)
            assert ok(op.get("/v1/settings")) == on.json()

        # Sending what is already there changes nothing, and still says where the log is.
        same = setup.admin.put("/v1/settings", json={"inactivity_close_minutes": None})
        assert ok(same) == off.json()
        assert position(same) >= first
    assert ok(setup.admin.get("/v1/settings")) == before


# -- editing and deleting messages ----------------------------------------------------------------


def test_an_operator_edits_and_deletes_their_own_message_and_the_audit_keeps_the_original(
    setup: Setup, held: dict[str, Any]
) -> None:
    chat_id, op = held["id"], held["op"]
    posted = ok(op.post(f"/v1/chats/{chat_id}/messages", json={"text": "helo, one momnet"}), 201)
    message_id = posted["message_id"]

    edited = op.patch(
        f"/v1/chats/{chat_id}/messages/{message_id}", json={"text": "hello, one moment"}
    )
    body = ok(edited)
    position(edited)
    assert body["message_id"] == message_id
    assert body["text"] == "hello, one moment"
    assert body["edited_at"] is not None
    assert body["deleted"] is False
    [shown] = [m for m in messages_of(held["bot"], chat_id) if m["message_id"] == message_id]
    assert shown["text"] == "hello, one moment"
    assert shown["edited_at"] is not None

    deleted = op.delete(f"/v1/chats/{chat_id}/messages/{message_id}")
    body = ok(deleted)
    position(deleted)
    assert body["deleted"] is True
    assert body["text"] == ""
    [shown] = [
        m for m in ok(op.get(f"/v1/chats/{chat_id}"))["messages"] if m["message_id"] == message_id
    ]
    assert shown["deleted"] is True
    assert shown["text"] == ""

    events = [
        e for e in events_of(setup.admin, chat_id) if e["data"].get("message_id") == message_id
    ]
    assert [e["type"] for e in events] == ["MessagePosted", "MessageEdited", "MessageDeleted"]
    assert events[0]["data"]["text"] == "helo, one momnet"
    assert events[1]["data"]["text"] == "hello, one moment"
    actor = f"operator:{held['operator']['id']}"
    assert [e["actor"] for e in events] == [actor, actor, actor]


def test_only_ones_own_operator_messages_are_edited(setup: Setup, held: dict[str, Any]) -> None:
    chat_id, op, bot = held["id"], held["op"], held["bot"]
    mine = ok(op.post(f"/v1/chats/{chat_id}/messages", json={"text": "mine"}), 201)
    client = ok(bot.post(f"/v1/chats/{chat_id}/messages", json={"text": "the client's"}), 201)
    _, lead = setup.operator(working=False, role="supervisor")
    leads = ok(lead.post(f"/v1/chats/{chat_id}/messages", json={"text": "the lead's"}), 201)
    _, other = setup.operator(held["group"]["id"], working=False)

    for message in (client, leads):
        path = f"/v1/chats/{chat_id}/messages/{message['message_id']}"
        assert_problem(op.patch(path, json={"text": "changed"}), 403, "not_assigned")
        assert_problem(op.delete(path), 403, "not_assigned")
    path = f"/v1/chats/{chat_id}/messages/{mine['message_id']}"
    assert_problem(other.patch(path, json={"text": "changed"}), 403, "not_assigned")
    assert_problem(other.delete(path), 403, "not_assigned")
    assert_problem(op.patch(path, json={"text": ""}), 422, "validation")
    assert_problem(op.patch(path, json={"text": "x", "why": "typo"}), 422, "validation")

    texts = [m["text"] for m in messages_of(bot, chat_id)]
    assert texts[-3:] == ["mine", "the client's", "the lead's"]
    assert not any(
        e["type"] in ("MessageEdited", "MessageDeleted") for e in events_of(setup.admin, chat_id)
    )


def test_an_unknown_message_is_not_found(held: dict[str, Any]) -> None:
    path = f"/v1/chats/{held['id']}/messages/{uuid.uuid4()}"
    assert_problem(held["op"].patch(path, json={"text": "x"}), 404, "not_found")
    assert_problem(held["op"].delete(path), 404, "not_found")


def test_the_company_may_forbid_edits(setup: Setup, held: dict[str, Any]) -> None:
    chat_id, op = held["id"], held["op"]
    mine = ok(op.post(f"/v1/chats/{chat_id}/messages", json={"text": "typo hre"}), 201)
    path = f"/v1/chats/{chat_id}/messages/{mine['message_id']}"
    with changed_settings(setup.admin, forbid_message_edits=True):
        assert_problem(op.patch(path, json={"text": "typo here"}), 403, "edits_forbidden")
        assert_problem(op.delete(path), 403, "edits_forbidden")
        assert_problem(setup.admin.patch(path, json={"text": "typo here"}), 403, "edits_forbidden")
    assert [m["text"] for m in messages_of(held["bot"], chat_id)][-1] == "typo hre"
    # Allowed again once the company lifts it.
    assert ok(op.patch(path, json={"text": "typo here"}))["text"] == "typo here"


# -- the audit trail ------------------------------------------------------------------------------


def test_the_audit_trail_records_each_step_and_replays_the_past(
    setup: Setup, held: dict[str, Any]
) -> None:
    chat_id, first, bot_name = held["id"], held["operator"], held["bot_name"]
    second, second_op = setup.operator(held["group"]["id"])
    lead, lead_op = setup.operator(working=False, role="supervisor")

    ok(lead_op.post(f"/v1/chats/{chat_id}/reassign", json={"operator_id": second["id"]}))
    ok(second_op.post(f"/v1/chats/{chat_id}/mute", json={"minutes": 15}))
    ok(second_op.post(f"/v1/chats/{chat_id}/unmute"))
    ok(second_op.patch(f"/v1/chats/{chat_id}", json={"topic": "billing", "subtopic": "vat"}))
    ok(second_op.post(f"/v1/chats/{chat_id}/close", json={"reason": "solved"}))
    ok(held["bot"].post(f"/v1/chats/{chat_id}/rating", json={"score": 5, "comment": "great"}))

    auditor = setup.token("auditor")
    supervisor = setup.token("supervisor")
    events = events_of(auditor, chat_id)
    assert events == events_of(supervisor, chat_id) == events_of(setup.admin, chat_id)
    assert [e["version"] for e in events] == list(range(1, len(events) + 1))
    times = [_at(e["occurred_at"]) for e in events]
    assert all(t.tzinfo is not None for t in times)
    assert times == sorted(times)
    assert all(e["actor"] for e in events)

    start = [e["type"] for e in events].index("Reassigned")
    tail = events[start:]
    second_actor = f"operator:{second['id']}"
    assert [(e["type"], e["actor"]) for e in tail] == [
        ("Reassigned", f"operator:{lead['id']}"),
        ("Muted", second_actor),
        ("Unmuted", second_actor),
        ("TopicChanged", second_actor),
        ("Closed", second_actor),
        ("Rated", f"bot:{bot_name}"),
    ]
    reassigned, muted, _, topic, closed, rated = (e["data"] for e in tail)
    assert reassigned["from_operator_id"] == first["id"]
    assert reassigned["operator_id"] == second["id"]
    assert _at(muted["until"]) - times[start + 1] == timedelta(minutes=15)
    assert (topic["topic"], topic["subtopic"]) == ("billing", "vat")
    assert closed["reason"] == "solved"
    assert (rated["score"], rated["comment"]) == (5, "great")

    # The chat just before the reassign: version and time both give it back.
    before = start  # versions start at 1: the event before the reassign has version `start`
    past = ok(auditor.get(f"/v1/chats/{chat_id}", params={"version": before}))
    assert past["operator_id"] == first["id"]
    assert past["status"] == "active"
    assert past["topic"] is None
    assert past["rating"] is None
    as_of = ok(
        auditor.get(f"/v1/chats/{chat_id}", params={"as_of": events[start - 1]["occurred_at"]})
    )
    assert as_of["operator_id"] == first["id"]
    assert as_of["status"] == "active"
    after = ok(auditor.get(f"/v1/chats/{chat_id}", params={"version": before + 1}))
    assert after["operator_id"] == second["id"]
    assert (
        ok(auditor.get(f"/v1/chats/{chat_id}", params={"as_of": events[start]["occurred_at"]}))[
            "operator_id"
        ]
        == second["id"]
    )
    now = ok(auditor.get(f"/v1/chats/{chat_id}"))
    assert (now["status"], now["rating"], now["operator_id"]) == ("closed", 5, second["id"])

    # Past states and the events are for auditors and supervisors, not operators or bots.
    for client in (held["op"], second_op, held["bot"]):
        assert_problem(client.get(f"/v1/chats/{chat_id}/events"), 403, "forbidden")
    assert_problem(second_op.get(f"/v1/chats/{chat_id}", params={"version": 1}), 403, "forbidden")
    assert_problem(
        auditor.get(f"/v1/chats/{chat_id}", params={"as_of": "2026-01-01T00:00:00"}),
        422,
        "validation",
    )
    assert_problem(auditor.get(f"/v1/chats/{chat_id}", params={"version": 0}), 422, "validation")


def test_the_server_logged_no_errors(server: ServerProcess) -> None:
    """Last in the module: nothing sent above made the server log a traceback."""
    assert "Traceback" not in server.stderr()
