"""No password, token or invitation code is ever written to a log: a server logging at DEBUG
goes through every step of staff accounts, and its whole log is searched for each secret."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import scratch_database
from tests.e2e.conftest import ServerProcess, stop_cleanly


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_secret_reaches_the_log(pg_server_url, tmp_path, log_format):
    with scratch_database(pg_server_url, prefix="sb_e2e") as url:
        server = ServerProcess(
            url,
            tmp_path,
            extra_env={"SWITCHBOARD_LOG_LEVEL": "DEBUG", "SWITCHBOARD_LOG_FORMAT": log_format},
        )
        server.start()
        try:
            secrets = _every_step(server)
        finally:
            stop_cleanly(server)
    log = server.stderr_path.read_text(errors="replace")
    assert "/v1/sessions" in log and "/v1/invitations/***/accept" in log  # requests are logged
    for name, secret in secrets.items():
        assert secret not in log, f"the {name} is in the log"


def _every_step(server: ServerProcess) -> dict[str, str]:
    password, new_password = f"pw-{uuid.uuid4().hex}", f"pw2-{uuid.uuid4().hex}"
    with server.client(server.admin_token) as admin, server.client() as anyone:
        created = admin.post(
            "/v1/operators",
            json={"first_name": "A", "last_name": "B", "email": f"{uuid.uuid4().hex}@ex.com"},
        ).json()
        code = created["invite_code"]
        session = anyone.post(f"/v1/invitations/{code}/accept", json={"password": password})
        assert session.status_code == 200, session.text
        wrong = anyone.post("/v1/sessions", json={"email": created["email"], "password": "nope"})
        assert wrong.status_code == 401
        signed_in = anyone.post(
            "/v1/sessions", json={"email": created["email"], "password": password}
        )
        assert signed_in.status_code == 201, signed_in.text
        token = signed_in.json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        changed = anyone.patch(
            "/v1/me",
            json={"password": new_password, "current_password": password},
            headers=headers,
        )
        assert changed.status_code == 200, changed.text
        assert (
            anyone.post(f"/v1/invitations/{code}/accept", json={"password": password}).status_code
            == 410
        )
        reset = admin.post(f"/v1/operators/{created['id']}/invite").json()["invite_code"]
        bot = admin.post("/v1/tokens", json={"role": "bot", "name": "b"}).json()["token"]
        with anyone.stream("GET", "/v1/stream", params={"access_token": token}) as stream:
            assert stream.status_code == 200  # a token in a query string is not logged either
        assert anyone.delete("/v1/sessions/current", headers=headers).status_code == 204
    return {
        "password": password,
        "new password": new_password,
        "invitation code": code,
        "second invitation code": reset,
        "operator token": created["token"],
        "session token": token,
        "bot token": bot,
        "admin token": server.admin_token,
    }
