"""`switchboard projections status|rebuild` against a running server's database."""

from __future__ import annotations

from tests.e2e.conftest import ServerProcess, Setup, position
from tests.e2e.test_audit_cli import a_full_chat, run_cli


def test_status_shows_each_read_model_followed_and_caught_up(
    server: ServerProcess, setup: Setup
) -> None:
    a_full_chat(setup)
    marker = position(setup.admin.post("/v1/tokens", json={"role": "bot", "name": "marker"}))
    assert setup.admin.get(
        "/v1/dashboard", params={"tab": "all", "min_position": marker}
    ).is_success

    result = run_cli(server, "projections", "status")

    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()[1:]}
    assert {"directory", "dashboard", "history", "reports"} <= set(rows)
    for name in ("directory", "dashboard"):
        assert int(rows[name][1]) >= marker
        assert rows[name][4] == "running"


def test_rebuild_swaps_in_a_read_model_the_server_keeps_serving(
    server: ServerProcess, setup: Setup
) -> None:
    chat_id = a_full_chat(setup)

    result = run_cli(server, "projections", "rebuild", "dashboard")

    assert result.returncode == 0, result.stderr
    assert "dashboard: rebuilt and swapped in at position" in result.stdout
    # The server reads the swapped-in tables, and its runner carries on live.
    rows = setup.admin.get("/v1/dashboard", params={"tab": "closed", "limit": 500}).json()
    assert chat_id in [row["id"] for row in rows["items"]]
    later = a_full_chat(setup)
    marker = position(setup.admin.post("/v1/tokens", json={"role": "bot", "name": "marker2"}))
    rows = setup.admin.get(
        "/v1/dashboard", params={"tab": "closed", "limit": 500, "min_position": marker}
    )
    assert rows.status_code == 200, rows.text
    assert later in [row["id"] for row in rows.json()["items"]]


def test_rebuild_of_every_read_model_in_two_processes(server: ServerProcess, setup: Setup) -> None:
    chat_id = a_full_chat(setup)

    result = run_cli(server, "projections", "rebuild", "--processes", "2")

    assert result.returncode == 0, result.stderr
    swapped = [line.split(":")[0] for line in result.stdout.splitlines() if "swapped in" in line]
    assert sorted(swapped) == ["clients", "dashboard", "directory", "events", "history", "reports"]
    # Every model serves what it held before, and carries on live.
    later = a_full_chat(setup)
    marker = position(setup.admin.post("/v1/tokens", json={"role": "bot", "name": "marker3"}))
    rows = setup.admin.get(
        "/v1/dashboard", params={"tab": "closed", "limit": 500, "min_position": marker}
    )
    assert {chat_id, later} <= {row["id"] for row in rows.json()["items"]}
    found = setup.admin.get("/v1/history", params={"limit": 500, "min_position": marker})
    assert {chat_id, later} <= {row["id"] for row in found.json()["items"]}
    status = run_cli(server, "projections", "status")
    rows = {line.split()[0]: line.split() for line in status.stdout.splitlines()[1:]}
    assert all(int(rows[name][1]) >= marker for name in swapped)


def test_rebuild_of_an_unknown_read_model_names_the_known_ones(server: ServerProcess) -> None:
    result = run_cli(server, "projections", "rebuild", "nonsense")
    assert result.returncode == 2
    assert "no read model 'nonsense'" in result.stderr
    assert "dashboard" in result.stderr
