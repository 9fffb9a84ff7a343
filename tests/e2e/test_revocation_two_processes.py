"""A revocation, a sign-out, a deactivation or a change of role made through one API process
holds in another at once: each process checks its authentication cache against the event
log's position before using it, so nothing waits out a time-to-live.

Each token is first used on the second process (so that process has it cached), then changed
through the first, then used on the second again straight away: no sleep, no retry.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import scratch_database
from tests.e2e.conftest import ServerProcess, position, stop_cleanly
from tests.e2e.sse import StreamReader

PASSWORD = "two processes, one log"


@pytest.fixture(scope="module")
def servers(
    pg_server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    with scratch_database(pg_server_url, prefix="sb_e2e") as url:
        first = ServerProcess(url, tmp_path_factory.mktemp("auth-a"))
        # The second is API only: it learns of changes only through the shared database.
        second = ServerProcess(
            url,
            tmp_path_factory.mktemp("auth-b"),
            admin_token=first.admin_token,
            extra_env={"SWITCHBOARD_WORKER": "external"},
        )
        first.start()
        try:
            second.start()
            try:
                yield first, second
            finally:
                stop_cleanly(second)
        finally:
            stop_cleanly(first)


@pytest.fixture
def clients(servers) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """Admin clients on the first and the second process."""
    first, second = servers
    with first.client(first.admin_token) as a, second.client(second.admin_token) as b:
        yield a, b


def _as(client: httpx.Client, token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _warm(client: httpx.Client, token: str, path: str = "/v1/me") -> None:
    for _ in range(3):
        answer = client.get(path, headers=_as(client, token))
        assert answer.status_code == 200, answer.text


def _operator(admin: httpx.Client) -> tuple[dict, str, str]:
    """A new operator, their own token, and a session from accepting their invitation."""
    created = admin.post(
        "/v1/operators",
        json={"first_name": "Ann", "last_name": "Lee", "email": f"{uuid.uuid4().hex}@ex.com"},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    accepted = admin.post(
        f"/v1/invitations/{body['invite_code']}/accept", json={"password": PASSWORD}
    )
    assert accepted.status_code == 200, accepted.text
    return body, body["token"], accepted.json()["token"]


def test_a_revoked_token_stops_at_once_in_the_other_process(clients):
    a, b = clients
    token = a.post("/v1/tokens", json={"role": "analyst", "name": "leaving"}).json()["token"]
    _warm(b, token, "/v1/groups")
    listed = a.get("/v1/tokens", params={"limit": 500}).json()["items"]
    token_id = next(item["id"] for item in listed if item["name"] == "leaving")

    assert a.delete(f"/v1/tokens/{token_id}").status_code == 204

    assert b.get("/v1/groups", headers=_as(b, token)).status_code == 401


def test_a_sign_out_holds_at_once_in_the_other_process(clients):
    a, b = clients
    _, _, session = _operator(a)
    _warm(b, session)

    assert a.delete("/v1/sessions/current", headers=_as(a, session)).status_code == 204

    assert b.get("/v1/me", headers=_as(b, session)).status_code == 401


def test_a_deactivation_holds_at_once_in_the_other_process(clients):
    a, b = clients
    operator, token, session = _operator(a)
    _warm(b, token)
    _warm(b, session)

    done = a.post(f"/v1/operators/{operator['id']}/deactivate")
    assert done.status_code == 200, done.text
    position(done)

    assert b.get("/v1/me", headers=_as(b, token)).status_code == 401
    assert b.get("/v1/me", headers=_as(b, session)).status_code == 401
    # Reactivated through the second process, signing in works on the first at once.
    assert b.post(f"/v1/operators/{operator['id']}/reactivate").status_code == 200
    signed_in = a.post("/v1/sessions", json={"email": operator["email"], "password": PASSWORD})
    assert signed_in.status_code == 201, signed_in.text
    assert b.get("/v1/me", headers=_as(b, signed_in.json()["token"])).status_code == 200
    assert b.get("/v1/me", headers=_as(b, token)).status_code == 401  # old tokens stay dead


def test_a_change_of_role_holds_at_once_in_the_other_process(clients):
    a, b = clients
    operator, token, _ = _operator(a)
    _warm(b, token)
    assert b.get("/v1/operators", headers=_as(b, token)).status_code == 403

    promoted = a.patch(f"/v1/operators/{operator['id']}", json={"role": "supervisor"})
    assert promoted.status_code == 200, promoted.text

    assert b.get("/v1/operators", headers=_as(b, token)).status_code == 200


def test_an_open_stream_on_the_other_process_ends_at_its_next_look(servers, clients):
    """A live stream holds no request to refuse: its process looks, about once a second,
    whether the tokens of its open streams still hold, and ends those that do not."""
    _, second = servers
    a, _ = clients
    _, _, session = _operator(a)
    with StreamReader(second.base_url, session) as stream:
        assert stream.status == 200, stream.body
        stream.until(lambda e: e.event == "ready")

        assert a.delete("/v1/sessions/current", headers=_as(a, session)).status_code == 204

        (*_, ended) = stream.until(lambda e: e.event == "ended", timeout=10)
        assert ended.data == {"reason": "access_ended"}
        assert stream.ended.wait(10)
