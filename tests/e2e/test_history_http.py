"""GET /v1/history over HTTP: a realistic search, who sees what, and every bad input a 4xx."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import ServerProcess, Setup, position
from tests.e2e.test_bad_input import FAR_FUTURE, assert_problem


@dataclass
class Desk:
    """Two closed-and-open chats in two fresh groups, each with its own operator."""

    word: str  # a word only these chats' messages hold
    refund: dict[str, Any]  # closed by Ann, rated 5
    late: dict[str, Any]  # active with Ben
    sales: dict[str, Any]
    support: dict[str, Any]
    ann: dict[str, Any]
    ben: dict[str, Any]
    ann_client: httpx.Client
    ben_client: httpx.Client
    bot: httpx.Client
    seen: int  # the log position of the last command


def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()


@pytest.fixture
def desk(setup: Setup) -> Desk:
    sales, support = setup.group(), setup.group()
    ann, ann_client = setup.operator(sales["id"])
    ben, ben_client = setup.operator(support["id"])
    bot = setup.bot()
    word = f"parcel{setup.suffix}"
    phone = f"+1555{setup.suffix}"

    refund = _ok(
        bot.post(
            "/v1/chats",
            json={
                "external_id": f"refund-{setup.suffix}",
                "client": {"id": "c1", "phone": phone, "channel": "web"},
                "topic": "billing",
                "subtopic": "refund",
                "group_id": sales["id"],
                "transcript": [
                    {"author": "client", "text": f"My {word} arrived broken"},
                    {"author": "bot", "text": "Connecting you to a person"},
                ],
            },
        ),
        201,
    )
    assert refund["operator_id"] == ann["id"]
    chat = f"/v1/chats/{refund['id']}"
    _ok(ann_client.post(f"{chat}/intercept"))
    _ok(ann_client.post(f"{chat}/messages", json={"text": "Refund approved, sorry!"}), 201)
    _ok(ann_client.post(f"{chat}/close", json={"reason": "refunded"}))
    refund = _ok(bot.post(f"{chat}/rating", json={"score": 5}))

    late = _ok(
        bot.post(
            "/v1/chats",
            json={
                "external_id": f"late-{setup.suffix}",
                "client": {"id": "c2", "channel": "telegram"},
                "topic": "delivery",
                "group_id": support["id"],
            },
        ),
        201,
    )
    chat = f"/v1/chats/{late['id']}"
    _ok(ben_client.post(f"{chat}/intercept"))
    last = bot.post(f"{chat}/messages", json={"text": f"Where is my {word}?"})
    _ok(last, 201)
    return Desk(
        word,
        refund,
        late,
        sales,
        support,
        ann,
        ben,
        ann_client,
        ben_client,
        bot,
        position(last),
    )


def history(client: httpx.Client, desk: Desk, **params: Any) -> list[dict[str, Any]]:
    page = _ok(client.get("/v1/history", params={"min_position": desk.seen, **params}))
    assert page.keys() == {"items", "next_cursor"}
    return page["items"]


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


def test_an_analyst_searches_by_words_and_facts(setup: Setup, desk: Desk) -> None:
    analyst = setup.token("analyst")
    refund, late = desk.refund["id"], desk.late["id"]

    found = history(analyst, desk, q=desk.word)
    assert ids(found) == [late, refund]  # newest first
    row = found[1]
    assert row["status"] == "closed"
    assert row["rating"] == 5
    assert row["close_reason"] == "refunded"
    assert row["operator_id"] == desk.ann["id"]
    assert row["operator_ids"] == [desk.ann["id"]]
    assert row["group_id"] == desk.sales["id"]
    assert (row["topic"], row["subtopic"]) == ("billing", "refund")
    assert row["client"]["phone"] == desk.refund["client"]["phone"]
    assert row["message_count"] == 3  # two transcript lines and Ann's reply
    assert f"«{desk.word}»" in row["headline"]
    assert row["requested_at"].endswith(("Z", "+00:00"))

    q = desk.word
    assert ids(history(analyst, desk, q=f"{q} refund approved")) == [refund]
    assert ids(history(analyst, desk, q=f"{q} -approved")) == [late]
    assert ids(history(analyst, desk, q=q, rating=5)) == [refund]
    assert ids(history(analyst, desk, q=q, status="active")) == [late]
    assert ids(history(analyst, desk, q=q, channel="telegram")) == [late]
    assert ids(history(analyst, desk, q=q, topic="billing", subtopic="refund")) == [refund]
    assert ids(history(analyst, desk, group_id=desk.support["id"])) == [late]
    assert ids(history(analyst, desk, operator_id=desk.ben["id"])) == [late]
    assert ids(history(analyst, desk, phone=desk.refund["client"]["phone"])) == [refund]
    window = {"from": desk.refund["requested_at"], "to": desk.late["requested_at"]}
    assert ids(history(analyst, desk, q=q, **window)) == [refund]  # to is exclusive
    # Empty parameters, as a form sends them, filter nothing.
    assert ids(history(analyst, desk, q=q, topic="", rating="", **{"from": ""})) == [late, refund]

    # Keyset pages over HTTP, one row at a time.
    first = _ok(analyst.get("/v1/history", params={"q": q, "limit": 1}))
    assert ids(first["items"]) == [late]
    second = _ok(
        analyst.get("/v1/history", params={"q": q, "limit": 1, "cursor": first["next_cursor"]})
    )
    assert ids(second["items"]) == [refund]
    assert second["next_cursor"] is None


def test_an_operator_finds_only_the_chats_they_held(setup: Setup, desk: Desk) -> None:
    assert ids(history(desk.ann_client, desk, q=desk.word)) == [desk.refund["id"]]
    assert ids(history(desk.ben_client, desk, q=desk.word)) == [desk.late["id"]]
    # Asking for someone else's chats narrows the view; it never widens it.
    assert ids(history(desk.ann_client, desk, operator_id=desk.ben["id"])) == []
    for role in ("supervisor", "auditor", "admin"):
        reader = setup.admin if role == "admin" else setup.token(role)
        assert ids(history(reader, desk, q=desk.word)) == [desk.late["id"], desk.refund["id"]]


def test_bots_and_strangers_may_not_search(setup: Setup, desk: Desk, server: ServerProcess) -> None:
    assert_problem(desk.bot.get("/v1/history"), 403, "forbidden")
    with server.client() as anonymous:
        assert_problem(anonymous.get("/v1/history"), 401, "unauthorized")


BAD_PARAMS = [
    pytest.param({"from": "yesterday"}, id="from-not-a-date"),
    pytest.param({"to": "2026-13-01T00:00:00Z"}, id="to-month-13"),
    pytest.param({"from": "2026-01-01T00:00:00"}, id="from-without-time-zone"),
    pytest.param({"to": "2026-01-01"}, id="to-a-bare-date"),
    pytest.param(
        {"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, id="from-after-to"
    ),
    pytest.param({"from": "2026-01-01T10:00:00+05:00", "to": "2026-01-01T04:00:00Z"}, id="zones"),
    pytest.param({"rating": "abc"}, id="rating-abc"),
    pytest.param({"rating": "7"}, id="rating-7"),
    pytest.param({"rating": "0"}, id="rating-0"),
    pytest.param({"rating": "4.5"}, id="rating-4.5"),
    pytest.param({"status": "open"}, id="status-unknown"),
    pytest.param({"limit": "100000"}, id="limit-100000"),
    pytest.param({"limit": "0"}, id="limit-0"),
    pytest.param({"limit": "ten"}, id="limit-ten"),
    pytest.param({"operator_id": "not-a-uuid"}, id="operator-id"),
    pytest.param({"group_id": "12345"}, id="group-id"),
    pytest.param({"q": "a\x00b"}, id="q-nul"),
    pytest.param({"topic": "a\x00"}, id="topic-nul"),
    pytest.param({"q": "x" * 1001}, id="q-too-long"),
    pytest.param({"phone": "1" * 201}, id="phone-too-long"),
    pytest.param({"min_position": "-1"}, id="min-position-negative"),
]


@pytest.mark.parametrize("params", BAD_PARAMS)
def test_bad_parameters_are_validation_errors(setup: Setup, params: dict[str, str]) -> None:
    assert_problem(setup.admin.get("/v1/history", params=params), 422, "validation")


@pytest.mark.parametrize(
    "cursor", ["garbage", "W10", "WyIyMDI2LTAxLTAxIiwgIngiXQ", "%%%", "[" * 200]
)
def test_a_cursor_not_given_out_is_a_bad_request(setup: Setup, cursor: str) -> None:
    response = setup.admin.get("/v1/history", params={"cursor": cursor})
    assert_problem(response, 400, "bad_cursor")


@pytest.mark.parametrize(
    "q",
    [
        "'); DROP TABLE readmodels.history_chats; --",
        "!!!",
        "a & | b <-> :*",
        '"unclosed',
        "(((",
        "\\",
        "%_%",
        "- or -",
    ],
)
def test_any_query_text_is_a_plain_search(setup: Setup, q: str) -> None:
    response = setup.admin.get("/v1/history", params={"q": q})
    assert response.status_code == 200, response.text
    assert isinstance(response.json()["items"], list)


@pytest.mark.parametrize(
    "params",
    [
        {"from": "0001-01-01T00:00:00+14:00"},
        {"to": "9999-12-31T23:59:59-14:00"},
        {"from": "2026-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
        {"from": "1700000000"},  # seconds since the epoch: UTC by definition
    ],
)
def test_extreme_but_valid_times_answer(setup: Setup, params: dict[str, str]) -> None:
    response = setup.admin.get("/v1/history", params=params)
    assert response.status_code == 200, response.text


def test_a_position_beyond_the_log_is_refused(setup: Setup) -> None:
    response = setup.admin.get("/v1/history", params={"min_position": FAR_FUTURE})
    assert_problem(response, 422, "bad_position")


def test_openapi_documents_the_history_parameters(setup: Setup) -> None:
    spec = _ok(setup.admin.get("/openapi.json"))
    params = {p["name"] for p in spec["paths"]["/v1/history"]["get"]["parameters"]}
    assert params >= {
        "from",
        "to",
        "topic",
        "subtopic",
        "operator_id",
        "group_id",
        "rating",
        "phone",
        "channel",
        "status",
        "q",
        "limit",
        "cursor",
        "min_position",
    }


def test_the_server_logged_no_errors(server: ServerProcess) -> None:
    """Last in the module: nothing sent above made the server log a traceback."""
    assert "Traceback" not in server.stderr()
