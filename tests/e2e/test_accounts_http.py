"""Staff accounts over HTTP against a real server: invitations, signing in and out, sessions,
``PATCH /v1/me``, the heartbeat, deactivation, the token list and revocation."""

from __future__ import annotations

import statistics
import time
import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import ServerProcess, Setup, position

PASSWORD = "correct horse battery"


def new_operator(setup: Setup, *group_ids: str, **fields: Any) -> dict[str, Any]:
    response = setup.admin.post(
        "/v1/operators",
        json={
            "first_name": "Ann",
            "last_name": "Lee",
            "email": f"ann-{uuid.uuid4().hex[:12]}@example.com",
            "group_ids": list(group_ids),
            **fields,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def accept(http, code: str, password: str = PASSWORD) -> httpx.Response:
    return http().post(f"/v1/invitations/{code}/accept", json={"password": password})


def sign_in(http, email: str, password: str = PASSWORD) -> httpx.Response:
    return http().post("/v1/sessions", json={"email": email, "password": password})


def problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code, response.text


# -- invitations ------------------------------------------------------------------------------


def test_a_new_operator_accepts_the_invitation_and_gets_a_session(setup, http):
    created = new_operator(setup)
    assert created["invite_code"] and created["invite_expires_at"]

    accepted = accept(http, created["invite_code"])

    assert accepted.status_code == 200, accepted.text
    position(accepted)
    body = accepted.json()
    assert body["operator"]["id"] == created["id"]
    me = http(body["token"]).get("/v1/me")
    assert me.status_code == 200 and me.json()["id"] == created["id"]


def test_an_invitation_is_used_once(setup, http):
    code = new_operator(setup)["invite_code"]
    assert accept(http, code).status_code == 200
    problem(accept(http, code, "another password"), 410, "invite_expired")


def test_an_unknown_code_is_gone_too(http):
    problem(accept(http, "inv_" + uuid.uuid4().hex), 410, "invite_expired")


def test_a_new_invitation_replaces_the_old_one_and_resets_the_password(setup, http):
    created = new_operator(setup)
    assert accept(http, created["invite_code"]).status_code == 200

    again = setup.admin.post(f"/v1/operators/{created['id']}/invite")
    assert again.status_code == 201, again.text
    position(again)
    assert accept(http, again.json()["invite_code"], "a brand new password").status_code == 200

    problem(sign_in(http, created["email"]), 401, "bad_credentials")
    assert sign_in(http, created["email"], "a brand new password").status_code == 201


def test_an_invitation_made_before_another_no_longer_works(setup, http):
    created = new_operator(setup)
    assert setup.admin.post(f"/v1/operators/{created['id']}/invite").status_code == 201
    problem(accept(http, created["invite_code"]), 410, "invite_expired")


@pytest.mark.parametrize("password", ["", "short", "x" * 9, "x" * 1001])
def test_a_password_has_ten_to_a_thousand_characters(setup, http, password):
    code = new_operator(setup)["invite_code"]
    problem(accept(http, code, password), 422, "validation")
    assert accept(http, code, "x" * 1000).status_code == 200  # the code was not used up


@pytest.mark.parametrize(
    "body", [{}, {"password": 12345678901}, {"password": PASSWORD, "extra": 1}, []]
)
def test_bad_acceptance_bodies_are_refused(setup, http, body):
    code = new_operator(setup)["invite_code"]
    problem(http().post(f"/v1/invitations/{code}/accept", json=body), 422, "validation")


# -- signing in and out -----------------------------------------------------------------------


def test_sign_in_and_out(setup, http):
    created = new_operator(setup)
    assert accept(http, created["invite_code"]).status_code == 200

    signed_in = sign_in(http, created["email"].upper())  # e-mails match in any case

    assert signed_in.status_code == 201, signed_in.text
    position(signed_in)
    body = signed_in.json()
    assert set(body) == {"token", "expires_at", "operator"}
    session = http(body["token"])
    assert session.get("/v1/me").status_code == 200
    out = session.delete("/v1/sessions/current")
    assert out.status_code == 204, out.text
    position(out)
    problem(session.get("/v1/me"), 401, "unauthorized")


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(setup, http):
    created = new_operator(setup)
    assert accept(http, created["invite_code"]).status_code == 200
    wrong = sign_in(http, created["email"], "not the password")
    unknown = sign_in(http, f"nobody-{uuid.uuid4().hex}@example.com")
    never_accepted = sign_in(http, new_operator(setup)["email"])
    for response in (wrong, unknown, never_accepted):
        problem(response, 401, "bad_credentials")
    assert wrong.json()["detail"] == unknown.json()["detail"] == never_accepted.json()["detail"]


def test_a_wrong_password_and_an_unknown_email_take_about_as_long(setup, http):
    known = []
    for _ in range(2):
        created = new_operator(setup)
        assert accept(http, created["invite_code"]).status_code == 200
        known.append(created["email"])
    client = http()

    def timed(email: str, password: str) -> float:
        started = time.perf_counter()
        answer = client.post("/v1/sessions", json={"email": email, "password": password})
        assert answer.status_code == 401, answer.text
        return time.perf_counter() - started

    wrong, unknown = [], []
    for attempt in range(8):  # alternated; four per known e-mail, under the throttle's limit
        wrong.append(timed(known[attempt % 2], "not the password"))
        unknown.append(timed(f"x{attempt}-{uuid.uuid4().hex}@example.com", "not the password"))
    # The argon2 verification dominates both; without the dummy hash the unknown e-mail
    # would answer several times faster.
    ratio = statistics.median(unknown) / statistics.median(wrong)
    assert 0.5 < ratio < 2, (wrong, unknown)


def test_more_than_five_failures_within_the_window_are_throttled(setup, http):
    created = new_operator(setup)
    assert accept(http, created["invite_code"]).status_code == 200
    for _ in range(5):
        problem(sign_in(http, created["email"], "not the password"), 401, "bad_credentials")

    throttled = sign_in(http, created["email"])  # even the right password now waits

    problem(throttled, 429, "too_many_attempts")
    retry_after = int(throttled.headers["Retry-After"])
    assert 0 < retry_after <= 15 * 60
    # Other e-mails are not affected.
    other = new_operator(setup)
    assert accept(http, other["invite_code"]).status_code == 200
    assert sign_in(http, other["email"]).status_code == 201


@pytest.mark.parametrize(
    "body",
    [{}, {"email": "a@example.com"}, {"password": PASSWORD}, {"email": 1, "password": PASSWORD}],
)
def test_bad_sign_in_bodies_are_refused(http, body):
    problem(http().post("/v1/sessions", json=body), 422, "validation")


def test_signing_out_needs_a_session(setup):
    problem(setup.admin.delete("/v1/sessions/current"), 403, "forbidden")
    problem(setup.bot().delete("/v1/sessions/current"), 403, "forbidden")


def test_a_deactivated_operator_cannot_sign_in_or_accept(setup, http):
    created = new_operator(setup)
    code = created["invite_code"]
    assert setup.admin.post(f"/v1/operators/{created['id']}/deactivate").status_code == 200
    problem(accept(http, code), 410, "invite_expired")
    problem(setup.admin.post(f"/v1/operators/{created['id']}/invite"), 409, "operator_deactivated")


# -- oneself ----------------------------------------------------------------------------------


def signed_in_operator(setup: Setup, http, **fields: Any) -> tuple[dict[str, Any], httpx.Client]:
    created = new_operator(setup, **fields)
    accepted = accept(http, created["invite_code"])
    assert accepted.status_code == 200, accepted.text
    return created, http(accepted.json()["token"])


def test_an_operator_renames_themselves_and_changes_their_password(setup, http):
    created, session = signed_in_operator(setup, http)

    renamed = session.patch("/v1/me", json={"first_name": "Anna", "last_name": "Leigh"})
    assert renamed.status_code == 200, renamed.text
    position(renamed)
    assert (renamed.json()["first_name"], renamed.json()["last_name"]) == ("Anna", "Leigh")

    changed = session.patch(
        "/v1/me", json={"password": "a new password!", "current_password": PASSWORD}
    )
    assert changed.status_code == 200, changed.text
    problem(sign_in(http, created["email"]), 401, "bad_credentials")
    assert sign_in(http, created["email"], "a new password!").status_code == 201


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"password": "a new password!"}, 422, "validation"),
        ({"password": "a new password!", "current_password": "wrong one!"}, 403, "wrong_password"),
        ({"password": "short", "current_password": PASSWORD}, 422, "validation"),
        ({"email": "me@example.com"}, 422, "validation"),
        ({"role": "admin"}, 422, "validation"),
        ({"first_name": ""}, 422, "validation"),
        ({"first_name": 5}, 422, "validation"),
    ],
)
def test_bad_changes_to_oneself_are_refused(setup, http, body, status, code):
    _, session = signed_in_operator(setup, http)
    problem(session.patch("/v1/me", json=body), status, code)


