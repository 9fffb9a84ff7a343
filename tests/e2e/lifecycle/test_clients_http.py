"""The client card over HTTP against a real server: made by handoffs, searched, edited,
noted, tagged, blocked and unblocked; every bad input a problem that records nothing."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Setup, position
from tests.e2e.lifecycle.helpers import assert_problem, changed_settings, hand_off, ok


def handed(bot: httpx.Client, client: dict[str, Any], **fields: Any) -> httpx.Response:
    return bot.post(
        "/v1/chats", json={"external_id": f"ext-{uuid.uuid4()}", "client": client, **fields}
    )


def new_client(**fields: Any) -> dict[str, Any]:
    return {"id": f"client-{uuid.uuid4().hex[:8]}", "channel": "telegram", **fields}


def head(setup: Setup) -> int:
    return ok(setup.admin.get("/readyz"))["position"]


def test_a_handoff_makes_the_card_and_the_chat_names_it(setup: Setup) -> None:
    bot = setup.bot()
    phone = f"+1 555 {uuid.uuid4().int % 10**8:08d}"
    client = new_client(name="Ann Lee", phone=phone, username="annlee")
    made = handed(bot, client)
    chat = ok(made, 201)
    rows = ok(
        setup.admin.get("/v1/history", params={"phone": phone, "min_position": position(made)})
    )
    assert [row["client_id"] for row in rows["items"]] == [chat["client_id"]]

    card = ok(setup.admin.get(f"/v1/clients/{chat['client_id']}"))

    assert (card["channel"], card["external_id"]) == ("telegram", client["id"])
    assert (card["name"], card["phone"], card["username"]) == ("Ann Lee", phone, "annlee")
    assert card["chats"] == [chat["id"]]
    assert (card["blocked"], card["tags"], card["notes"], card["custom"]) == (False, [], [], {})
    detail = ok(setup.admin.get(f"/v1/chats/{chat['id']}"))
    assert detail["client_id"] == card["id"]
    assert detail["client_card"]["id"] == card["id"]
    assert "client_card" not in ok(bot.get(f"/v1/chats/{chat['id']}")) or (
        ok(bot.get(f"/v1/chats/{chat['id']}"))["client_card"] is None
    )

    again = ok(handed(bot, {**client, "email": "ann@example.com"}), 201)
    card = ok(setup.admin.get(f"/v1/clients/{chat['client_id']}"))
    assert card["chats"] == [chat["id"], again["id"]] and card["email"] == "ann@example.com"


def test_staff_edit_note_and_tag_the_card_and_search_finds_it(setup: Setup) -> None:
    bot = setup.bot()
    _, op = setup.operator()
    marker = uuid.uuid4().hex[:10]
    chat = ok(handed(bot, new_client(name=f"Zed {marker}")), 201)
    url = f"/v1/clients/{chat['client_id']}"

    edited = op.patch(url, json={"email": f"{marker}@example.com", "phone": "+44 20 7946 0018"})
    assert ok(edited)["email"] == f"{marker}@example.com"
    note = ok(op.post(f"{url}/notes", json={"text": "prefers e-mail"}), 201)
    assert note["text"] == "prefers e-mail" and note["author_id"]
    tagging = op.put(f"{url}/tags", json={"tags": [f"vip-{marker}", "late"]})
    assert ok(tagging)["tags"] == [f"vip-{marker}", "late"]
    reached = position(tagging)

    for params in (
        {"q": marker.upper()},
        {"q": f"{marker}@example"},
        {"tag": f"vip-{marker}"},
        {"phone": "+44 20 7946 0018", "q": marker},
        {"blocked": "false", "q": marker},
    ):
        page = ok(op.get("/v1/clients", params={**params, "min_position": reached}))
        assert [c["id"] for c in page["items"]] == [chat["client_id"]], params
        assert page["items"][0]["notes"][0]["text"] == "prefers e-mail"
    none = ok(op.get("/v1/clients", params={"q": marker, "blocked": "true"}))
    assert none["items"] == []

    deleted = op.delete(f"{url}/notes/{note['id']}")
    assert deleted.status_code == 204, deleted.text
    assert ok(op.get(url))["notes"] == []
    assert_problem(op.delete(f"{url}/notes/{note['id']}"), 404, "not_found")


def test_blocking_closes_open_chats_and_refuses_handoffs_and_messages(setup: Setup) -> None:
    group = setup.group()
    operator, _ = setup.operator(group["id"])
    supervisor, sup = setup.operator(role="supervisor", working=False)
    bot = setup.bot()
    client = new_client(name="Spam Bot")
    chat = hand_off(bot, group, client=client).json()
    assert chat["operator_id"] == operator["id"]

    blocked = ok(sup.post(f"/v1/clients/{chat['client_id']}/block", json={"reason": "spam"}))

    assert (blocked["blocked"], blocked["blocked_reason"]) == (True, "spam")
    closed = ok(setup.admin.get(f"/v1/chats/{chat['id']}"))
    assert (closed["status"], closed["close_reason"]) == ("closed", "blocked")
    assert closed["closed_by"] == {"kind": "supervisor", "id": supervisor["id"]}
    assert ok(setup.admin.get(f"/v1/operators/{operator['id']}"))["load"] == 0
    before = head(setup)
    assert_problem(handed(bot, client), 409, "client_blocked")
    message = bot.post(f"/v1/chats/{chat['id']}/messages", json={"text": "hi"})
    assert_problem(message, 409, "client_blocked")
    assert head(setup) == before

    ok(sup.post(f"/v1/clients/{chat['client_id']}/unblock"))
    assert ok(handed(bot, client), 201)["client_id"] == chat["client_id"]


def test_operators_block_only_when_the_company_allows_it(setup: Setup) -> None:
    _, op = setup.operator()
    chat = ok(handed(setup.bot(), new_client()), 201)
    url = f"/v1/clients/{chat['client_id']}"
    before = head(setup)
    assert_problem(op.post(f"{url}/block"), 403, "block_forbidden")
    assert_problem(op.post(f"{url}/unblock"), 403, "block_forbidden")
    assert head(setup) == before
    with changed_settings(setup.admin, operators_may_block_clients=True):
        assert ok(op.post(f"{url}/block"))["blocked"] is True
        assert ok(op.post(f"{url}/unblock"))["blocked"] is False


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "", None),
        ("patch", "", {"name": "X"}),
        ("post", "/notes", {"text": "x"}),
        ("delete", "/notes/{note_id}", None),  # filled in by the test: ids must not vary
        ("put", "/tags", {"tags": []}),
        ("post", "/block", {}),
        ("post", "/unblock", None),
    ],
)
def test_unknown_clients_are_404(setup: Setup, method: str, path: str, body: Any) -> None:
    kwargs = {"json": body} if body is not None else {}
    path = path.format(note_id=uuid.uuid4())
    response = setup.admin.request(method, f"/v1/clients/{uuid.uuid4()}{path}", **kwargs)
    assert_problem(response, 404, "not_found")


@pytest.mark.parametrize(
    ("path", "method", "body"),
    [
        ("", "patch", {"email": "not-an-address"}),
        ("", "patch", {"email": "a@b"}),
        ("", "patch", {"phone": "call me maybe"}),
        ("", "patch", {"phone": "1" * 51}),
        ("", "patch", {"name": ""}),
        ("", "patch", {"photo_url": "ftp://example.com/x.png"}),
        ("", "patch", {"age": "30"}),
        ("/notes", "post", {"text": "x" * 2001}),
        ("/notes", "post", {"text": ""}),
        ("/notes", "post", {}),
        ("/tags", "put", {"tags": [f"t{i}" for i in range(21)]}),
        ("/tags", "put", {"tags": ["x" * 51]}),
        ("/tags", "put", {"tags": "vip"}),
        ("/block", "post", {"reason": "x" * 2001}),
    ],
)
def test_bad_input_is_422_and_records_nothing(
    setup: Setup, path: str, method: str, body: dict[str, Any]
) -> None:
    chat = ok(handed(setup.bot(), new_client()), 201)
    url = f"/v1/clients/{chat['client_id']}"
    before = ok(setup.admin.get(url))
    reached = head(setup)
    assert_problem(setup.admin.request(method, f"{url}{path}", json=body), 422, "validation")
    assert head(setup) == reached
    assert ok(setup.admin.get(url)) == before


def test_bad_search_parameters_are_422_or_400(setup: Setup) -> None:
    assert_problem(setup.admin.get("/v1/clients", params={"blocked": "maybe"}), 422, "validation")
    assert_problem(setup.admin.get("/v1/clients", params={"limit": 0}), 422, "validation")
    assert_problem(setup.admin.get("/v1/clients", params={"cursor": "nope"}), 400, "bad_cursor")


def test_the_search_pages_with_a_cursor(setup: Setup) -> None:
    bot = setup.bot()
    marker = uuid.uuid4().hex[:10]
    made = [ok(handed(bot, new_client(name=f"P {marker} {i}")), 201) for i in range(3)]
    reached = position(handed(bot, new_client()))
    seen: list[str] = []
    cursor = None
    while True:
        params = {"q": marker, "limit": 2, "min_position": reached}
        page = ok(
            setup.admin.get(
                "/v1/clients", params={**params, **({"cursor": cursor} if cursor else {})}
            )
        )
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [c["client_id"] for c in reversed(made)]


def test_previous_dialogs_are_the_cards_other_chats(setup: Setup) -> None:
    bot = setup.bot()
    key = f"client-{uuid.uuid4().hex[:8]}"
    first = ok(handed(bot, {"id": key}), 201)
    ok(setup.admin.post(f"/v1/chats/{first['id']}/close"))
    # No channel and an empty one are the same client card.
    second = handed(bot, {"id": key, "channel": ""})
    assert ok(second, 201)["client_id"] == first["client_id"]
    other = ok(handed(bot, {"id": key, "channel": "web"}), 201)
    assert other["client_id"] != first["client_id"]

    detail = ok(
        setup.admin.get(
            f"/v1/chats/{second.json()['id']}", params={"min_position": position(second)}
        )
    )
    assert [c["id"] for c in detail["previous_chats"]] == [first["id"]]
    assert detail["client_card"]["chats"] == [first["id"], second.json()["id"]]
