"""Webhook delivery: lag, throughput beside the HTTP ceiling, and isolation from a hanging
receiver. ``python -m bench.webhooks [--database-url URL] [--events N]``.

Real processes: ``switchboard serve`` (API only) and ``switchboard worker`` (which sends),
on a database of the run's own; receivers are small HTTP servers, each in a process of its own.

1. Lag: a bot relays client messages at ``--rate`` per second; for each, the time from the
   command's 2xx to the receiver's request (p50, p99); with the worker's sender in a process
   of its own and on a thread beside the read models, alternated ``--rounds`` times.
2. Throughput: ``--events`` Events made with no webhook, then a webhook registered and
   replayed from 0: Events delivered per second, with one sender process and with more
   (``--senders``, alternated ``--rounds`` times); beside it, the HTTP ceiling: what this
   process's own client (one process) gets from the same receiver at the same concurrency.
3. Isolation: the same replay to two webhooks at once, one whose receiver never answers in
   time: the fast one's rate, as a ratio of figure 2's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import secrets
import socket
import statistics
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from bench.services import PostgresServer, api_server, create_database, drop_database, worker

CONCURRENCY = 16
SENDERS = ("process", "thread")  # SWITCHBOARD_WEBHOOK_SENDER: the default first
ENV = {
    "SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE": "true",
    "SWITCHBOARD_WEBHOOK_CONCURRENCY": str(CONCURRENCY),
    "SWITCHBOARD_WEBHOOK_TIMEOUT_S": "2",
}


def _serve(ports: Any, records: Any, hang_s: float) -> None:
    """The receiver's server, in a process of its own (so that the bench's load threads do not
    slow it down): uvicorn with a bare ASGI app, which answers 204 and puts (position,
    monotonic time) on ``records``. A fast receiver: Python's ``http.server`` capped the
    ceiling near 160 requests/s at 16 connections, so it measured itself, not the sender."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        at = time.monotonic()
        if hang_s:
            await asyncio.sleep(hang_s)
        try:
            position = json.loads(body).get("position")
        except ValueError:
            position = None  # the ceiling's own requests carry no Event
        records.put((position, at))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    ports.put(sock.getsockname()[1])
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])


