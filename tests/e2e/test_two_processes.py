"""Two API processes routing at once on one database never put an operator above max_chats.

Two ``switchboard serve`` processes share one PostgreSQL database. Hundreds of handoffs (and
parallel retries of some of them) are fired at both at once while operators close chats, so
queues drain through the dispatcher concurrently with new routing. Afterwards, seen through
the write model (``GET /v1/chats/{id}``, ``GET /v1/operators/{id}``) and the read models of
both processes: every operator's load is at most its ``max_chats`` and equals its open
chats, every chat has one operator or waits in a queue, and a queue only holds chats while
every working operator is full.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.conftest import scratch_database
from tests.e2e.conftest import ServerProcess, Setup, position, stop_cleanly

THREADS = 32
GROUPS = 3
# Small limits: 34 places for 300 chats, so most chats wait in a queue.
MAX_CHATS = (3, 4, 5, 6, 3, 8, 5)
BOTS = 4
HANDOFFS = 300
DUPLICATE_EVERY = 10  # every tenth external id is sent three times at once, to both processes
CLOSE_AT_ONCE_SHARE = 0.3  # of the chats assigned at handoff, closed straight away
CLOSE_BUDGET = 140  # chats the operators close while handoffs go on; the rest stay
ADMIN_CLOSES_EVERY = 4  # every fourth close by a closer goes through the admin instead
CLOSING_AFTER_S = 3.0  # closers may go on this long after the last handoff
SETTLE_S = 20.0
OPEN = ("assigned", "active")


@pytest.fixture(scope="module")
def servers(
    pg_server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Two ``switchboard serve`` processes on one database, with the same admin token."""
    # Queries wait for their read model longer than the suite's default: after a burst of
    # hundreds of commands the projections may need more than half a second to catch up.
    # Pools big enough for 32 concurrent clients to contend for real.
    patient = {"SWITCHBOARD_READ_WAIT_S": "15", "SWITCHBOARD_DB_POOL_SIZE": "8"}
    with scratch_database(pg_server_url, prefix="sb_e2e") as url:
        first = ServerProcess(url, tmp_path_factory.mktemp("switchboard-a"), extra_env=patient)
        second = ServerProcess(
            url,
            tmp_path_factory.mktemp("switchboard-b"),
            admin_token=first.admin_token,
            extra_env=patient,
        )
        first.start()
        try:
            second.start()
            try:
                yield first, second
            finally:
                if second.process is not None:
                    stop_cleanly(second)
        finally:
            if first.process is not None:
                stop_cleanly(first)


class Clients:
    """One ``httpx.Client`` per thread and server; the token goes with each request."""

    def __init__(self, servers: tuple[ServerProcess, ...]) -> None:
        self.servers = servers
        self._local = threading.local()
        self._all: list[httpx.Client] = []
        self._lock = threading.Lock()

    def on(self, index: int) -> httpx.Client:
        clients = getattr(self._local, "clients", None)
        if clients is None:
            clients = self._local.clients = {}
        if index not in clients:
            client = httpx.Client(base_url=self.servers[index].base_url, timeout=30)
            clients[index] = client
            with self._lock:
                self._all.append(client)
        return clients[index]

    def close(self) -> None:
        for client in self._all:
            client.close()


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _token(client: httpx.Client) -> str:
    return client.headers["Authorization"].removeprefix("Bearer ")


def _describe(response: httpx.Response, server: ServerProcess) -> str:
    return (
        f"{response.request.method} {response.request.url} on {server.base_url} gave "
        f"{response.status_code}: {response.text}\n--- server stderr ---\n{server.stderr()}"
    )


@dataclass
class Handoff:
    external_id: str
    bot: str
    group_id: str | None
    server: int
    status_code: int = 0
    chat: dict[str, Any] = field(default_factory=dict)


@dataclass
class Snapshot:
    """The write model's view of every chat made and every operator."""

    chats: dict[str, dict[str, Any]]
    operators: dict[str, dict[str, Any]]

    def key(self) -> tuple:
        return (
            sorted((c["id"], c["status"], c["operator_id"]) for c in self.chats.values()),
            sorted((o["id"], o["load"], o["status"]) for o in self.operators.values()),
        )

    def queued(self) -> list[str]:
        return sorted(c["id"] for c in self.chats.values() if c["status"] == "queued")

    def open_chats(self) -> dict[str, list[str]]:
        held: dict[str, list[str]] = defaultdict(list)
        for chat in self.chats.values():
            if chat["status"] in OPEN:
                held[chat["operator_id"]].append(chat["id"])
        return held

    def operators_with_room(self) -> list[dict[str, Any]]:
        return [
            o
            for o in self.operators.values()
            if o["status"] == "working" and o["load"] < o["max_chats"]
        ]


