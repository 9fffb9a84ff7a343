"""Reports over HTTP: a real chat's numbers come back exactly, and bad input gets a 4xx."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Setup, position
from tests.e2e.test_bad_input import assert_problem

SECTIONS = ("first_response", "next_response", "csat", "chats", "buckets")
RESPONSE_FIELDS = {"count", "within_sl", "pct_within_sl", "avg_s", "p50_s", "p90_s", "max_s"}


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _z(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@pytest.fixture
def rated_chat(setup: Setup) -> dict[str, Any]:
    """A chat of a fresh group: handed off, intercepted, two answers, closed, rated 4."""
    group = setup.group(sl_first_response_s=3600, sl_next_response_s=1)
    operator, op = setup.operator(group["id"])
    bot = setup.bot()
    chat = bot.post(
        "/v1/chats",
        json={
            "external_id": f"ext-{uuid.uuid4()}",
            "client": {"id": "c1"},
            "group_id": group["id"],
        },
    ).json()
    for response in (
        op.post(f"/v1/chats/{chat['id']}/intercept"),
        op.post(f"/v1/chats/{chat['id']}/messages", json={"text": "hello, how can I help?"}),
        bot.post(f"/v1/chats/{chat['id']}/messages", json={"text": "my invoice"}),
        bot.post(f"/v1/chats/{chat['id']}/messages", json={"text": "it is wrong"}),
        op.post(f"/v1/chats/{chat['id']}/messages", json={"text": "fixed"}),
        op.post(f"/v1/chats/{chat['id']}/close", json={"reason": "done"}),
    ):
        assert response.status_code in (200, 201), response.text
    rated = bot.post(f"/v1/chats/{chat['id']}/rating", json={"score": 4})
    assert rated.status_code == 200, rated.text
    detail = op.get(f"/v1/chats/{chat['id']}").json()
    return {
        "group": group,
        "operator": operator,
        "chat": detail,
        "position": position(rated),
        "analyst": setup.token("analyst"),
        "op": op,
        "bot": bot,
        "setup": setup,
    }


def test_the_report_of_one_chat_gives_its_exact_numbers(rated_chat: dict[str, Any]) -> None:
    chat, analyst = rated_chat["chat"], rated_chat["analyst"]
    requested = _at(chat["requested_at"])
    messages = chat["messages"]
    operator_at = [_at(m["at"]) for m in messages if m["author"] == "operator"]
    first_client_at = next(_at(m["at"]) for m in messages if m["author"] == "client")
    first_s = (operator_at[0] - requested).total_seconds()
    next_s = (operator_at[1] - first_client_at).total_seconds()

    response = analyst.get(
        "/v1/reports/sla",
        params={
            "from": _z(requested - timedelta(hours=1)),
            "to": _z(datetime.now(UTC) + timedelta(hours=1)),
            "group_id": rated_chat["group"]["id"],
            "bucket": "day",
            "min_position": rated_chat["position"],
        },
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert set(SECTIONS) <= report.keys()
    assert report["first_response"].keys() >= RESPONSE_FIELDS
    assert report["first_response"] == {
        "count": 1,
        "within_sl": 1,  # SL 3600 s
        "pct_within_sl": 100.0,
        "avg_s": first_s,
        "p50_s": first_s,
        "p90_s": first_s,
        "max_s": first_s,
        "unanswered": 0,
    }
    assert report["next_response"] == {
        "count": 1,
        "within_sl": 1 if next_s <= 1 else 0,  # SL 1 s
        "pct_within_sl": 100.0 if next_s <= 1 else 0.0,
        "avg_s": next_s,
        "p50_s": next_s,
        "p90_s": next_s,
        "max_s": next_s,
        "unanswered": 0,
    }
    assert report["csat"] == {
        "count": 1,
        "avg": 4.0,
        "distribution": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0},
    }
    assert report["chats"] == {"requested": 1, "closed": 1, "abandoned": 0}
    assert report["queue"]["count"] == 0
    assert report["period"]["tz"] == "UTC"
    assert report["period"]["percentiles"] == "exact"  # a handful of clocks
    buckets = report["buckets"]
    assert 1 <= len(buckets) <= 2  # the period may straddle midnight
    assert sum(b["first_response"]["count"] for b in buckets) == 1
    assert buckets[0]["from"] == report["period"]["from"]
    assert buckets[-1]["to"] == report["period"]["to"]

    # By the operator, by day in another zone, and without buckets.
    by_operator = analyst.get(
        "/v1/reports/sla",
        params={
            "operator_id": rated_chat["operator"]["id"],
            "tz": "Asia/Yekaterinburg",
            "bucket": "none",
        },
    ).json()
    assert by_operator["first_response"]["max_s"] == first_s
    assert by_operator["buckets"] == []
    assert by_operator["period"]["bucket"] == "none"


def test_who_may_read_reports(rated_chat: dict[str, Any], http) -> None:
    setup: Setup = rated_chat["setup"]
    for reader in (rated_chat["analyst"], setup.admin, setup.token("supervisor")):
        assert reader.get("/v1/reports/sla").status_code == 200
        assert reader.get("/v1/reports/operators").status_code == 200
    for outsider in (rated_chat["op"], rated_chat["bot"], setup.token("auditor")):
        assert_problem(outsider.get("/v1/reports/sla"), 403, "forbidden")
        assert_problem(outsider.get("/v1/reports/operators"), 403, "forbidden")
    assert_problem(http().get("/v1/reports/sla"), 401, "unauthorized")


def test_operator_activity(rated_chat: dict[str, Any]) -> None:
    operator_id = rated_chat["operator"]["id"]
    response = rated_chat["analyst"].get(
        "/v1/reports/operators", params={"operator_id": operator_id, "tz": "Europe/Berlin"}
    )
    assert response.status_code == 200, response.text
    (entry,) = response.json()["operators"]
    assert entry["operator_id"] == operator_id
    assert set(entry["seconds"]) == {"working", "break", "leaving", "absent", "offline"}
    assert entry["seconds"]["working"] > 0  # working since the fixture set it, up to now
    assert entry["days"][-1]["seconds"]["working"] > 0


@pytest.mark.parametrize(
    "params",
    [
        {"from": "yesterday"},
        {"from": "2026-13-01"},
        {"to": "2026-03-02T10:00:00"},  # no UTC offset
        {"from": "2026-03-02T10:00:00 05:00"},  # a "+" sent unencoded
        {"from": "2026-03-03", "to": "2026-03-02"},
        {"from": "2026-03-02T10:00:00Z", "to": "2026-03-02T09:00:00Z"},
        {"tz": "Mars/Olympus_Mons"},
        {"tz": "UTC+3"},
        {"tz": "x" * 65},
        {"bucket": "week"},
        {"group_id": "not-a-uuid"},
        {"operator_id": "42"},
        {"from": "2000-01-01", "to": "2026-01-01", "bucket": "day"},
        {"from": "0001-01-01", "to": "2026-01-01", "bucket": "none"},
        {"to": "0001-01-02"},
        {"to": "9999-12-31T23:59:59-05:00"},
        {"min_position": "-1"},
    ],
)
def test_bad_input_is_a_422(rated_chat: dict[str, Any], params: dict[str, str]) -> None:
    analyst: httpx.Client = rated_chat["analyst"]
    assert_problem(analyst.get("/v1/reports/sla", params=params), 422, "validation")
    if "bucket" not in params and "group_id" not in params:
        assert_problem(analyst.get("/v1/reports/operators", params=params), 422, "validation")


def test_unknown_ids_are_an_empty_report(rated_chat: dict[str, Any]) -> None:
    response = rated_chat["analyst"].get(
        "/v1/reports/sla", params={"group_id": str(uuid.uuid4()), "operator_id": str(uuid.uuid4())}
    )
    assert response.status_code == 200, response.text
    assert response.json()["first_response"]["count"] == 0
    assert response.json()["chats"] == {"requested": 0, "closed": 0, "abandoned": 0}


def test_a_position_beyond_the_log_is_refused(rated_chat: dict[str, Any]) -> None:
    response = rated_chat["analyst"].get("/v1/reports/sla", params={"min_position": 10**12})
    assert_problem(response, 422, "bad_position")


def test_the_openapi_document_lists_the_reports(http, server) -> None:
    paths = http().get("/openapi.json").json()["paths"]
    assert {"/v1/reports/sla", "/v1/reports/operators"} <= paths.keys()
    names = {p["name"] for p in paths["/v1/reports/sla"]["get"]["parameters"]}
    assert {"from", "to", "group_id", "operator_id", "bucket", "tz", "min_position"} <= names
