"""Faults survived, with real processes: a worker SIGKILLed again and again, Redis going away
and coming back, a stream client that reads nothing, and PostgreSQL stopping mid-load.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.clock import FakeClock
from tests.conftest import IN_CI
from tests.e2e.conftest import (
    ServerProcess,
    Setup,
    WorkerProcess,
    free_port,
    stop_cleanly,
)
from tests.e2e.sse import StreamReader, about
from tests.integration.test_exactly_once import caught_up, running, snapshot

pytestmark = pytest.mark.slow


def token_of(client: httpx.Client) -> str:
    return client.headers["Authorization"].removeprefix("Bearer ")


def hand_off(bot: httpx.Client, group: dict[str, Any]) -> httpx.Response:
    return bot.post(
        "/v1/chats",
        json={
            "external_id": f"ext-{uuid.uuid4()}",
            "client": {"id": f"client-{uuid.uuid4().hex[:8]}", "channel": "web"},
            "group_id": group["id"],
        },
    )


def metric(server: ServerProcess, name: str) -> float:
    """The sum of a metric's samples on a server's /metrics."""
    text = httpx.get(f"{server.base_url}/metrics", timeout=10).text
    pattern = re.compile(rf"^{re.escape(name)}(?:{{[^}}]*}})? ([0-9.e+-]+)$", re.MULTILINE)
    return sum(float(value) for value in pattern.findall(text))


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:g}s")
        time.sleep(0.1)  # polling another process's state


def settled(server: ServerProcess, admin: httpx.Client, timeout: float = 60.0) -> int:
    """Wait until every read model has reached the log's head (as the API reports it)."""
    result: dict[str, Any] = {}

    def done() -> bool:
        body = admin.get("/readyz").json()
        result.update(body)
        return "lag" in body and all(lag == 0 for lag in body["lag"].values())

    wait_until(done, timeout, f"read models catching up ({result})")
    return result["position"]


