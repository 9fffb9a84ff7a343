"""What the console needed from the API: ``GET /v1/me`` for every token, a stream that ends
when its token no longer holds, deactivated operators on request, the tokens' kind, and
operators listing operators where they may reassign."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import ServerProcess, Setup, position, serving
from tests.e2e.sse import StreamReader

PASSWORD = "correct horse battery"
ENDED_WITHIN_S = 10.0  # the hub looks every second; generous for a busy machine


@pytest.fixture(scope="module")
def server(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    with serving(
        module_database_url, tmp_path_factory, SWITCHBOARD_STREAM_HEARTBEAT_S="0.3"
    ) as process:
        yield process


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code, response.text


def enrolled(setup: Setup, **fields: Any) -> dict[str, Any]:
    """A new operator (with their token and invitation code)."""
    return ok(
        setup.admin.post(
            "/v1/operators",
            json={
                "first_name": "Mia",
                "last_name": f"Me{setup.suffix}",
                "email": f"mia-{uuid.uuid4().hex[:12]}@example.com",
                **fields,
            },
        ),
        201,
    )


def session_of(http: Callable[..., httpx.Client], operator: dict[str, Any]) -> str:
    accepted = http().post(
        f"/v1/invitations/{operator['invite_code']}/accept", json={"password": PASSWORD}
    )
    return ok(accepted)["token"]


def listed_tokens(setup: Setup, after: int = 0) -> list[dict[str, Any]]:
    page = setup.admin.get("/v1/tokens", params={"limit": 500, "min_position": after})
    return ok(page)["items"]


# -- GET /v1/me -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "analyst", "auditor", "bot"])
def test_me_answers_a_token_of_no_operator_with_its_role(setup: Setup, role: str) -> None:
    name = f"{role}-{uuid.uuid4().hex[:8]}"
    made = setup.admin.post("/v1/tokens", json={"role": role, "name": name})
    token = ok(made, 201)["token"]
    me = ok(setup.make_client(token).get("/v1/me"))
    assert (me["role"], me["token_name"], me["session"]) == (role, name, False)
    assert me["operator"] is None and me["id"] is None and me["status"] is None
    listed = {t["name"]: t["id"] for t in listed_tokens(setup, position(made))}
    assert me["token_id"] == listed[name]


def test_me_for_the_start_up_admin_token(setup: Setup) -> None:
    me = ok(setup.admin.get("/v1/me"))
    assert (me["role"], me["operator"], me["token_id"], me["session"]) == (
        "admin",
        None,
        None,
        False,
    )


def test_me_for_an_operator_is_their_record_as_before_and_says_whether_a_session(
    setup: Setup, http: Callable[..., httpx.Client]
) -> None:
    group = setup.group()
    operator = enrolled(setup, role="supervisor", group_ids=[group["id"]])
    by_token = ok(http(operator["token"]).get("/v1/me"))
    record = ok(setup.admin.get(f"/v1/operators/{operator['id']}"))
    assert by_token["operator"] == record
    assert {key: by_token[key] for key in record} == record  # the Operator's fields, as before
    assert (by_token["role"], by_token["session"], by_token["active"]) == (
        "supervisor",
        False,
        True,
    )
    by_session = ok(http(session_of(http, operator)).get("/v1/me"))
    assert by_session["session"] is True and by_session["token_id"] != by_token["token_id"]
    assert by_session["token_name"] == operator["email"]


def test_me_without_a_valid_token_is_401(http: Callable[..., httpx.Client]) -> None:
    problem(http().get("/v1/me"), 401, "unauthorized")
    problem(http("sb_not-a-token").get("/v1/me"), 401, "unauthorized")


# -- the token list tells sessions from tokens ------------------------------------------------


def test_the_token_list_tells_a_session_from_an_api_token(
    setup: Setup, http: Callable[..., httpx.Client]
) -> None:
    operator = enrolled(setup)
    session = session_of(http, operator)
    beat = http(session).post("/v1/me/heartbeat")
    assert beat.status_code == 204
    signed = http().post("/v1/sessions", json={"email": operator["email"], "password": PASSWORD})
    ok(signed, 201)
    mine = [t for t in listed_tokens(setup, position(signed)) if t["name"] == operator["email"]]
    kinds = sorted((t["kind"], t["expires_at"] is not None) for t in mine)
    # The token made with the operator, the session of the acceptance, and the sign-in.
    assert kinds == [("session", True), ("session", True), ("token", False)]


# -- deactivated operators on request ---------------------------------------------------------


def test_deactivated_operators_are_listed_on_request_for_reactivation(setup: Setup) -> None:
    group = setup.group()
    operator = enrolled(setup, group_ids=[group["id"]])
    gone = setup.admin.post(f"/v1/operators/{operator['id']}/deactivate")
    assert ok(gone)["active"] is False

    def listed(**params: Any) -> dict[str, dict[str, Any]]:
        query = {"group_id": group["id"], "min_position": position(gone), **params}
        return {o["id"]: o for o in ok(setup.admin.get("/v1/operators", params=query))["items"]}

    assert operator["id"] not in listed()  # the default, as before
    assert operator["id"] not in listed(include_inactive="false")
    shown = listed(include_inactive="true")[operator["id"]]
    assert (shown["active"], shown["status"]) == (False, "offline")
    back = setup.admin.post(f"/v1/operators/{operator['id']}/reactivate")
    assert ok(back)["active"] is True
    again = setup.admin.get(
        "/v1/operators", params={"group_id": group["id"], "min_position": position(back)}
    )
    assert [(o["id"], o["active"]) for o in ok(again)["items"]] == [(operator["id"], True)]
    problem(
        setup.admin.get("/v1/operators", params={"include_inactive": "maybe"}), 422, "validation"
    )


# -- operators list operators where they may reassign -----------------------------------------


def test_operators_list_operators_only_where_the_company_lets_them_reassign(
    setup: Setup,
) -> None:
    group = setup.group()
    colleague, _ = setup.operator(group["id"])
    _, me = setup.operator(group["id"])
    problem(me.get("/v1/operators"), 403, "forbidden")
    changed = setup.admin.put("/v1/settings", json={"operators_may_reassign": True})
    ok(changed)
    try:
        page = me.get(
            "/v1/operators", params={"group_id": group["id"], "min_position": position(changed)}
        )
        assert colleague["id"] in {o["id"] for o in ok(page)["items"]}
        # Deactivated colleagues stay the supervisors' business.
        problem(me.get("/v1/operators", params={"include_inactive": "true"}), 403, "forbidden")
    finally:
        ok(setup.admin.put("/v1/settings", json={"operators_may_reassign": False}))
    problem(me.get("/v1/operators"), 403, "forbidden")


# -- the stream ends when its token no longer holds -------------------------------------------


def ends_with_notice(stream: StreamReader) -> None:
    """The stream says ``ended`` and closes, within a few seconds."""
    events = stream.until(lambda e: e.event == "ended", timeout=ENDED_WITHIN_S)
    assert events[-1].data == {"reason": "access_ended"} and events[-1].id is None
    assert stream.ended.wait(ENDED_WITHIN_S), "the stream stayed open after saying it ended"


def opened(server: ServerProcess, token: str) -> StreamReader:
    stream = StreamReader(server.base_url, token)
    assert stream.status == 200, stream.body
    stream.until(lambda e: e.event == "ready")
    return stream


def test_a_stream_ends_when_its_session_is_revoked(
    server: ServerProcess, setup: Setup, http: Callable[..., httpx.Client]
) -> None:
    operator = enrolled(setup)
    session = session_of(http, operator)
    signed_in = http().post("/v1/sessions", json={"email": operator["email"], "password": PASSWORD})
    other = ok(signed_in, 201)["token"]
    with opened(server, session) as stream, opened(server, other) as untouched:
        me = ok(http(session).get("/v1/me"))
        ok(setup.admin.delete(f"/v1/tokens/{me['token_id']}"), 204)
        ends_with_notice(stream)
        # Another session of the same operator goes on: its heartbeats keep coming.
        count = len(untouched.comments)
        time.sleep(1.5)  # a few of the 0.3 s heartbeats, and a look of the hub's guard
        assert not untouched.ended.is_set() and len(untouched.comments) > count
    with StreamReader(server.base_url, session) as again:
        assert again.status == 401


def test_a_stream_ends_when_its_operator_signs_out(
    server: ServerProcess, setup: Setup, http: Callable[..., httpx.Client]
) -> None:
    session = session_of(http, enrolled(setup))
    with opened(server, session) as stream:
        ok(http(session).delete("/v1/sessions/current"), 204)
        ends_with_notice(stream)


def test_a_stream_ends_when_its_operator_is_deactivated(
    server: ServerProcess, setup: Setup, http: Callable[..., httpx.Client]
) -> None:
    operator = enrolled(setup)
    session = session_of(http, operator)
    with opened(server, operator["token"]) as by_token, opened(server, session) as by_session:
        ok(setup.admin.post(f"/v1/operators/{operator['id']}/deactivate"))
        ends_with_notice(by_token)
        ends_with_notice(by_session)


def test_a_stream_ends_when_its_operator_changes_role(server: ServerProcess, setup: Setup) -> None:
    """A supervisor's stream carries every chat: a demoted one's must not go on."""
    operator = enrolled(setup, role="supervisor")
    with opened(server, operator["token"]) as stream:
        ok(setup.admin.patch(f"/v1/operators/{operator['id']}", json={"role": "operator"}))
        ends_with_notice(stream)
    # The token still holds, as an operator's: a new stream opens.
    with opened(server, operator["token"]):
        pass