def test_me_is_for_operators(setup):
    problem(setup.token("bot").patch("/v1/me", json={"first_name": "B"}), 403, "forbidden")
    problem(setup.admin.post("/v1/me/heartbeat"), 403, "forbidden")


def test_the_heartbeat(setup, http):
    _, session = signed_in_operator(setup, http)
    beat = session.post("/v1/me/heartbeat")
    assert beat.status_code == 204, beat.text
    problem(http().post("/v1/me/heartbeat"), 401, "unauthorized")


# -- deactivation -----------------------------------------------------------------------------


def test_deactivation_locks_out_sends_chats_back_and_reactivation_lets_in_again(setup, http):
    group = setup.group()
    leaving, leaving_client = setup.operator(group["id"], max_chats=5)
    session = http(sign_in_after_accept(setup, http, leaving)["token"])
    bot = setup.bot()
    chat = bot.post(
        "/v1/chats",
        json={"external_id": uuid.uuid4().hex, "client": {"id": "c1"}, "group_id": group["id"]},
    ).json()
    assert chat["operator_id"] == leaving["id"]
    staying, _ = setup.operator(group["id"])

    done = setup.admin.post(f"/v1/operators/{leaving['id']}/deactivate")

    assert done.status_code == 200, done.text
    position(done)
    assert done.json()["status"] == "offline" and done.json()["load"] == 0
    moved = setup.admin.get(f"/v1/chats/{chat['id']}").json()
    assert moved["operator_id"] == staying["id"]
    problem(leaving_client.get("/v1/me"), 401, "unauthorized")
    problem(session.get("/v1/me"), 401, "unauthorized")
    problem(sign_in(http, leaving["email"]), 401, "bad_credentials")
    again = setup.admin.post(f"/v1/operators/{leaving['id']}/deactivate")
    assert again.status_code == 200  # repeating it is harmless

    back = setup.admin.post(f"/v1/operators/{leaving['id']}/reactivate")

    assert back.status_code == 200, back.text
    assert back.json()["status"] == "offline"
    problem(leaving_client.get("/v1/me"), 401, "unauthorized")  # old tokens stay dead
    assert sign_in(http, leaving["email"]).status_code == 201