def rebuilt_equals_live(database_url: str) -> None:
    """Every read model, rebuilt from nothing, equals the live one row for row."""
    live = snapshot(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA readmodels CASCADE")
    with running(database_url, FakeClock()) as fresh:
        caught_up(fresh)
    scratch = snapshot(database_url)
    assert set(scratch) == set(live)
    for table in live:
        if table.startswith("dispatcher"):
            continue  # it keeps no rows; its position moves with the drains it ran
        if scratch[table] != live[table]:
            differences = [
                {k: (a[k], b.get(k)) for k in a if a[k] != b.get(k)}
                for a, b in zip(live[table], scratch[table], strict=False)
                if a != b
            ]
            pytest.fail(
                f"{table}: {len(live[table])} live rows, {len(scratch[table])} rebuilt; "
                f"live vs rebuilt: {differences[:3]}"
            )


# -- the worker, killed again and again ------------------------------------------------------


def test_sigkilled_workers_lose_nothing_and_apply_nothing_twice(
    database_url: str, tmp_path: Path
) -> None:
    """Two workers (one follows, one stands by) SIGKILLed in turn under a load of commands:
    the other carries on, and the read models end equal to a rebuild from the log."""
    api = ServerProcess(database_url, tmp_path, args=["--worker", "external"])
    workers = [WorkerProcess(database_url, tmp_path), WorkerProcess(database_url, tmp_path)]
    api.start()
    for worker in workers:
        worker.start()
    try:
        with api.client(api.admin_token) as admin:
            setup = Setup(admin=admin, make_client=api.client)
            group = setup.group()
            for _ in range(3):
                setup.operator(group["id"], max_chats=500)
            bot = setup.bot()
            supervisor = setup.token("supervisor")
            stop, failures, done = threading.Event(), [], []

            def load() -> None:
                n = 0
                while not stop.is_set():
                    n += 1
                    answer = hand_off(bot, group)
                    if answer.status_code != 201:
                        failures.append(answer.text)
                        continue
                    chat_id = answer.json()["id"]
                    said = bot.post(f"/v1/chats/{chat_id}/messages", json={"text": f"m{n}"})
                    if said.status_code != 201:
                        failures.append(said.text)
                    if n % 3 == 0:
                        closed = supervisor.post(f"/v1/chats/{chat_id}/close", json={})
                        if closed.status_code != 200:
                            failures.append(closed.text)
                    done.append(chat_id)

            loader = threading.Thread(target=load)
            loader.start()
            try:
                for kill in range(6):
                    time.sleep(1.0)
                    victim = workers[kill % 2]
                    victim.kill()  # mid-batch, as likely as not
                    time.sleep(0.7)
                    victim.start()
            finally:
                stop.set()
                loader.join(timeout=60)
            assert not failures, failures[:5]
            assert len(done) > 20, "the load ran"
            settled(api, admin)
            rows = admin.get("/v1/dashboard", params={"tab": "all", "limit": 500}).json()
            assert {row["id"] for row in rows["items"]} >= set(done[-50:])
            # Each read model is followed by exactly one of the two workers now.
            leading = re.compile(r'^switchboard_read_model_leader{read_model="(\w+)"} 1\.0$', re.M)
            led = [name for worker in workers for name in leading.findall(worker.metrics())]
            assert sorted(led) == sorted(set(led)) and len(led) == 6, led  # the read models
    finally:
        for worker in workers:
            worker.kill()
        stop_cleanly(api)
    rebuilt_equals_live(database_url)


# -- Redis away and back ----------------------------------------------------------------------


class PrivateRedis:
    """A redis-server of the test's own, on a free port, that the test can stop and start."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._answers, 10, "redis-server starting")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        if IN_CI:
            pytest.fail("CI=true but redis-server is not installed")
        pytest.skip("redis-server is not installed")
    redis = PrivateRedis(tmp_path)
    redis.start()
    try:
        yield redis
    finally:
        redis.kill()


def test_redis_stopping_and_returning_loses_no_update(
    database_url: str, tmp_path: Path, private_redis: PrivateRedis
) -> None:
    env = {"REDIS_URL": private_redis.url}
    first = ServerProcess(database_url, tmp_path, extra_env=env, args=["--worker", "external"])
    second = ServerProcess(database_url, tmp_path, extra_env=env, args=["--worker", "external"])
    worker = WorkerProcess(database_url, tmp_path, extra_env=env)
    for process in (first, second, worker):
        process.start()
    try:
        with (
            first.client(first.admin_token) as admin_first,
            second.client(second.admin_token) as admin_second,
        ):
            setup = Setup(admin=admin_second, make_client=second.client)
            group = setup.group()
            setup.operator(group["id"], max_chats=100)
            bot = setup.bot()
            supervisor = token_of(setup.token("supervisor"))

            def resyncs() -> float:
                return metric(first, "switchboard_live_resyncs_total")

            with StreamReader(first.base_url, supervisor) as stream:
                stream.until(lambda e: e.event == "ready")
                # Redis up: a command on one API process reaches a stream on the other
                # through Redis (the read-model fallback is not needed).
                wait_until(
                    lambda: admin_first.get("/readyz").json()["live_broker"] == "connected",
                    15,
                    "the first API process subscribing",
                )
                before = resyncs()
                chat = hand_off(bot, group).json()["id"]
                stream.until(about(chat), timeout=10)
                assert resyncs() == before, "came through Redis"

                private_redis.kill()
                # Redis down: commands and queries go on; the stream catches up from the
                # read model's positions.
                during = hand_off(bot, group)
                assert during.status_code == 201, during.text
                assert admin_first.get("/v1/dashboard", params={"tab": "all"}).status_code == 200
                stream.until(about(during.json()["id"]), timeout=15)
                assert resyncs() > before
                assert admin_first.get("/readyz").json()["live_broker"] == "unreachable"

                private_redis.start()
                wait_until(
                    lambda: admin_first.get("/readyz").json()["live_broker"] == "connected",
                    20,
                    "the API process resubscribing",
                )

                # Back: once the worker publishes again, updates flow through Redis again.
                def through_redis() -> bool:
                    mark = resyncs()
                    chat_id = hand_off(bot, group).json()["id"]
                    stream.until(about(chat_id), timeout=10)
                    return resyncs() == mark

                wait_until(through_redis, 30, "updates through Redis again")
    finally:
        worker.kill()
        stop_cleanly(first)
        stop_cleanly(second)


# -- a stream client that reads nothing -------------------------------------------------------


def rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE).group(1))


def test_a_stream_client_that_reads_nothing_holds_up_nobody_and_memory_stays_flat(
    database_url: str, tmp_path: Path
) -> None:
    """The kernel takes what it can for the stuck client (its socket buffer, bounded by the
    system's TCP limits); the server keeps at most SWITCHBOARD_STREAM_QUEUE changes for it
    (that limit and the disconnect are in tests/unit/test_stream_hub.py)."""
    server = ServerProcess(
        database_url,
        tmp_path,
        extra_env={"SWITCHBOARD_STREAM_QUEUE": "20", "SWITCHBOARD_STREAM_SEND_TIMEOUT_S": "2"},
    )
    server.start()
    try:
        with server.client(server.admin_token) as admin:
            setup = Setup(admin=admin, make_client=server.client)
            group = setup.group()
            _, op = setup.operator(group["id"], max_chats=1000)
            bot = setup.bot()
            supervisor = token_of(setup.token("supervisor"))

            # A client with a tiny receive window that never reads a byte.
            stuck = socket.socket()
            stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
            stuck.connect(("127.0.0.1", server.port))
            stuck.sendall(
                f"GET /v1/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {supervisor}"
                "\r\n\r\n".encode()
            )
            wait_until(lambda: metric(server, "switchboard_stream_clients") == 1, 10, "stream open")
            try:
                with StreamReader(server.base_url, supervisor) as reader:
                    reader.until(lambda e: e.event == "ready")
                    text = "x" * 200
                    last = None
                    sizes = []
                    for n in range(150):
                        last = hand_off(bot, group).json()["id"]
                        for _ in range(3):
                            bot.post(f"/v1/chats/{last}/messages", json={"text": text})
                        if n % 50 == 0:
                            sizes.append(rss_kib(server.process.pid))
                    sizes.append(rss_kib(server.process.pid))
                    # The reading client is not held up by the stuck one.
                    reader.until(
                        lambda e: about(last)(e) and e.data["last_message"] is not None,
                        timeout=30,
                    )
            finally:
                stuck.close()
            # 600 changes went to the stuck client; the server did not keep them.
            grown_mib = (max(sizes) - sizes[0]) / 1024
            assert grown_mib < 30, f"the server grew by {grown_mib:.0f} MiB: {sizes}"
            assert op.get("/v1/dashboard").status_code == 200
    finally:
        stop_cleanly(server)


# -- PostgreSQL stops mid-load ----------------------------------------------------------------


class PrivatePostgres:
    """A PostgreSQL of the test's own (from the pgserver wheel) that it can stop hard."""

    def __init__(self, pgdata: Path) -> None:
        import pgserver

        self.pgdata = pgdata
        self.server = pgserver.get_server(pgdata, cleanup_mode="stop")
        self.url = self.server.get_uri()

    def crash(self) -> None:
        """Stop at once, as a power cut would (no checkpoint, connections cut)."""
        from pgserver._commands import pg_ctl

        pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=self.pgdata, user=self.server.system_user)

    def start(self) -> None:
        self.server.ensure_postgres_running()
        assert self.server.get_uri() == self.url

    def stop(self) -> None:
        self.server.cleanup()


@pytest.fixture
def private_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivatePostgres]:
    # A short path: the server's socket lives in it.
    pgdata = Path(tmp_path_factory.mktemp("pg")) / "d"
    postgres = PrivatePostgres(pgdata)
    try:
        yield postgres
    finally:
        postgres.stop()


