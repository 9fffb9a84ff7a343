"""Company settings, message edits and the audit trail over HTTP, each rule with its status and
problem+json ``code``."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from tests.e2e.conftest import ServerProcess, Setup, position
from tests.e2e.lifecycle.helpers import (
    SETTINGS_FIELDS,
    _at,
    assert_problem,
    changed_settings,
    events_of,
    messages_of,
    ok,
)

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
        assert_problem(setup.admin.patch(path, json={"text": "typo here"}), 403, "edits_forbidden")
    with changed_settings(setup.admin, forbid_message_deletes=True):
        assert_problem(op.delete(path), 403, "edits_forbidden")
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
        ("MessagePosted", "system"),  # the client is told who took over
        ("Muted", second_actor),
        ("Unmuted", second_actor),
        ("TopicChanged", second_actor),
        ("Closed", second_actor),
        ("Rated", f"bot:{bot_name}"),
    ]
    reassigned, _, muted, _, topic, closed, rated = (e["data"] for e in tail)
    assert reassigned["from_operator_id"] == first["id"]
    assert reassigned["operator_id"] == second["id"]
    assert _at(muted["until"]) - times[start + 2] == timedelta(minutes=15)
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
