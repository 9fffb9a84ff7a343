"""GET /v1/dashboard's tabs new, active and help and its status filter, and the help queue
(chats waiting in no group, or moved there from a deleted group), over HTTP and the stream.

The module's server is its own: help chats are everyone's, so no operator of another module
may be working with room here (the dispatcher would give them the help queue's chats).
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.e2e.conftest import ServerProcess, Setup, position
from tests.e2e.lifecycle.helpers import assert_problem
from tests.e2e.sse import StreamReader, about

TABS = ("mine", "queue", "closed", "all", "new", "active", "help")


def token_of(client: httpx.Client) -> str:
    return client.headers["Authorization"].removeprefix("Bearer ")


def hand_off(bot: httpx.Client, group: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "external_id": f"ext-{uuid.uuid4()}",
        "client": {"id": f"client-{uuid.uuid4().hex[:8]}", "channel": "web"},
    }
    if group is not None:
        body["group_id"] = group["id"]
    response = bot.post("/v1/chats", json=body)
    assert response.status_code == 201, response.text
    return {**response.json(), "position": position(response)}


def tab(client: httpx.Client, name: str, at: int, **params: Any) -> list[dict[str, Any]]:
    response = client.get(
        "/v1/dashboard", params={"tab": name, "min_position": at, "limit": 500, **params}
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]


def ids(rows: list[dict[str, Any]], among: list[str]) -> list[str]:
    """The rows' chat ids that are among this test's chats, in the tab's order."""
    return [row["id"] for row in rows if row["id"] in among]


def offline(client: httpx.Client, operator: dict[str, Any]) -> None:
    answer = client.put(f"/v1/operators/{operator['id']}/status", json={"status": "offline"})
    assert answer.status_code == 200, answer.text


def test_each_tab_and_the_status_filter(setup: Setup) -> None:
    sales, billing = setup.group(), setup.group(routing="manual")
    ann, ann_http = setup.operator(sales["id"], max_chats=2)
    bot = setup.bot()
    supervisor = setup.token("supervisor")
    new = hand_off(bot, sales)
    active = hand_off(bot, sales)
    assert ann_http.post(f"/v1/chats/{active['id']}/intercept").status_code == 200
    waiting = hand_off(bot, sales)  # Ann is full: it waits in Sales
    elsewhere = hand_off(bot, billing)
    unrouted = hand_off(bot)  # nobody has room anywhere: the help queue
    at = unrouted["position"]
    chats = [c["id"] for c in (new, active, waiting, elsewhere, unrouted)]
    assert new["operator_id"] == active["operator_id"] == ann["id"]
    assert waiting["status"] == unrouted["status"] == "queued"

    assert ids(tab(ann_http, "new", at), chats) == [new["id"], waiting["id"]]
    assert ids(tab(ann_http, "mine", at), chats) == [new["id"], active["id"]]
    assert ids(tab(ann_http, "active", at), chats) == [active["id"]]
    assert ids(tab(ann_http, "queue", at), chats) == [waiting["id"], unrouted["id"]]
    assert ids(tab(ann_http, "help", at), chats) == [unrouted["id"]]
    assert ids(tab(supervisor, "help", at), chats) == [unrouted["id"]]
    assert ids(tab(supervisor, "new", at), chats) == []  # a token of no operator: none its own
    assert ids(tab(supervisor, "queue", at), chats) == [
        waiting["id"],
        elsewhere["id"],
        unrouted["id"],
    ]

    # The status filter, within a tab.
    assert ids(tab(ann_http, "all", at, status="queued"), chats) == [unrouted["id"], waiting["id"]]
    assert ids(tab(ann_http, "mine", at, status="active"), chats) == [active["id"]]
    assert ids(tab(ann_http, "new", at, status="assigned"), chats) == [new["id"]]
    assert ids(tab(ann_http, "new", at, status="closed"), chats) == []
    for name in TABS:
        for row in tab(supervisor, name, at, status="queued"):
            assert row["status"] == "queued", (name, row)

    # Every row names its client's card, as the chat does.
    rows = {row["id"]: row for row in tab(supervisor, "all", at)}
    for chat in (new, active, waiting, elsewhere, unrouted):
        assert rows[chat["id"]]["client_id"] == chat["client_id"]
        card = ann_http.get(f"/v1/clients/{chat['client_id']}")
        assert card.status_code == 200, card.text
    offline(ann_http, ann)