class Receiver:
    """Answers 204 at once (or, ``hang``, after longer than the sender waits); notes when
    each Event first arrived. Its server runs in a process of its own; the times are
    CLOCK_MONOTONIC, which is one clock for every process of the machine."""

    def __init__(self, hang_s: float = 0.0) -> None:
        self.arrived: dict[int, float] = {}
        self.count = 0
        self.lock = threading.Lock()
        context = multiprocessing.get_context("spawn")
        self._records = context.Queue()
        ports = context.Queue()
        self._process = context.Process(
            target=_serve, args=(ports, self._records, hang_s), daemon=True
        )
        self._process.start()
        self.port = ports.get(timeout=30)
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        while True:
            position, at = self._records.get()
            with self.lock:
                self.count += 1
                if position is not None:
                    self.arrived.setdefault(position, at)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def wait_for(self, count: int, timeout: float) -> float | None:
        """When the receiver had ``count`` distinct Events (monotonic time), or None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.arrived) >= count:
                    return max(self.arrived.values())
            time.sleep(0.01)
        return None


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, f"{response.request.url}: {response.text}"
    return response.json() if response.content else {}


def setup(api: httpx.Client, chats: int) -> tuple[str, httpx.Client, list[str]]:
    """A group, an operator with room, a bot and ``chats`` chats handed off to it."""
    group = ok(api.post("/v1/groups", json={"name": f"bench-{uuid.uuid4().hex[:6]}"}), 201)
    operator = ok(
        api.post(
            "/v1/operators",
            json={
                "first_name": "Ann",
                "last_name": "Bench",
                "email": f"{uuid.uuid4().hex[:8]}@example.com",
                "group_ids": [group["id"]],
                "max_chats": 10_000,
            },
        ),
        201,
    )
    staff = httpx.Client(
        base_url=api.base_url, headers={"Authorization": f"Bearer {operator['token']}"}
    )
    ok(staff.put(f"/v1/operators/{operator['id']}/status", json={"status": "working"}))
    name = f"bench-bot-{uuid.uuid4().hex[:6]}"
    token = ok(api.post("/v1/tokens", json={"role": "bot", "name": name}), 201)["token"]
    bot = httpx.Client(base_url=api.base_url, headers={"Authorization": f"Bearer {token}"})
    ids = []
    for n in range(chats):
        chat = bot.post(
            "/v1/chats",
            json={
                "external_id": f"b-{n}-{uuid.uuid4().hex[:6]}",
                "client": {"id": f"c{n}"},
                "group_id": group["id"],
            },
        )
        ids.append(ok(chat, 201)["id"])
    return name, bot, ids


def relay(bot: httpx.Client, chat_id: str, n: int) -> tuple[int, float]:
    response = bot.post(f"/v1/chats/{chat_id}/messages", json={"text": f"message {n}"})
    done = time.monotonic()
    assert response.status_code == 201, response.text
    return int(response.headers["X-Position"]), done


def lag(api: httpx.Client, rate: float, seconds: float) -> dict[str, Any]:
    receiver = Receiver()
    name, bot, chats = setup(api, 20)
    ok(
        api.post(
            "/v1/webhooks", json={"url": receiver.url, "bot": name, "events": ["message.created"]}
        ),
        201,
    )
    seen: dict[int, float] = {}  # the feed's view: when a long poll got each Event
    stop = threading.Event()

    def follow() -> None:
        after = ok(api.get("/v1/events"))["next_after"]
        while not stop.is_set():
            page = ok(api.get("/v1/events", params={"after": after, "wait": 2, "limit": 500}))
            at = time.monotonic()
            for event in page["items"]:
                seen.setdefault(event["position"], at)
            after = page["next_after"]

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    sent: list[tuple[int, float]] = []
    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        futures = []
        for n in range(int(rate * seconds)):
            pause = started + n / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            futures.append(pool.submit(relay, bot, chats[n % len(chats)], n))
        sent = [f.result() for f in futures]
    receiver.wait_for(len(sent), 30)
    stop.set()
    follower.join(timeout=5)
    lags = sorted(
        max(0.0, receiver.arrived[p] - at) * 1000 for p, at in sent if p in receiver.arrived
    )
    polled = sorted(max(0.0, seen[p] - at) * 1000 for p, at in sent if p in seen)
    return {
        "feed_lag_p50_ms": round(statistics.median(polled), 1),
        "feed_lag_p99_ms": round(polled[int(len(polled) * 0.99) - 1], 1),
        "events": len(sent),
        "delivered": len(lags),
        "lag_p50_ms": round(statistics.median(lags), 1),
        "lag_p99_ms": round(lags[int(len(lags) * 0.99) - 1], 1),
        "lag_max_ms": round(lags[-1], 1),
    }


def make_events(api: httpx.Client, count: int) -> tuple[str, int]:
    name, bot, chats = setup(api, 200)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda n: relay(bot, chats[n % len(chats)], n), range(count)))
    return name, max(p for p, _ in results)


def drain(api: httpx.Client, name: str, receivers: list[Receiver], expected: int) -> list[float]:
    """Register a webhook per receiver for bot ``name``'s Events, replay all at once; the
    first receiver's Events per second."""
    hooks = [
        ok(api.post("/v1/webhooks", json={"url": r.url, "bot": name}), 201)["id"] for r in receivers
    ]
    started = time.monotonic()
    for hook in hooks:
        ok(api.post(f"/v1/webhooks/{hook}/replay", json={"from_position": 0}), 202)
    done = receivers[0].wait_for(expected, 300)
    assert done is not None, f"{len(receivers[0].arrived)} of {expected} arrived"
    for hook in hooks:  # nothing more for the next figure
        api.patch(f"/v1/webhooks/{hook}", json={"active": False})
    return [expected / (done - started)]


async def ceiling(url: str, seconds: float = 3.0) -> float:
    """Requests per second this process's client gets from the receiver at the sender's
    concurrency: the HTTP ceiling beside which figure 2 is read."""
    body = json.dumps({"id": "evt_x", "type": "message.created", "data": {"text": "x" * 200}})
    count, deadline = 0, time.monotonic() + seconds
    async with httpx.AsyncClient() as client:

        async def one() -> None:
            nonlocal count
            while time.monotonic() < deadline:
                await client.post(url, content=body, headers={"content-type": "application/json"})
                count += 1

        started = time.monotonic()
        await asyncio.gather(*(one() for _ in range(CONCURRENCY)))
    return count / (time.monotonic() - started)


