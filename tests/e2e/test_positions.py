"""Read-your-writes at the edges: a position beyond the log's head is refused at once (422
``bad_position``); one the log has reached but the read model has not yet is waited for,
then 504."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import ServerProcess, position, stop_cleanly

READ_WAIT_S = 3.0  # long, so that answering "at once" is told apart from waiting it out
QUERIES = ("/v1/groups", "/v1/operators", "/v1/history")


@pytest.fixture(scope="module")
def api_only(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """An API process with no worker: commands move the log, the read models stay put."""
    server = ServerProcess(
        module_database_url,
        tmp_path_factory.mktemp("positions"),
        extra_env={"SWITCHBOARD_READ_WAIT_S": str(READ_WAIT_S)},
        args=["--worker", "external"],
    )
    server.start()
    try:
        yield server
    finally:
        if server.process is not None:
            stop_cleanly(server)


def _problem(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code


@pytest.mark.parametrize("path", QUERIES)
def test_a_position_beyond_the_head_is_refused_at_once(api_only: ServerProcess, path: str) -> None:
    with api_only.client(api_only.admin_token) as admin:
        created = admin.post("/v1/groups", json={"name": f"g-{uuid.uuid4().hex[:8]}"})
        assert created.status_code == 201, created.text
        beyond = position(created) + 1_000
        started = time.monotonic()
        response = admin.get(path, params={"min_position": beyond})
        elapsed = time.monotonic() - started
    _problem(response, 422, "bad_position")
    assert str(beyond) in response.json()["detail"]
    assert elapsed < READ_WAIT_S / 2, f"answered after {elapsed:.2f}s: it waited"


def test_a_position_the_log_reached_is_waited_for(api_only: ServerProcess) -> None:
    with api_only.client(api_only.admin_token) as admin:
        created = admin.post("/v1/groups", json={"name": f"g-{uuid.uuid4().hex[:8]}"})
        assert created.status_code == 201, created.text
        started = time.monotonic()
        response = admin.get("/v1/groups", params={"min_position": position(created)})
        elapsed = time.monotonic() - started
    _problem(response, 504, "timeout")  # no worker keeps the read models here
    assert elapsed >= READ_WAIT_S * 0.9