def sign_in_after_accept(setup: Setup, http, operator: dict[str, Any]) -> dict[str, Any]:
    code = setup.admin.post(f"/v1/operators/{operator['id']}/invite").json()["invite_code"]
    accepted = accept(http, code)
    assert accepted.status_code == 200, accepted.text
    return accepted.json()


@pytest.mark.parametrize("action", ["deactivate", "reactivate", "invite"])
def test_operator_access_commands_need_a_supervisor_and_a_known_operator(setup, action):
    operator, client = setup.operator()
    problem(client.post(f"/v1/operators/{operator['id']}/{action}"), 403, "forbidden")
    problem(setup.admin.post(f"/v1/operators/{uuid.uuid4()}/{action}"), 404, "not_found")
    problem(setup.admin.post(f"/v1/operators/not-an-id/{action}"), 422, "validation")


# -- tokens -----------------------------------------------------------------------------------


def test_the_token_list_and_revocation(setup, http, server: ServerProcess):
    issued = setup.admin.post("/v1/tokens", json={"role": "analyst", "name": "listed-analyst"})
    analyst = http(issued.json()["token"])
    assert analyst.get("/v1/groups").status_code == 200  # used once
    _, session = signed_in_operator(setup, http)
    assert session.get("/v1/me").status_code == 200

    listed = setup.admin.get("/v1/tokens", params={"min_position": position(issued), "limit": 500})

    assert listed.status_code == 200, listed.text
    items = {item["name"]: item for item in listed.json()["items"]}
    item = items["listed-analyst"]
    assert set(item) >= {"id", "role", "name", "operator_id", "created_at", "last_used_at"}
    assert item["role"] == "analyst" and item["last_used_at"] is not None
    assert "token" not in item
    revoked = setup.admin.delete(f"/v1/tokens/{item['id']}")
    assert revoked.status_code == 204, revoked.text
    problem(analyst.get("/v1/groups"), 401, "unauthorized")
    problem(setup.admin.delete(f"/v1/tokens/{item['id']}"), 404, "not_found")
    after = setup.admin.get("/v1/tokens", params={"min_position": position(revoked)})
    assert item["id"] not in {item["id"] for item in after.json()["items"]}


def test_the_token_list_pages(setup):
    for _ in range(3):
        setup.token("analyst")
    first = setup.admin.get("/v1/tokens", params={"limit": 2})
    assert first.status_code == 200 and len(first.json()["items"]) == 2
    cursor = first.json()["next_cursor"]
    second = setup.admin.get("/v1/tokens", params={"limit": 2, "cursor": cursor})
    assert second.status_code == 200
    assert not {i["id"] for i in first.json()["items"]} & {i["id"] for i in second.json()["items"]}
    problem(setup.admin.get("/v1/tokens", params={"cursor": "nope"}), 400, "bad_cursor")
    problem(setup.admin.get("/v1/tokens", params={"limit": 0}), 422, "validation")


def test_tokens_are_for_admins(setup):
    problem(setup.token("supervisor").get("/v1/tokens"), 403, "forbidden")
    problem(setup.token("auditor").delete(f"/v1/tokens/{uuid.uuid4()}"), 403, "forbidden")
    problem(setup.admin.delete("/v1/tokens/not-an-id"), 422, "validation")