def start_services(
    run_url: str, workdir: Path, admin_token: str, sender: str, senders: int = 1
) -> list[Any]:
    env = {**ENV, "SWITCHBOARD_WEBHOOK_SENDER": sender}
    processes = [
        api_server(run_url, workdir, admin_token, **env),
        worker(run_url, workdir, admin_token, **env, SWITCHBOARD_WEBHOOK_SENDERS=str(senders)),
    ]
    for process in processes:
        process.start()
    return processes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--events", type=int, default=5_000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="runs of each sender (figure 1) and of each count of sender processes (figure "
        "2), alternated",
    )
    parser.add_argument(
        "--senders", default="1,2", help="counts of sender processes for figure 2 (1 first)"
    )
    args = parser.parse_args(argv)

    postgres = PostgresServer(args.database_url)
    server_url = postgres.start()
    dbname = f"sb_bench_webhooks_{secrets.token_hex(4)}"
    run_url = create_database(server_url, dbname)
    workdir = Path(tempfile.mkdtemp(prefix="switchboard-bench-"))
    admin_token = "sb_admin_" + secrets.token_urlsafe(16)
    results: dict[str, Any] = {"1_lag": {SENDERS[0]: [], SENDERS[1]: []}}
    processes: list[Any] = []

    def client() -> httpx.Client:
        return httpx.Client(
            base_url=processes[0].base_url,
            headers={"Authorization": f"Bearer {admin_token}"},
            timeout=30,
        )

    try:
        # 1. The lag with each sender (a process of its own, the default; a thread of the
        # worker), alternated: the ratio of their medians is read, not the values alone.
        for _ in range(args.rounds):
            for sender in SENDERS:
                processes = start_services(run_url, workdir, admin_token, sender)
                try:
                    run = lag(client(), args.rate, args.seconds)
                finally:
                    for process in reversed(processes):
                        process.stop()
                results["1_lag"][sender].append(run)
                print(f"1. lag, sender {sender}", run, flush=True)
        results["1_lag_summary"] = lag_summary(results["1_lag"])
        print("1. lag, medians", results["1_lag_summary"], flush=True)
        processes = start_services(run_url, workdir, admin_token, SENDERS[0])
        api = client()
        name, _ = make_events(api, args.events)
        # 2. Throughput with each count of sender processes, alternated; the worker restarted
        # with each (the API process stays).
        rates: dict[int, list[float]] = {int(n): [] for n in args.senders.split(",")}
        for _ in range(args.rounds):
            for senders in rates:
                processes[1].stop()
                processes[1] = worker(
                    run_url, workdir, admin_token, **ENV, SWITCHBOARD_WEBHOOK_SENDERS=str(senders)
                )
                processes[1].start()
                rates[senders] += drain(api, name, [Receiver()], args.events)
                print(f"2. throughput, {senders} sender(s)", round(rates[senders][-1]), flush=True)
        # The ceiling once the worker has projected everything (right after the relays it
        # still is, and the ceiling measured the machine's load instead).
        http_ceiling = asyncio.run(ceiling(Receiver().url))
        alone = statistics.median(rates[1]) if 1 in rates else statistics.median(rates[min(rates)])
        results["2_throughput"] = {
            "events": args.events,
            "http_ceiling_per_s": round(http_ceiling),
            **{f"{n}_senders_per_s": [round(r) for r in runs] for n, runs in rates.items()},
            **{
                f"{n}_senders_median_to_ceiling": round(statistics.median(runs) / http_ceiling, 2)
                for n, runs in rates.items()
            },
        }
        print("2. throughput", results["2_throughput"], flush=True)
        processes[1].stop()
        processes[1] = worker(run_url, workdir, admin_token, **ENV)  # one sender, as by default
        processes[1].start()
        beside = Receiver()
        hanging = Receiver(hang_s=5.0)
        with_hang = drain(api, name, [beside, hanging], args.events)[0]
        results["3_isolation"] = {
            "delivered_per_s_beside_a_hanging_receiver": round(with_hang),
            "ratio_to_alone": round(with_hang / alone, 2),
        }
        print("3. isolation", results["3_isolation"], flush=True)
    finally:
        for process in reversed(processes):
            process.stop()
        drop_database(server_url, dbname)
        postgres.stop()
    print(json.dumps(results))


def lag_summary(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Each sender's median p50 and p99 over its runs, and the process's over the thread's."""
    medians = {
        sender: {
            key: statistics.median(run[key] for run in values)
            for key in ("lag_p50_ms", "lag_p99_ms", "feed_lag_p50_ms", "feed_lag_p99_ms")
        }
        for sender, values in runs.items()
    }
    process, thread = medians[SENDERS[0]], medians[SENDERS[1]]
    return {
        **medians,
        "p50_process_over_thread": round(process["lag_p50_ms"] / thread["lag_p50_ms"], 2),
        "p99_process_over_thread": round(process["lag_p99_ms"] / thread["lag_p99_ms"], 2),
    }


if __name__ == "__main__":
    main()