def test_two_processes_routing_at_once_never_overfill_an_operator(
    servers: tuple[ServerProcess, ServerProcess],
) -> None:
    started = time.monotonic()
    first = servers[0]
    setup_clients: list[httpx.Client] = []

    def make_client(token: str | None = None) -> httpx.Client:
        setup_clients.append(first.client(token))
        return setup_clients[-1]

    clients = Clients(servers)
    try:
        _run(servers, Setup(admin=make_client(first.admin_token), make_client=make_client), clients)
    finally:
        clients.close()
        for client in setup_clients:
            client.close()
    print(f"two-process routing test took {time.monotonic() - started:.1f}s")


def _run(servers: tuple[ServerProcess, ServerProcess], setup: Setup, clients: Clients) -> None:
    admin_token = _token(setup.admin)
    rng = random.Random(20261121)
    lock = threading.Lock()
    positions: list[int] = []

    def seen(response: httpx.Response) -> None:
        value = position(response)
        with lock:
            positions.append(value)

    def call(index: int, method: str, path: str, token: str, **kwargs: Any) -> httpx.Response:
        return clients.on(index).request(method, path, headers=_auth(token), **kwargs)

    # -- set-up, through the first process ------------------------------------------------------
    groups = [setup.group(routing="auto")["id"] for _ in range(GROUPS)]
    operators: dict[str, dict[str, Any]] = {}
    operator_tokens: dict[str, str] = {}
    for n, max_chats in enumerate(MAX_CHATS):
        # Each operator in one or two groups, so every group has members and some overlap.
        member_of = sorted({groups[n % GROUPS], groups[(n * 2 + 1) % GROUPS]})
        operator, client = setup.operator(*member_of, max_chats=max_chats)
        assert operator["status"] == "working" and operator["load"] == 0, operator
        operators[operator["id"]] = operator
        operator_tokens[operator["id"]] = _token(client)
    bots = [_token(setup.bot()) for _ in range(BOTS)]

    # -- what the test has asked for, shared by its threads --------------------------------------
    handoffs: list[Handoff] = []
    copies_left: dict[str, int] = {}  # external id -> answers still awaited
    for i in range(HANDOFFS):
        external_id = f"ext-{i}-{uuid.uuid4()}"
        group_id = None if i % 4 == 3 else groups[i % GROUPS]
        bot = rng.choice(bots)
        copies = 3 if i % DUPLICATE_EVERY == 0 else 1
        copies_left[external_id] = copies
        for copy in range(copies):
            handoffs.append(Handoff(external_id, bot, group_id, (i + copy) % 2))
    duplicated = {e for e, n in copies_left.items() if n > 1}
    claimed: set[str] = set()  # chats someone in the test has set out to close
    closes_by: Counter[str] = Counter()

    budget_used = [0]

    def claim(chat_id: str, external_id: str, *, budget: bool) -> int | None:
        """Whether the caller may close this chat (its number in the budget if it counts):
        once, and never while a copy of its handoff is under way (that must find it open)."""
        with lock:
            if chat_id in claimed or copies_left[external_id] > 0:
                return None
            if budget and budget_used[0] >= CLOSE_BUDGET:
                return None
            claimed.add(chat_id)
            budget_used[0] += budget
            return budget_used[0]

    def close(chat_id: str, token: str, index: int, who: str) -> None:
        response = call(index, "POST", f"/v1/chats/{chat_id}/close", token, json={"reason": "ok"})
        assert response.status_code == 200, _describe(response, servers[index])
        seen(response)
        assert response.json()["status"] == "closed", response.text
        with lock:
            closes_by[who] += 1

    def hand_off(handoff: Handoff, close_at_once: bool) -> Handoff:
        body: dict[str, Any] = {
            "external_id": handoff.external_id,
            "client": {"id": f"client-{handoff.external_id}", "name": "Ann"},
            "topic": "load",
            "transcript": [{"author": "client", "text": "a human, please"}],
        }
        if handoff.group_id is not None:
            body["group_id"] = handoff.group_id
        response = call(handoff.server, "POST", "/v1/chats", handoff.bot, json=body)
        assert response.status_code in (200, 201), _describe(response, servers[handoff.server])
        seen(response)
        handoff.status_code = response.status_code
        handoff.chat = chat = response.json()
        with lock:
            copies_left[handoff.external_id] -= 1
        if (
            close_at_once
            and chat["status"] == "assigned"
            and claim(chat["id"], handoff.external_id, budget=False) is not None
        ):
            # The operator who got it closes it at once, through the other process.
            token = operator_tokens[chat["operator_id"]]
            close(chat["id"], token, 1 - handoff.server, "at once")
        return handoff

    closers_stop = threading.Event()
    peak_load: Counter[str] = Counter()

    def closer(operator_id: str, n: int) -> None:
        """An operator closing chats from their dashboard as they come, alternating processes;
        on the way, their load (the write model's) must never be above their max_chats."""
        token = operator_tokens[operator_id]
        rounds = 0
        while not closers_stop.is_set():
            rounds += 1
            index = (n + rounds) % 2
            me = call(index, "GET", f"/v1/operators/{operator_id}", token)
            assert me.status_code == 200, _describe(me, servers[index])
            load, limit = me.json()["load"], me.json()["max_chats"]
            assert load <= limit, f"operator {operator_id} holds {load} chats, over {limit}"
            with lock:
                peak_load[operator_id] = max(peak_load[operator_id], load)
            mine = call(index, "GET", "/v1/dashboard", token, params={"tab": "mine", "limit": 500})
            assert mine.status_code == 200, _describe(mine, servers[index])
            rows = [r for r in mine.json()["items"] if r["status"] in OPEN]
            rng_local = random.Random(rounds * 7919 + n)
            rng_local.shuffle(rows)
            for row in rows[:1]:
                number = claim(row["id"], row["external_id"], budget=True)
                if number is not None:
                    by_admin = number % ADMIN_CLOSES_EVERY == 0
                    close(
                        row["id"],
                        admin_token if by_admin else token,
                        1 - index,
                        "admin" if by_admin else "operator",
                    )
            closers_stop.wait(0.02)

    rng.shuffle(handoffs)
    with ThreadPoolExecutor(THREADS + len(operators)) as pool:
        closing = [pool.submit(closer, o, n) for n, o in enumerate(operators)]
        try:
            sent = [pool.submit(hand_off, h, rng.random() < CLOSE_AT_ONCE_SHARE) for h in handoffs]
            for future in sent:
                future.result()
            # Let the closers use up their budget (bounded), so that the queues drain.
            stop_at = time.monotonic() + CLOSING_AFTER_S
            while time.monotonic() < stop_at and not any(f.done() for f in closing):
                with lock:
                    if budget_used[0] >= CLOSE_BUDGET:
                        break
                time.sleep(0.05)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)  # fail fast: drop what is not sent
            raise
        finally:
            closers_stop.set()
        for future in closing:
            future.result()

    # -- idempotency across processes: one chat per external id -----------------------------------
    by_external_id: dict[str, list[Handoff]] = defaultdict(list)
    for handoff in handoffs:
        by_external_id[handoff.external_id].append(handoff)
    assert len(by_external_id) == HANDOFFS
    for external_id, answers in by_external_id.items():
        ids = {a.chat["id"] for a in answers}
        codes = sorted(a.status_code for a in answers)
        assert len(ids) == 1, f"{external_id} made {len(ids)} chats: {ids}"
        assert codes == [200] * (len(answers) - 1) + [201], f"{external_id} answered {codes}"
    chat_ids = sorted({answers[0].chat["id"] for answers in by_external_id.values()})
    assert len(chat_ids) == HANDOFFS
    assert len(duplicated) == HANDOFFS // DUPLICATE_EVERY

    # -- settle: wait until the dispatcher has nothing left to do --------------------------------
    def read_chat(chat_id: str, index: int) -> dict[str, Any]:
        response = call(index, "GET", f"/v1/chats/{chat_id}", admin_token)
        assert response.status_code == 200, _describe(response, servers[index])
        return response.json()

    def read_operator(operator_id: str, index: int) -> dict[str, Any]:
        response = call(index, "GET", f"/v1/operators/{operator_id}", admin_token)
        assert response.status_code == 200, _describe(response, servers[index])
        return response.json()

    def snapshot(index: int) -> Snapshot:
        with ThreadPoolExecutor(THREADS) as pool:
            chats = list(pool.map(lambda c: read_chat(c, index), chat_ids))
            found = list(pool.map(lambda o: read_operator(o, index), sorted(operators)))
        return Snapshot({c["id"]: c for c in chats}, {o["id"]: o for o in found})

    def check_always(snap: Snapshot) -> None:
        """What holds at every instant, even while the dispatcher is still moving chats."""
        for operator in snap.operators.values():
            assert operator["load"] <= operator["max_chats"], (
                f"operator {operator['id']} holds {operator['load']} chats, over its "
                f"max_chats {operator['max_chats']}"
            )
        for chat in snap.chats.values():
            if chat["status"] == "queued":
                assert chat["operator_id"] is None, f"queued chat with an operator: {chat}"
            elif chat["status"] in OPEN:
                assert chat["operator_id"] in operators, f"open chat without operator: {chat}"
            else:
                assert chat["status"] == "closed", chat
                assert chat["id"] in claimed, f"a chat nobody closed is closed: {chat}"
        for chat_id in claimed:
            assert snap.chats[chat_id]["status"] == "closed", snap.chats[chat_id]

    deadline = time.monotonic() + SETTLE_S
    previous: tuple | None = None
    rounds = 0
    while True:
        snap = snapshot(rounds % 2)
        rounds += 1
        check_always(snap)
        stable = snap.key() == previous
        drained = not snap.queued() or not snap.operators_with_room()
        if stable and drained:
            break
        if time.monotonic() > deadline:
            pytest.fail(
                f"not settled within {SETTLE_S:g}s (stable: {stable}): "
                f"{len(snap.queued())} chats queued while operators have room: "
                f"{[(o['id'], o['load'], o['max_chats']) for o in snap.operators_with_room()]}"
                f"\n--- server A stderr ---\n{servers[0].stderr()}"
                f"\n--- server B stderr ---\n{servers[1].stderr()}"
            )
        previous = snap.key()
        time.sleep(0.3)

    # -- the write model, settled --------------------------------------------------------------
    statuses = Counter(c["status"] for c in snap.chats.values())
    print(
        f"settled after {rounds} snapshots: {dict(statuses)}; closes: {dict(closes_by)}; "
        f"peak loads seen: {sorted(peak_load.values())}"
    )
    held = snap.open_chats()
    for operator_id, operator in snap.operators.items():
        assert operator["status"] == "working", operator
        assert operator["load"] == len(held.get(operator_id, [])), (
            f"operator {operator_id} has load {operator['load']} but holds "
            f"{len(held.get(operator_id, []))} open chats"
        )
    assert statuses["closed"] == len(claimed) == sum(closes_by.values()), statuses
    assert closes_by["operator"] and closes_by["admin"] and closes_by["at once"], closes_by
    assert statuses["closed"] >= 2 * sum(MAX_CHATS), f"too little churn: {statuses}"
    assert statuses["queued"] > 0, f"capacity was never exhausted: {statuses}"
    # Chats are still queued, so every operator must be full: queues drain when room appears.
    assert not snap.operators_with_room(), snap.operators_with_room()
    assert sum(o["load"] for o in snap.operators.values()) == sum(MAX_CHATS)

    # No chat ever had two operators: one assignment each, none for those still queued.
    def assignments(chat_id: str) -> int:
        index = int(chat_id[-1], 16) % 2
        response = call(index, "GET", f"/v1/chats/{chat_id}/events", admin_token)
        assert response.status_code == 200, _describe(response, servers[index])
        return sum(e["type"] == "Assigned" for e in response.json()["items"])

    with ThreadPoolExecutor(THREADS) as pool:
        assigned_counts = dict(zip(chat_ids, pool.map(assignments, chat_ids), strict=True))
    for chat_id, count in assigned_counts.items():
        status = snap.chats[chat_id]["status"]
        expected = 0 if status == "queued" else 1
        assert count == expected, f"chat {chat_id} ({status}) was assigned {count} times"

    # -- the read models of both processes agree with the write model ----------------------------
    marker = call(
        0,
        "POST",
        "/v1/tokens",
        admin_token,
        json={"role": "auditor", "name": f"marker-{uuid.uuid4().hex[:8]}"},
    )
    assert marker.status_code == 201, _describe(marker, servers[0])
    head = position(marker)  # past every event so far, the dispatcher's included
    assert head >= max(positions)
    for index, server in enumerate(servers):
        listed = call(
            index, "GET", "/v1/operators", admin_token, params={"min_position": head, "limit": 500}
        )
        assert listed.status_code == 200, _describe(listed, server)
        loads = {o["id"]: o["load"] for o in listed.json()["items"] if o["id"] in operators}
        assert loads == {o["id"]: o["load"] for o in snap.operators.values()}, server.base_url
        queue = call(
            index,
            "GET",
            "/v1/dashboard",
            admin_token,
            params={"tab": "queue", "min_position": head, "limit": 500},
        )
        assert queue.status_code == 200, _describe(queue, server)
        assert sorted(r["id"] for r in queue.json()["items"]) == snap.queued(), server.base_url