BOTS_DURING_OUTAGE = 6


def every_chat(admin: httpx.Client) -> list[dict[str, Any]]:
    """Every row of the dashboard's "all" tab, page after page."""
    rows: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"tab": "all", "limit": 500}
        if cursor:
            params["cursor"] = cursor
        page = admin.get("/v1/dashboard", params=params).json()
        rows += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return rows


def test_postgres_stopping_mid_load_gives_503s_then_recovers(
    private_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    server = ServerProcess(private_postgres.url, tmp_path)
    server.start()
    try:
        with server.client(server.admin_token) as admin:
            setup = Setup(admin=admin, make_client=server.client)
            group = setup.group()
            operator, _ = setup.operator(group["id"], max_chats=1000)
            # A command caught in flight by the outage retries its connection for up to
            # ~25 s (and succeeds if the database is back by then): wait for its answer.
            # Several bots at once, so that appends go in batches of several commands.
            headers = setup.bot().headers
            bots = [
                httpx.Client(base_url=server.base_url, headers=headers, timeout=60)
                for _ in range(BOTS_DURING_OUTAGE)
            ]
            answers: list[tuple[int, str, str]] = []  # status, content type, chat id or body
            stop = threading.Event()

            def load(bot: httpx.Client) -> None:
                while not stop.is_set():
                    try:
                        answer = hand_off(bot, group)
                    except httpx.TransportError as error:
                        answers.append((0, "", str(error)))
                        continue
                    ok = answer.status_code in (200, 201)
                    answers.append(
                        (
                            answer.status_code,
                            answer.headers.get("content-type", ""),
                            answer.json()["id"] if ok else answer.text,
                        )
                    )

            loaders = [threading.Thread(target=load, args=(bot,)) for bot in bots]
            for loader in loaders:
                loader.start()
            try:
                wait_until(lambda: len(answers) >= 5, 20, "load running")
                private_postgres.crash()
                wait_until(lambda: any(status == 503 for status, _, _ in answers), 30, "a 503")
                time.sleep(1.0)
                private_postgres.start()
                back = len(answers)
                wait_until(
                    lambda: any(status == 201 for status, _, _ in answers[back:]),
                    30,
                    "commands succeeding again",
                )
                time.sleep(1.0)
            finally:
                stop.set()
                for loader, bot in zip(loaders, bots, strict=True):
                    loader.join(timeout=60)
                    bot.close()

            statuses = {status for status, _, _ in answers}
            # 200: the command's append committed as the database went down, its answer was
            # lost, and its retry found the chat it had made (the handoff is idempotent).
            assert statuses <= {200, 201, 503}, [a for a in answers if a[0] not in (201, 503)][:5]
            for status, content_type, body in answers:
                if status == 503:
                    assert content_type.startswith("application/problem+json"), body
                    assert '"code":"unavailable"' in body.replace(" ", ""), body
            # Every command that got a 2xx is in the event log.
            accepted = [body for status, _, body in answers if status in (200, 201)]
            for chat_id in accepted:
                events = admin.get(f"/v1/chats/{chat_id}/events")
                assert events.status_code == 200, events.text
                assert events.json()["items"][0]["type"] == "ChatRequested"
            # And the read models follow again by themselves.
            settled(server, admin)
            assert set(accepted) <= {row["id"] for row in every_chat(admin)}
            # No command half-done: every chat in the log is its operator's (a batch that
            # failed left neither a chat without its assignment nor a place taken for none);
            # a chat queued while the directory caught up is assigned by the dispatcher.
            wait_until(
                lambda: {row["status"] for row in every_chat(admin)} == {"assigned"},
                30,
                "every chat assigned",
            )
            held = admin.get(f"/v1/operators/{operator['id']}").json()["load"]
            assert held == len(every_chat(admin))
        assert server.process.poll() is None, "the server stayed up"
    finally:
        stop_cleanly(server)
