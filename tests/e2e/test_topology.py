"""The production shapes of `switchboard serve`: several API processes on one port with the
worker beside them, and API-only processes that need a worker."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import httpx

from tests.e2e.conftest import ServerProcess, Setup, WorkerProcess, position, stop_cleanly
from tests.e2e.sse import StreamReader, about

READ_SIDE_FAMILIES = (
    "switchboard_event_log_position",
    "switchboard_read_model_position",
    "switchboard_read_model_lag_events",
)


def declarations(text: str, name: str) -> list[str]:
    """A metric family's HELP and TYPE lines."""
    return [
        line
        for line in text.splitlines()
        if line.startswith((f"# HELP {name} ", f"# TYPE {name} "))
    ]


def read_model_position(text: str, name: str) -> float | None:
    found = re.search(
        rf'^switchboard_read_model_position{{read_model="{name}"}} ([0-9.e+]+)$', text, re.MULTILINE
    )
    return float(found.group(1)) if found else None


def test_serve_with_several_api_processes_and_the_inline_worker(
    database_url: str, tmp_path: Path
) -> None:
    server = ServerProcess(database_url, tmp_path, args=["--workers", "2"])
    server.start()
    try:
        with server.client(server.admin_token) as admin:
            setup = Setup(admin=admin, make_client=server.client)
            group = setup.group()
            _, op = setup.operator(group["id"])
            bot = setup.bot()
            token = op.headers["Authorization"].removeprefix("Bearer ")
            with StreamReader(server.base_url, token) as stream:
                stream.until(lambda e: e.event == "ready")
                answer = bot.post(
                    "/v1/chats",
                    json={
                        "external_id": f"e-{uuid.uuid4()}",
                        "client": {"id": "c"},
                        "group_id": group["id"],
                    },
                )
                assert answer.status_code == 201, answer.text
                chat_id = answer.json()["id"]
                # Whichever process the stream landed on, the change reaches it.
                stream.until(lambda e: about(chat_id)(e) and e.data["operator_id"] is not None)
            mine = op.get("/v1/dashboard", params={"tab": "mine", "min_position": position(answer)})
            assert [row["id"] for row in mine.json()["items"]] == [chat_id]
            # The processes' metrics are added up: every request above is counted once.
            for _ in range(6):
                assert admin.get("/healthz").status_code == 200
            text = httpx.get(f"{server.base_url}/metrics", timeout=10).text
            counted = re.findall(
                r'^switchboard_http_requests_total{method="GET",route="/healthz",status="200"}'
                r" ([0-9.]+)$",
                text,
                re.MULTILINE,
            )
            assert counted and float(counted[0]) >= 6 + 1, counted  # start-up probes too
            assert re.search(r"^switchboard_event_log_position [1-9]", text, re.MULTILINE)
    finally:
        stop_cleanly(server)


def test_an_api_only_process_reads_what_a_separate_worker_keeps(
    database_url: str, tmp_path: Path
) -> None:
    api = ServerProcess(database_url, tmp_path, args=["--worker", "external"])
    api.start()
    worker = WorkerProcess(database_url, tmp_path)
    try:
        with api.client(api.admin_token) as admin:
            setup = Setup(admin=admin, make_client=api.client)
            created = admin.post("/v1/groups", json={"name": f"g-{uuid.uuid4().hex[:8]}"})
            assert created.status_code == 201
            # No worker yet: commands work, the read models do not move.
            waited = admin.get("/v1/groups", params={"min_position": position(created)})
            assert waited.status_code == 504
            assert admin.get("/readyz").json()["lag"]["directory"] > 0
            worker.start()
            listed = admin.get("/v1/groups", params={"min_position": position(created)})
            assert listed.status_code == 200
            assert created.json()["id"] in [g["id"] for g in listed.json()["items"]]
            assert setup.group()["id"]
            # The log and read-model figures read alike from the API and the worker.
            served = httpx.get(f"{api.base_url}/metrics", timeout=10).text
            kept = worker.metrics()
            for name in READ_SIDE_FAMILIES:
                assert declarations(served, name) == declarations(kept, name), name
                assert len(declarations(kept, name)) == 2, kept
            for text in (served, kept):
                at = read_model_position(text, "directory")
                assert at is not None and at >= position(created), text
        assert worker.stop() == 0
    finally:
        worker.kill()
        stop_cleanly(api)


def test_json_logs_and_metrics_by_route_and_command(database_url: str, tmp_path: Path) -> None:
    server = ServerProcess(
        database_url,
        tmp_path,
        extra_env={"SWITCHBOARD_LOG_FORMAT": "json", "SWITCHBOARD_LOG_LEVEL": "INFO"},
    )
    server.start()
    try:
        with server.client(server.admin_token) as admin:
            created = admin.post(
                "/v1/groups",
                json={"name": f"g-{uuid.uuid4().hex[:8]}"},
                headers={"X-Request-ID": "trace-42"},
            )
            assert created.status_code == 201
            assert created.headers["x-request-id"] == "trace-42"
            group_id = created.json()["id"]
            assert admin.get(f"/v1/groups/{group_id}").status_code == 200
            assert admin.post("/v1/groups", json={"name": ""}).status_code == 422
            text = httpx.get(f"{server.base_url}/metrics", timeout=10).text
    finally:
        stop_cleanly(server)

    def sample(name: str, labels: str) -> float:
        found = re.search(rf"^{name}{{{labels}}} ([0-9.e+-]+)$", text, re.MULTILINE)
        assert found, f"{name}{{{labels}}} not in /metrics"
        return float(found.group(1))

    # By the route's template, not the path (ids would make every path a new series).
    assert (
        sample(
            "switchboard_http_requests_total",
            'method="GET",route="/v1/groups/{group_id}",status="200"',
        )
        == 1
    )
    assert (
        sample(
            "switchboard_http_request_duration_seconds_count",
            'method="GET",route="/v1/groups/{group_id}"',
        )
        == 1
    )
    assert sample("switchboard_commands_total", 'command="create_group",outcome="ok"') == 1
    assert sample("switchboard_commands_total", 'command="create_group",outcome="rejected"') == 1

    lines = [line for line in server.stderr().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is a JSON object
    access = [r for r in records if r["logger"] == "switchboard.access"]
    traced = [r for r in access if r.get("request_id") == "trace-42"]
    assert traced and traced[0]["route"] == "/v1/groups" and traced[0]["status"] == 201
    assert {"time", "level", "message", "duration_ms", "method", "path"} <= set(traced[0])
