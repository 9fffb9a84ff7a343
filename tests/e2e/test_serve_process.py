"""The process itself: what was written survives a restart on the same database, and a signal
stops it gracefully (in-flight requests answered, the embedded PostgreSQL stopped, exit 0)."""

from __future__ import annotations

import json
import signal
import socket
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.e2e.conftest import SHUTDOWN_TIMEOUT_S, ServerProcess, position, stop_cleanly


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


def _until_refused(port: int, timeout: float = 10.0) -> None:
    """Wait until the port takes no new connection: the server has begun to shut down."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return
        time.sleep(0.05)  # polling for the listener to close
    raise AssertionError(f"port {port} still accepts connections")


def _read_response(sock: socket.socket) -> bytes:
    received = b""
    while chunk := sock.recv(65536):  # the server closes the connection after answering
        received += chunk
    return received


def test_sigterm_finishes_the_request_in_flight_then_exits_0(
    database_url: str, tmp_path: Path
) -> None:
    server = ServerProcess(database_url, tmp_path)
    server.start()
    try:
        body = json.dumps({"name": f"late {uuid.uuid4().hex[:8]}"}).encode()
        head = (
            "POST /v1/groups HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{server.port}\r\n"
            f"Authorization: Bearer {server.admin_token}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            "Expect: 100-continue\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
            sock.sendall(head)
            # "100 Continue": the app is reading the body, so the request is in flight.
            assert sock.recv(64).startswith(b"HTTP/1.1 100 Continue")
            server.process.send_signal(signal.SIGTERM)
            _until_refused(server.port)
            sock.sendall(body)
            answer = _read_response(sock)
        status_line, _, rest = answer.partition(b"\r\n")
        assert status_line.split()[1] == b"201", answer.decode(errors="replace")
        assert json.loads(rest.partition(b"\r\n\r\n")[2])["name"].startswith("late ")
        code = server.process.wait(timeout=SHUTDOWN_TIMEOUT_S)
        server.process = None
        assert code == 0, f"switchboard serve exited with {code} on SIGTERM:\n{server.stderr()}"
        assert "Traceback" not in server.stderr()
    finally:
        if server.process is not None:
            server.process.kill()
            server.process.wait()


def test_sigterm_answers_a_waiting_long_poll_at_once_then_exits_0(
    database_url: str, tmp_path: Path
) -> None:
    """A bot's long poll (``GET /v1/events?wait=25``) does not hold a restart: the server
    answers it, empty and with ``next_after``, once it is told to stop, instead of holding
    the shutdown until its 10 s grace ends and the request is cut off unanswered."""
    server = ServerProcess(database_url, tmp_path)
    server.start()
    try:
        with server.client(server.admin_token) as admin, ThreadPoolExecutor(1) as pool:
            # After a position far ahead of the log: nothing will come, the poll just waits.
            polling = pool.submit(
                admin.get, "/v1/events", params={"after": 10**9, "wait": 25}, timeout=40
            )
            time.sleep(1.0)  # the request has reached its wait
            assert not polling.done()
            server.process.send_signal(signal.SIGTERM)
            stopped = time.monotonic()
            answer = polling.result(timeout=SHUTDOWN_TIMEOUT_S)
            answered_s = time.monotonic() - stopped
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"items": [], "next_after": 10**9}
        assert answered_s < 5, f"the poll was held {answered_s:.1f}s after SIGTERM"
        code = server.process.wait(timeout=SHUTDOWN_TIMEOUT_S)
        server.process = None
        assert code == 0, f"switchboard serve exited with {code} on SIGTERM:\n{server.stderr()}"
    finally:
        if server.process is not None:
            server.process.kill()
            server.process.wait()


class EmbeddedServerProcess(ServerProcess):
    """``switchboard serve`` without ``DATABASE_URL``: its own PostgreSQL under its data dir."""

    def env(self) -> dict[str, str]:
        env = super().env()
        del env["DATABASE_URL"]
        return env


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_the_embedded_postgresql_and_exits_0(
    tmp_path: Path, signum: signal.Signals
) -> None:
    server = EmbeddedServerProcess("", tmp_path)
    server.start()
    postmaster = tmp_path / "data" / "pgdata" / "postmaster.pid"
    try:
        with server.client(server.admin_token) as admin:
            assert admin.post("/v1/groups", json={"name": "embedded"}).status_code == 201
        assert postmaster.exists()
        server.process.send_signal(signum)
        code = server.process.wait(timeout=SHUTDOWN_TIMEOUT_S)
        server.process = None
        assert code == 0, f"switchboard serve exited with {code}:\n{server.stderr()}"
        assert not postmaster.exists(), "the embedded PostgreSQL was left running"
    finally:
        if server.process is not None:
            server.process.kill()
            server.process.wait()
