"""End-to-end fixtures: a real ``switchboard serve`` process over HTTP, on a database of its own.

One server per test module keeps the cost low (start-up is the slow part); tests stay
independent by making their own groups, operators and bots with fresh names.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import scratch_database

SWITCHBOARD = Path(sys.executable).parent / "switchboard"
STARTUP_TIMEOUT_S = 30.0
# Beyond the server's own 10 s for requests in flight (a long poll), with room for a busy machine.
SHUTDOWN_TIMEOUT_S = 30.0
# Short, so that a query waiting on a position nobody reaches answers 504 quickly.
READ_WAIT_S = "0.5"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ServerProcess:
    """One ``switchboard serve`` subprocess; ``start`` and ``stop`` may be called again."""

    database_url: str
    workdir: Path
    admin_token: str = field(default_factory=lambda: "sb_admin_" + secrets.token_urlsafe(24))
    extra_env: dict[str, str] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)  # more options for ``serve``
    port: int = 0
    process: subprocess.Popen | None = None
    runs: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def stderr_path(self) -> Path:
        return self.workdir / f"server-{self.runs}.stderr"

    def env(self) -> dict[str, str]:
        inherited = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("SWITCHBOARD_") and key not in ("DATABASE_URL", "REDIS_URL")
        }
        return {
            **inherited,
            "DATABASE_URL": self.database_url,
            "SWITCHBOARD_ADMIN_TOKEN": self.admin_token,
            "SWITCHBOARD_LOG_LEVEL": "WARNING",
            "SWITCHBOARD_DATA": str(self.workdir / "data"),
            "SWITCHBOARD_READ_WAIT_S": READ_WAIT_S,
            # The database server's connections are shared by every test process.
            "SWITCHBOARD_DB_POOL_SIZE": "4",
            **self.extra_env,
        }

    def start(self) -> None:
        assert self.process is None, "already running"
        self.runs += 1
        self.port = free_port()
        with open(self.stderr_path, "wb") as stderr, open(os.devnull, "wb") as stdout:
            # cwd: a directory of our own, so no stray .env or ./.switchboard is picked up.
            self.process = subprocess.Popen(
                [
                    str(SWITCHBOARD),
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    *self.args,
                ],
                env=self.env(),
                cwd=self.workdir,
                stdout=stdout,
                stderr=stderr,
            )
        self._wait_healthy()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                self.process = None
                pytest.fail(f"switchboard serve exited with {code} at start-up:\n{self.stderr()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)  # polling start-up is the one wait allowed here
        self._kill()
        pytest.fail(
            f"switchboard serve not healthy within {STARTUP_TIMEOUT_S:g}s:\n{self.stderr()}"
        )

    def stop(self) -> int:
        """SIGINT, as Ctrl-C would; returns the exit code (killed after a bounded wait)."""
        assert self.process is not None, "not running"
        self.process.send_signal(signal.SIGINT)
        try:
            code = self.process.wait(timeout=SHUTDOWN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._kill()
            pytest.fail(
                f"switchboard serve ignored SIGINT for {SHUTDOWN_TIMEOUT_S:g}s:\n{self.stderr()}"
            )
        self.process = None
        return code

    def _kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")[-10_000:]

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base_url, timeout=10, headers=headers)


@dataclass
class WorkerProcess:
    """One ``switchboard worker`` subprocess, ready once its metrics port answers."""

    database_url: str
    workdir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    metrics_port: int = 0
    process: subprocess.Popen | None = None
    runs: int = 0

    @property
    def stderr_path(self) -> Path:
        return self.workdir / f"worker-{id(self)}-{self.runs}.stderr"

    def start(self) -> None:
        assert self.process is None, "already running"
        self.runs += 1
        self.metrics_port = free_port()
        env = ServerProcess(self.database_url, self.workdir, extra_env=self.extra_env).env()
        with open(self.stderr_path, "wb") as stderr, open(os.devnull, "wb") as stdout:
            self.process = subprocess.Popen(
                [str(SWITCHBOARD), "worker", "--metrics-port", str(self.metrics_port)],
                env=env,
                cwd=self.workdir,
                stdout=stdout,
                stderr=stderr,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code, self.process = self.process.returncode, None
                pytest.fail(f"switchboard worker exited with {code}:\n{self.stderr()}")
            try:
                url = f"http://127.0.0.1:{self.metrics_port}/metrics"
                if httpx.get(url, timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)  # polling start-up
        self.kill()
        pytest.fail(f"switchboard worker not up within {STARTUP_TIMEOUT_S:g}s:\n{self.stderr()}")

    def metrics(self) -> str:
        return httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).text

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as when a machine dies."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def stop(self) -> int:
        assert self.process is not None, "not running"
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=SHUTDOWN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"switchboard worker ignored SIGTERM:\n{self.stderr()}")
        self.process = None
        return code

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")[-10_000:]


def stop_cleanly(server: ServerProcess) -> None:
    code = server.stop()
    assert code == 0, f"switchboard serve exited with {code}:\n{server.stderr()}"


@contextmanager
def serving(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, **env: str
) -> Iterator[ServerProcess]:
    """A ``switchboard serve`` with ``env`` added to its environment, stopped cleanly (exit 0
    on SIGINT) at the end: the body of a module's own ``server`` fixture."""
    process = ServerProcess(database_url, tmp_path_factory.mktemp("switchboard"), extra_env=env)
    process.start()
    try:
        yield process
    finally:
        if process.process is not None:
            stop_cleanly(process)