def test_bad_tabs_and_statuses_are_problems(setup: Setup) -> None:
    _, op = setup.operator(working=False)
    for params in (
        {"status": "waiting"},
        {"status": ""},
        {"tab": "archive"},
        {"tab": "help", "status": "QUEUED"},
    ):
        assert_problem(op.get("/v1/dashboard", params=params), 422, "validation")


def test_the_openapi_document_names_the_tabs_and_the_status_filter(
    http,
) -> None:
    doc = http().get("/openapi.json").json()
    operation = doc["paths"]["/v1/dashboard"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert set(params["tab"]["schema"]["enum"]) == set(TABS)
    status = params["status"]["schema"]
    enums = [s.get("enum") for s in status.get("anyOf", [status])]
    assert ["queued", "assigned", "active", "closed"] in enums, status
    problem = operation["responses"]["422"]["content"]["application/problem+json"]
    assert problem["schema"] == {"$ref": "#/components/schemas/Problem"}
    row = doc["components"]["schemas"]["DashboardRow"]
    assert "client_id" in row["required"]


def test_a_deleted_groups_waiting_chat_moves_to_help_live_for_every_operator(
    server: ServerProcess, setup: Setup
) -> None:
    vip = setup.group(routing="manual")
    bob, bob_http = setup.operator(vip["id"], working=False)  # VIP's own operator
    carl, carl_http = setup.operator(working=False)  # in no group at all
    bot = setup.bot()
    chat = hand_off(bot, vip)
    path = f"/v1/chats/{chat['id']}"
    assert_problem(carl_http.get(path), 403, "forbidden")  # another group's queue

    with (
        StreamReader(server.base_url, token_of(carl_http)) as carl_stream,
        StreamReader(server.base_url, token_of(bob_http)) as bob_stream,
    ):
        carl_stream.until(lambda e: e.event == "ready")
        bob_stream.until(lambda e: e.event == "ready")
        assert setup.admin.delete(f"/v1/groups/{vip['id']}").status_code == 204
        # The engine moves it out of the deleted group: both see it arrive in the help queue.
        (*_, moved) = carl_stream.until(about(chat["id"]))
        assert moved.data["status"] == "queued" and moved.data["group_id"] is None
        assert moved.data["client_id"] == chat["client_id"]
        bob_stream.until(lambda e: about(chat["id"])(e) and e.data["group_id"] is None)

        at = moved.id
        assert ids(tab(carl_http, "help", at), [chat["id"]]) == [chat["id"]]
        assert ids(tab(bob_http, "help", at), [chat["id"]]) == [chat["id"]]
        # Whoever sees it may open it, and take it when they can take chats.
        assert carl_http.get(path).status_code == 200
        assert_problem(carl_http.post(f"{path}/intercept"), 409, "not_working")
        events = setup.admin.get(f"{path}/events").json()["items"]
        assert events[-1]["type"] == "MovedToHelp"
        assert events[-1]["data"]["from_group_id"] == vip["id"]

        # Carl starts work: the dispatcher gives it to him, and Bob is told it left his view.
        answer = carl_http.put(f"/v1/operators/{carl['id']}/status", json={"status": "working"})
        assert answer.status_code == 200, answer.text
        carl_stream.until(lambda e: about(chat["id"])(e) and e.data["operator_id"] == carl["id"])
        bob_stream.until(about(chat["id"], "chat_removed"))
    taken = carl_http.get(path).json()
    assert (taken["status"], taken["operator_id"], taken["group_id"]) == (
        "assigned",
        carl["id"],
        None,
    )
    assert bob["id"] != carl["id"]
    offline(carl_http, carl)
