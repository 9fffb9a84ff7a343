"""Whatever a client sends, the answer is a problem+json with a stable code, never a 500."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import ServerProcess, Setup, position

PROBLEM_FIELDS = {"type", "title", "status", "detail", "code"}
FAR_FUTURE = 10**12


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body.keys() >= PROBLEM_FIELDS, body
    assert body["status"] == status
    assert body["code"] == code, body
    assert body["detail"]
    return body


@pytest.fixture
def handed_off(setup: Setup) -> dict[str, Any]:
    """A chat assigned to a working operator of a fresh group, with the actors around it."""
    group = setup.group()
    operator, op = setup.operator(group["id"])
    bot = setup.bot()
    response = bot.post(
        "/v1/chats",
        json={
            "external_id": f"ext-{uuid.uuid4()}",
            "client": {"id": "c1"},
            "group_id": group["id"],
        },
    )
    assert response.status_code == 201, response.text
    chat = response.json()
    assert chat["operator_id"] == operator["id"]
    return {"chat": chat, "group": group, "operator": operator, "op": op, "bot": bot}


# -- who is calling -------------------------------------------------------------------------------


def test_no_token_is_unauthorized(http: Callable[..., httpx.Client]) -> None:
    response = http().get("/v1/groups")
    assert_problem(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_an_unknown_token_is_unauthorized(http: Callable[..., httpx.Client]) -> None:
    response = http("sb_not-a-token-anyone-issued").get("/v1/groups")
    assert_problem(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_bot_may_not_create_groups(setup: Setup) -> None:
    response = setup.bot().post("/v1/groups", json={"name": f"g-{uuid.uuid4()}"})
    assert_problem(response, 403, "forbidden")


def test_an_operator_may_not_reply_in_another_operators_chat(
    setup: Setup, handed_off: dict[str, Any]
) -> None:
    _, other = setup.operator(handed_off["group"]["id"], working=False)
    response = other.post(f"/v1/chats/{handed_off['chat']['id']}/messages", json={"text": "hi"})
    assert_problem(response, 403, "not_assigned")


# -- what is named --------------------------------------------------------------------------------


def test_an_unknown_chat_is_not_found(setup: Setup) -> None:
    unknown = uuid.uuid4()
    assert_problem(setup.admin.get(f"/v1/chats/{unknown}"), 404, "not_found")
    assert_problem(setup.admin.get(f"/v1/chats/{unknown}/events"), 404, "not_found")


def test_a_malformed_id_in_the_path_is_a_validation_error(setup: Setup) -> None:
    assert_problem(setup.admin.get("/v1/chats/not-a-uuid"), 422, "validation")
    assert_problem(setup.admin.get("/v1/groups/12345"), 422, "validation")


def test_an_unknown_group_in_a_handoff_is_an_unknown_reference(setup: Setup) -> None:
    response = setup.bot().post(
        "/v1/chats",
        json={
            "external_id": f"ext-{uuid.uuid4()}",
            "client": {"id": "c1"},
            "group_id": str(uuid.uuid4()),
        },
    )
    assert_problem(response, 422, "unknown_reference")


def test_an_unknown_path_is_a_problem(http: Callable[..., httpx.Client]) -> None:
    assert_problem(http().get("/v1/no-such-thing"), 404, "not_found")


# -- what is sent ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"external_id": "x"}, id="missing-client"),
        pytest.param(
            {"external_id": "x", "client": {"id": "c"}, "colour": "red"}, id="unknown-field"
        ),
        pytest.param(
            {
                "external_id": "x",
                "client": {"id": "c"},
                "transcript": [{"author": "operator", "text": "hi"}],
            },
            id="transcript-author",
        ),
        pytest.param({"external_id": "x\x00", "client": {"id": "c"}}, id="nul-in-external-id"),
        pytest.param([], id="not-an-object"),
    ],
)
def test_an_invalid_handoff_is_a_validation_error(setup: Setup, body: Any) -> None:
    assert_problem(setup.bot().post("/v1/chats", json=body), 422, "validation")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"text": ""}, id="empty"),
        pytest.param({"text": "a\x00b"}, id="nul"),
        pytest.param({}, id="missing"),
        pytest.param({"text": 7}, id="not-a-string"),
    ],
)
def test_an_invalid_message_is_a_validation_error(
    handed_off: dict[str, Any], body: dict[str, Any]
) -> None:
    response = handed_off["bot"].post(f"/v1/chats/{handed_off['chat']['id']}/messages", json=body)
    assert_problem(response, 422, "validation")


def test_a_body_that_is_not_json_is_a_validation_error(setup: Setup) -> None:
    response = setup.bot().post(
        "/v1/chats", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 422, "validation")


def test_a_rating_out_of_range_is_a_validation_error(handed_off: dict[str, Any]) -> None:
    chat_id = handed_off["chat"]["id"]
    assert handed_off["op"].post(f"/v1/chats/{chat_id}/close").status_code == 200
    response = handed_off["bot"].post(f"/v1/chats/{chat_id}/rating", json={"score": 7})
    assert_problem(response, 422, "validation")


def test_a_message_after_an_unknown_message_is_a_validation_error(
    handed_off: dict[str, Any],
) -> None:
    response = handed_off["bot"].get(
        f"/v1/chats/{handed_off['chat']['id']}/messages", params={"after": str(uuid.uuid4())}
    )
    assert_problem(response, 422, "validation")


def test_a_cursor_not_given_out_is_a_bad_request(setup: Setup) -> None:
    _, op = setup.operator()
    response = op.get("/v1/dashboard", params={"tab": "all", "cursor": "garbage"})
    assert_problem(response, 400, "bad_cursor")


def test_a_body_over_a_megabyte_is_too_large(setup: Setup) -> None:
    huge = {"external_id": "x", "client": {"id": "c"}, "topic": "a" * 1_100_000}
    assert_problem(setup.bot().post("/v1/chats", json=huge), 413, "too_large")


def test_a_chunked_body_over_a_megabyte_is_too_large(setup: Setup) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"external_id": "x", "client": {"id": "c"}, "topic": "'
        for _ in range(110):
            yield b"a" * 10_000
        yield b'"}'

    response = setup.bot().post(
        "/v1/chats", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 413, "too_large")


# -- what the state forbids -----------------------------------------------------------------------


def test_a_reply_to_a_closed_chat_is_refused(handed_off: dict[str, Any]) -> None:
    chat_id, op = handed_off["chat"]["id"], handed_off["op"]
    assert op.post(f"/v1/chats/{chat_id}/intercept").status_code == 200
    assert op.post(f"/v1/chats/{chat_id}/close").status_code == 200
    response = op.post(f"/v1/chats/{chat_id}/messages", json={"text": "still there?"})
    assert_problem(response, 409, "chat_closed")
    relayed = handed_off["bot"].post(f"/v1/chats/{chat_id}/messages", json={"text": "hello?"})
    assert_problem(relayed, 409, "chat_closed")


def test_a_second_operator_cannot_intercept_a_held_chat(
    setup: Setup, handed_off: dict[str, Any]
) -> None:
    _, other = setup.operator(handed_off["group"]["id"], working=False)
    response = other.post(f"/v1/chats/{handed_off['chat']['id']}/intercept")
    assert_problem(response, 409, "already_intercepted")
    # The holder still can.
    held = handed_off["op"].post(f"/v1/chats/{handed_off['chat']['id']}/intercept")
    assert held.status_code == 200, held.text
    assert held.json()["operator_id"] == handed_off["operator"]["id"]


def test_a_chat_is_rated_only_once(handed_off: dict[str, Any]) -> None:
    chat_id, bot = handed_off["chat"]["id"], handed_off["bot"]
    assert handed_off["op"].post(f"/v1/chats/{chat_id}/close").status_code == 200
    first = bot.post(f"/v1/chats/{chat_id}/rating", json={"score": 4})
    assert first.status_code == 200, first.text
    assert_problem(bot.post(f"/v1/chats/{chat_id}/rating", json={"score": 1}), 409, "already_rated")
    assert bot.get(f"/v1/chats/{chat_id}").json()["rating"] == 4


def test_an_open_chat_cannot_be_rated(handed_off: dict[str, Any]) -> None:
    response = handed_off["bot"].post(
        f"/v1/chats/{handed_off['chat']['id']}/rating", json={"score": 5}
    )
    assert_problem(response, 409, "chat_open")


def test_an_operator_email_is_taken_once(setup: Setup) -> None:
    email = f"dup-{uuid.uuid4().hex[:12]}@example.com"
    body = {"first_name": "A", "last_name": "B", "email": email}
    assert setup.admin.post("/v1/operators", json=body).status_code == 201
    again = setup.admin.post("/v1/operators", json={**body, "email": email.upper()})
    assert_problem(again, 409, "already_exists")


# -- reading ahead of the log ---------------------------------------------------------------------


def test_a_position_beyond_the_log_is_refused_at_once(setup: Setup) -> None:
    """No write has reached it, so waiting cannot help: 422 at once, not 504 after the wait."""
    _, op = setup.operator()
    started = time.monotonic()
    response = op.get("/v1/dashboard", params={"min_position": FAR_FUTURE})
    assert_problem(response, 422, "bad_position")
    assert_problem(
        setup.admin.get("/v1/groups", params={"min_position": FAR_FUTURE}), 422, "bad_position"
    )
    assert time.monotonic() - started < 0.5  # READ_WAIT_S: neither waited it out


def test_a_position_already_reached_answers(setup: Setup) -> None:
    created = setup.admin.post("/v1/groups", json={"name": f"g-{uuid.uuid4()}"})
    assert created.status_code == 201, created.text
    listed = setup.admin.get("/v1/groups", params={"min_position": position(created)})
    assert listed.status_code == 200, listed.text
    assert created.json()["id"] in [g["id"] for g in listed.json()["items"]]


# -- the documentation ----------------------------------------------------------------------------

CONTRACT_PATHS = {
    "/healthz",
    "/readyz",
    "/v1/tokens",
    "/v1/groups",
    "/v1/groups/{id}",
    "/v1/operators",
    "/v1/operators/{id}",
    "/v1/operators/{id}/status",
    "/v1/me",
    "/v1/chats",
    "/v1/chats/{id}",
    "/v1/chats/{id}/messages",
    "/v1/chats/{id}/rating",
    "/v1/chats/{id}/intercept",
    "/v1/chats/{id}/close",
    "/v1/chats/{id}/events",
    "/v1/dashboard",
}


def test_openapi_lists_the_contract_paths(http: Callable[..., httpx.Client]) -> None:
    response = http().get("/openapi.json")
    assert response.status_code == 200, response.text
    paths = {re.sub(r"\{[^}]+\}", "{id}", path) for path in response.json()["paths"]}
    assert paths >= CONTRACT_PATHS, sorted(CONTRACT_PATHS - paths)


def test_the_docs_page_is_served(http: Callable[..., httpx.Client]) -> None:
    response = http().get("/docs")
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]


def test_the_server_logged_no_errors(server: ServerProcess) -> None:
    """Last in the module: nothing sent above made the server log a traceback."""
    assert "Traceback" not in server.stderr()
