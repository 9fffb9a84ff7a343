"""The process itself: what was written survives a restart on the same database."""

from __future__ import annotations

import uuid
from pathlib import Path

from tests.e2e.conftest import ServerProcess, position, stop_cleanly


def test_a_restarted_server_keeps_its_data(database_url: str, tmp_path: Path) -> None:
    server = ServerProcess(database_url, tmp_path)
    server.start()
    try:
        name = f"kept {uuid.uuid4().hex[:8]}"
        with server.client(server.admin_token) as admin:
            created = admin.post("/v1/groups", json={"name": name, "routing": "manual"})
            assert created.status_code == 201, created.text
            position(created)
        stop_cleanly(server)

        server.start()
        with server.client(server.admin_token) as admin:
            listed = admin.get("/v1/groups")
            assert listed.status_code == 200, listed.text
            kept = [g for g in listed.json()["items"] if g["id"] == created.json()["id"]]
            assert kept == [created.json()]
            assert kept[0]["name"] == name and kept[0]["routing"] == "manual"
            # The name is still taken: the uniqueness claim survived too.
            again = admin.post("/v1/groups", json={"name": name})
            assert again.status_code == 409, again.text
            assert again.json()["code"] == "already_exists"
    finally:
        if server.process is not None:
            stop_cleanly(server)
