"""Sessions end by the clock on a real server: after ``SWITCHBOARD_SESSION_TTL_H`` (here a
few seconds), and after the operator's ``auto_logout_s`` without an action or a heartbeat.
These wait for real time to pass: the expiry is what is being tested."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest

from tests.conftest import scratch_database
from tests.e2e.conftest import ServerProcess, stop_cleanly

TTL_H = 0.0015  # 5.4 seconds
PASSWORD = "expiring passphrase"


@pytest.fixture(scope="module")
def short_lived(pg_server_url, tmp_path_factory) -> Iterator[ServerProcess]:
    with scratch_database(pg_server_url, prefix="sb_e2e") as url:
        server = ServerProcess(
            url,
            tmp_path_factory.mktemp("sessions"),
            extra_env={"SWITCHBOARD_SESSION_TTL_H": str(TTL_H)},
        )
        server.start()
        try:
            yield server
        finally:
            stop_cleanly(server)


def _session(server: ServerProcess, **fields) -> tuple[str, datetime]:
    with server.client(server.admin_token) as admin:
        created = admin.post(
            "/v1/operators",
            json={"first_name": "A", "last_name": "B", "email": f"{uuid.uuid4().hex}@ex.com"}
            | fields,
        )
        assert created.status_code == 201, created.text
        created = created.json()
        accepted = admin.post(
            f"/v1/invitations/{created['invite_code']}/accept", json={"password": PASSWORD}
        )
        signed_in = admin.post(
            "/v1/sessions", json={"email": created["email"], "password": PASSWORD}
        )
    assert accepted.status_code == 200 and signed_in.status_code == 201, signed_in.text
    body = signed_in.json()
    return body["token"], datetime.fromisoformat(body["expires_at"])


def test_a_session_ends_after_its_time(short_lived: ServerProcess):
    token, expires_at = _session(short_lived)
    with short_lived.client(token) as session:
        assert session.get("/v1/me").status_code == 200
        time.sleep(max(0.0, expires_at.timestamp() - time.time()) + 0.2)
        assert session.get("/v1/me").status_code == 401


def test_a_session_ends_after_auto_logout_without_activity(short_lived: ServerProcess):
    token, _ = _session(short_lived, auto_logout_s=2)
    with short_lived.client(token) as session:
        time.sleep(1.0)
        assert session.post("/v1/me/heartbeat").status_code == 204
        time.sleep(1.0)
        assert session.get("/v1/me").status_code == 200  # 1 s after the heartbeat
        time.sleep(1.8)
        # 2.8 s after the heartbeat, 1.8 s after the read: a read is no activity, so it ended.
        answer = session.get("/v1/me")
        assert answer.status_code == 401, answer.text