@pytest.fixture(scope="module")
def module_database_url(pg_server_url: str) -> Iterator[str]:
    """A database for one module's server, dropped afterwards."""
    with scratch_database(pg_server_url, prefix="sb_e2e") as url:
        yield url


@pytest.fixture(scope="module")
def server(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """A running ``switchboard serve`` shared by one module's tests; must exit 0 on SIGINT."""
    with serving(module_database_url, tmp_path_factory) as process:
        yield process


@pytest.fixture
def http(server: ServerProcess) -> Iterator[Callable[..., httpx.Client]]:
    """``http(token)``: an httpx client on the server, as that token (or none)."""
    clients: list[httpx.Client] = []

    def make(token: str | None = None) -> httpx.Client:
        clients.append(server.client(token))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


def position(response: httpx.Response) -> int:
    """The X-Position a command answered with; every command must give one."""
    value = response.headers.get("X-Position")
    assert value is not None and value.isdigit(), (
        f"{response.request.method} {response.request.url.path} gave X-Position {value!r}"
    )
    return int(value)


@dataclass
class Setup:
    """What an admin does first, with fresh names so tests sharing a server don't meet."""

    admin: httpx.Client
    make_client: Callable[..., httpx.Client]
    suffix: str = field(default_factory=lambda: uuid.uuid4().hex[:10])

    def group(self, **fields: Any) -> dict[str, Any]:
        response = self.admin.post(
            "/v1/groups", json={"name": f"group {self.suffix}-{uuid.uuid4().hex[:6]}", **fields}
        )
        assert response.status_code == 201, response.text
        position(response)
        return response.json()

    def operator(
        self, *group_ids: str, working: bool = True, **fields: Any
    ) -> tuple[dict[str, Any], httpx.Client]:
        """A new operator of these groups, and a client holding their token."""
        response = self.admin.post(
            "/v1/operators",
            json={
                "first_name": "Olga",
                "last_name": f"Op{self.suffix}",
                "email": f"op-{uuid.uuid4().hex[:12]}@example.com",
                "group_ids": list(group_ids),
                **fields,
            },
        )
        assert response.status_code == 201, response.text
        position(response)
        operator = response.json()
        client = self.make_client(operator.pop("token"))
        if working:
            answer = client.put(
                f"/v1/operators/{operator['id']}/status", json={"status": "working"}
            )
            assert answer.status_code == 200, answer.text
            position(answer)
            operator = answer.json()
        return operator, client

    def token(self, role: str) -> httpx.Client:
        response = self.admin.post(
            "/v1/tokens", json={"role": role, "name": f"{role}-{uuid.uuid4().hex[:12]}"}
        )
        assert response.status_code == 201, response.text
        position(response)
        return self.make_client(response.json()["token"])

    def bot(self) -> httpx.Client:
        return self.token("bot")


@pytest.fixture
def setup(server: ServerProcess, http: Callable[..., httpx.Client]) -> Setup:
    return Setup(admin=http(server.admin_token), make_client=http)
