"""The seven figures. Each function measures one thing and its baseline, and returns a dict.

Every figure is measured beside a ceiling that the same machine reaches without Switchboard's
code in the way (the HTTP server answering ``/healthz``, psycopg inserting rows, psycopg
reading the log), so that the ratio says how much of the machine the application uses, which
travels better between machines than the absolute rate does.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote
from uuid import UUID, uuid4

import httpx
import psycopg

from bench.dataset import ADMIN, BOT, Builder, DatasetInfo, Size
from bench.load import Connection, cpu_seconds, percentiles
from bench.services import Process

# How long each load phase lasts, by mode.
PHASE_S = {"quick": 5.0, "full": 15.0}
CONCURRENCIES = (8, 16, 32)


@dataclass
class Tokens:
    bot: str
    busy_operator: str
    queue_operator: str
    supervisor: str
    live_operator: str
    live_group_id: str


@dataclass
class Bench:
    """What the figures share: the dataset, the run's database, the processes, the tokens."""

    info: DatasetInfo
    size: Size
    run_url: str
    tokens: Tokens
    say: Callable[[str], None]
    api: Process | None = None  # takes the commands
    api2: Process | None = None  # serves the live stream
    worker: Process | None = None
    live_transport: str = "in-process"
    phase_s: float = 5.0
    generator: list[dict[str, Any]] = field(default_factory=list)


# -- the load generator, in a process of its own ------------------------------------------------


def generate(bench: Bench, **spec: Any) -> dict[str, Any]:
    """Run ``bench.load`` in a subprocess with this spec; returns its JSON result."""
    process = start_generator(bench, **spec)
    return finish_generator(bench, process)


def start_generator(bench: Bench, **spec: Any) -> subprocess.Popen:
    assert bench.api is not None
    spec.setdefault("base_url", bench.api.base_url)
    spec.setdefault("duration_s", bench.phase_s)
    spec.setdefault("token", bench.tokens.bot)
    spec.setdefault("group_ids", bench.info.group_ids[1:])
    spec.setdefault("prefix", f"load-{uuid4().hex[:8]}")
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.load"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None
    process.stdin.write(json.dumps(spec))
    process.stdin.close()
    return process


def finish_generator(bench: Bench, process: subprocess.Popen) -> dict[str, Any]:
    assert process.stdout is not None
    out = process.stdout.read()
    if process.wait() != 0 or not out:
        raise RuntimeError("the load generator failed")
    result = json.loads(out)
    bench.generator.append(
        {k: result[k] for k in ("request", "mode", "generator_cpu_s", "generator_wall_s", "rate")}
    )
    return result


def wait_caught_up(bench: Bench, position: int | None, timeout_s: float = 600.0) -> float:
    """Wait until the worker's read models reach ``position``; returns the seconds waited."""
    assert bench.api is not None
    if position is None:
        return 0.0
    started = time.perf_counter()
    headers = {"Authorization": f"Bearer {bench.tokens.supervisor}"}
    with httpx.Client(base_url=bench.api.base_url, headers=headers, timeout=30) as client:
        for path in ("/v1/dashboard?tab=queue", "/v1/history?limit=1", "/v1/reports/sla"):
            while time.perf_counter() - started < timeout_s:
                sep = "&" if "?" in path else "?"
                response = client.get(f"{path}{sep}min_position={position}")
                if response.status_code != 504:
                    break
    return round(time.perf_counter() - started, 1)


# -- 1. handoff throughput over HTTP ----------------------------------------------------------


def handoff_throughput(bench: Bench, raw_insert: Callable[[int], dict[str, Any]]) -> dict[str, Any]:
    """Handoffs per second through ``POST /v1/chats`` (authentication, idempotency
    reservations, routing to an operator, one transaction of four events, synchronous
    commit), by 8, 16 and 32 concurrent bot clients; then latency at half the best rate,
    open loop.

    Baselines: the same server's ``GET /healthz`` (the HTTP ceiling: uvicorn, FastAPI and the
    client, no database) and raw psycopg transactions of four comparable rows (the database's
    ceiling for synchronously committed transactions of that shape).
    """
    healthz = generate(bench, request="healthz", mode="closed", concurrency=32)
    bench.say(f"  /healthz: {healthz['rate']:,.0f}/s")
    runs = []
    for concurrency in CONCURRENCIES:
        cpu_before = bench.api.cpu_s() if bench.api else None
        result = generate(bench, request="handoff", mode="closed", concurrency=concurrency)
        cpu_after = bench.api.cpu_s() if bench.api else None
        served = result["rate"] * result["generator_wall_s"]  # the warm-up's handoffs too
        if cpu_before is not None and cpu_after is not None and served:
            # The API process's own CPU per handoff: less swayed than rates by what else runs.
            result["api_cpu_ms_per_handoff"] = round(1e3 * (cpu_after - cpu_before) / served, 2)
        bench.say(
            f"  handoffs x{concurrency}: {result['rate']:,.0f}/s, "
            f"p99 {result['latency_ms']['p99']} ms, statuses {result['statuses']}, "
            f"API CPU {result.get('api_cpu_ms_per_handoff')} ms/handoff"
        )
        runs.append(result)
        wait_caught_up(bench, result["last_position"])
    best = max(runs, key=lambda r: r["rate"])
    cpu_ms = [r["api_cpu_ms_per_handoff"] for r in runs if "api_cpu_ms_per_handoff" in r]
    half_rate = max(best["rate"] / 2, 1.0)
    half = generate(
        bench, request="handoff", mode="open", concurrency=64, rate=half_rate, warmup_s=1.0
    )
    bench.say(f"  open loop at {half_rate:,.0f}/s: p99 {half['latency_ms']['p99']} ms")
    caught_up_s = wait_caught_up(bench, half["last_position"])
    raw = raw_insert(best["concurrency"])
    bench.say(f"  raw inserts x{best['concurrency']}: {raw['rate']:,.0f} transactions/s")
    return {
        "handoffs_per_s": best["rate"],
        "best_concurrency": best["concurrency"],
        "at_max": best,
        "by_concurrency": {str(r["concurrency"]): r for r in runs},
        "at_half": half,
        "healthz": healthz,
        "raw_insert": raw,
        "ratio_to_healthz": round(best["rate"] / healthz["rate"], 3),
        "ratio_to_raw_insert": round(best["rate"] / raw["rate"], 3),
        "worker_catch_up_after_s": caught_up_s,
        "api_cpu_ms_per_handoff": median(cpu_ms) if cpu_ms else None,
    }


def raw_insert_rate(run_url: str, concurrency: int, duration_s: float) -> dict[str, Any]:
    """Transactions per second of raw psycopg inserts, each the shape of one handoff: four
    rows copied from the last handoff's stored events (new ids), into a table made like the
    event table (same indexes), synchronous commit on. Measured twice: plain, and with the
    event store's ``LOCK TABLE ... IN EXCLUSIVE MODE`` and ``NOTIFY`` (which serialise
    appends to give gap-free log positions)."""
    with psycopg.connect(run_url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_raw_events")
        conn.execute("CREATE TABLE bench_raw_events (LIKE switchboard_events INCLUDING ALL)")
        conn.execute(
            "CREATE SEQUENCE IF NOT EXISTS bench_raw_seq OWNED BY bench_raw_events.notification_id"
        )
        conn.execute(
            "ALTER TABLE bench_raw_events ALTER notification_id "
            "SET DEFAULT nextval('bench_raw_seq')"
        )
        sample = conn.execute(
            "SELECT topic, state FROM switchboard_events ORDER BY notification_id DESC LIMIT 4"
        ).fetchall()
    results = {}
    for locked in (False, True):
        results["locked" if locked else "plain"] = asyncio.run(
            _raw_insert(run_url, concurrency, duration_s, sample, locked)
        )
    with psycopg.connect(run_url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_raw_events")
    plain = results["plain"]
    return {**plain, "with_table_lock": results["locked"]}


async def _raw_insert(
    url: str, concurrency: int, duration_s: float, sample: list[tuple], locked: bool
) -> dict[str, Any]:
    latencies: list[float] = []
    deadline = time.perf_counter() + duration_s
    sql = (
        "INSERT INTO bench_raw_events (originator_id, originator_version, topic, state) "
        "VALUES (%s, %s, %s, %s)"
    )

    async def client() -> None:
        async with await psycopg.AsyncConnection.connect(url) as conn:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                async with conn.transaction(), conn.cursor() as curs:
                    if locked:
                        await curs.execute("LOCK TABLE bench_raw_events IN EXCLUSIVE MODE")
                        await curs.execute("NOTIFY bench_raw_events")
                    chat, other = uuid4(), uuid4()
                    rows = [
                        (chat if n < 2 else other if n == 2 else uuid4(), 1 + n % 2, topic, state)
                        for n, (topic, state) in enumerate(sample)
                    ]
                    await curs.executemany(sql, rows)
                latencies.append((time.perf_counter() - started) * 1000)

    cpu0, t0 = cpu_seconds(), time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    wall = time.perf_counter() - t0
    return {
        "concurrency": concurrency,
        "rows_per_transaction": len(sample),
        "rate": round(len(latencies) / wall, 1),
        "latency_ms": percentiles(latencies),
        "client_cpu_share": round((cpu_seconds() - cpu0) / wall, 3),
    }


# -- 4. query latency under a write load --------------------------------------------------------


def queries(bench: Bench, write_rate: float) -> dict[str, Any]:
    """p50/p99 of the read side at the dataset's size, while handoffs arrive at
    ``write_rate`` per second (open loop, in the load generator): dashboard ``mine`` (the
    operator holding the most open chats) and ``queue`` (the manual group's waiting chats),
    history with each filter and with full text, the SLA report over the 30 days by day,
    for one group and for all, and the clients search. Latency is the client's, over HTTP on
    a keep-alive connection, one query at a time."""
    info, tokens = bench.info, bench.tokens
    day_to = info.window_to
    day_from = (datetime.fromisoformat(info.window_to).replace(hour=0)).isoformat()
    mid_day = datetime.fromisoformat(info.long_chat_mid)
    one_day = f"from={mid_day.date()}T00:00:00Z&to={mid_day.date()}T23:59:59Z"
    group = info.group_ids[1]
    window = f"from={_z(info.window_from)}&to={_z(info.window_to)}"
    del day_to, day_from
    checks: list[tuple[str, str, str, float]] = [
        ("dashboard mine", "/v1/dashboard?tab=mine", tokens.busy_operator, 10),
        ("dashboard queue", "/v1/dashboard?tab=queue", tokens.queue_operator, 10),
        ("history from/to", f"/v1/history?{one_day}", tokens.supervisor, 50),
        ("history topic", "/v1/history?topic=billing", tokens.supervisor, 50),
        ("history subtopic", "/v1/history?subtopic=refund", tokens.supervisor, 50),
        (
            "history operator",
            f"/v1/history?operator_id={info.busy_operator_id}",
            tokens.supervisor,
            50,
        ),
        ("history group", f"/v1/history?group_id={group}", tokens.supervisor, 50),
        ("history rating", "/v1/history?rating=1", tokens.supervisor, 50),
        ("history phone", f"/v1/history?phone=%2B{info.sample_phone[1:]}", tokens.supervisor, 50),
        ("history channel", "/v1/history?channel=telegram", tokens.supervisor, 50),
        ("history status", "/v1/history?status=closed", tokens.supervisor, 50),
        ("history full text", f"/v1/history?q={info.sample_word}", tokens.supervisor, 50),
        (
            "history text+group+dates",
            f"/v1/history?q=refund&group_id={group}&{one_day}",
            tokens.supervisor,
            50,
        ),
        (
            "SLA 30d by day, group",
            f"/v1/reports/sla?{window}&bucket=day&group_id={group}",
            tokens.supervisor,
            100,
        ),
        ("SLA 30d by day, all", f"/v1/reports/sla?{window}&bucket=day", tokens.supervisor, 100),
        *client_searches(info, tokens.supervisor),
    ]
    duration = max(bench.phase_s * 3, 15.0)
    load = start_generator(
        bench,
        request="handoff",
        mode="open",
        concurrency=16,
        rate=write_rate,
        duration_s=duration,
        warmup_s=0.0,
    )
    try:
        samples = asyncio.run(_query_rounds(bench, checks, duration))
    finally:
        written = finish_generator(bench, load)
    figures = {}
    for name, path, _token, target in checks:
        latencies, statuses = samples[name]
        figures[name] = {
            "path": path,
            "target_p99_ms": target,
            "statuses": statuses,
            **percentiles(latencies),
        }
    wait_caught_up(bench, written["last_position"])
    return {
        "write_rate_target": write_rate,
        "write_rate_achieved": written["rate"],
        "write_latency_ms": written["latency_ms"],
        "queries": figures,
    }


def client_searches(info: DatasetInfo, token: str) -> list[tuple[str, str, str, float]]:
    """``GET /v1/clients?q=`` (issue 17: p99 <= 50 ms under writes): a whole name (about one
    card in 1,600), six digits of a phone, and the beginning of a surname (one in 40: the
    page of the 50 most recently seen)."""
    if not info.clients:
        return []
    return [
        (f"clients {name}", f"/v1/clients?q={quote(q)}", token, 50)
        for name, q in (
            ("name", info.sample_client_name),
            ("phone digits", info.sample_client_digits),
            ("surname prefix", info.sample_client_prefix),
        )
    ]


def _z(iso: str) -> str:
    return iso.replace("+00:00", "Z")


async def _query_rounds(
    bench: Bench, checks: list[tuple[str, str, str, float]], duration_s: float
) -> dict[str, tuple[list[float], dict[str, int]]]:
    assert bench.api is not None
    host, port = "127.0.0.1", bench.api.port
    connection = Connection(host, port)
    samples: dict[str, tuple[list[float], dict[str, int]]] = {name: ([], {}) for name, *_ in checks}
    await asyncio.sleep(1.0)  # let the write load start
    deadline = time.perf_counter() + duration_s - 2.0
    rounds = 0
    while time.perf_counter() < deadline or rounds < 5:
        for name, path, token, _target in checks:
            started = time.perf_counter()
            status, _, _ = await connection.request(
                "GET", path, {"Authorization": f"Bearer {token}"}
            )
            elapsed = (time.perf_counter() - started) * 1000
            latencies, statuses = samples[name]
            statuses[str(status)] = statuses.get(str(status), 0) + 1
            if status == 200:
                latencies.append(elapsed)
        rounds += 1
    connection.close()
    return samples


# -- 5. live lag --------------------------------------------------------------------------------


def live_lag(bench: Bench, count: int, rate: float = 20.0) -> dict[str, Any]:
    """From a handoff's 2xx (sent to one API process) to the chat's row arriving on
    ``GET /v1/stream`` read from the *other* API process, as the operator the chat goes to:
    the worker projects the event, publishes the dashboard change, and the second process
    pushes it. Handoffs at ``rate`` per second, one at a time."""
    return asyncio.run(_live_lag(bench, count, rate))


async def _live_lag(bench: Bench, count: int, rate: float) -> dict[str, Any]:
    assert bench.api is not None and bench.api2 is not None
    arrived: dict[str, float] = {}
    ready = asyncio.Event()

    async def read_stream() -> None:
        headers = {"Authorization": f"Bearer {bench.tokens.live_operator}"}
        timeout = httpx.Timeout(10, read=120)
        async with (
            httpx.AsyncClient(base_url=bench.api2.base_url, timeout=timeout) as client,
            client.stream("GET", "/v1/stream", headers=headers) as response,
        ):
            event = ""
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    event = line.partition(":")[2].strip()
                    if event == "ready":
                        ready.set()
                elif line.startswith("data:") and event == "chat":
                    data = json.loads(line.partition(":")[2])
                    arrived.setdefault(data["id"], time.perf_counter())
                elif line == "":
                    event = ""

    reader = asyncio.create_task(read_stream())
    await asyncio.wait_for(ready.wait(), 30)
    connection = Connection("127.0.0.1", bench.api.port)
    answered: dict[str, float] = {}
    headers = {"Authorization": f"Bearer {bench.tokens.bot}", "Content-Type": "application/json"}
    prefix = uuid4().hex[:8]
    for n in range(count):
        body = {
            "external_id": f"live-{prefix}-{n}",
            "client": {"id": f"live-client-{n}", "channel": "web"},
            "group_id": bench.tokens.live_group_id,
        }
        status, _, data = await connection.request(
            "POST", "/v1/chats", headers, json.dumps(body).encode()
        )
        if 200 <= status < 300:
            answered[json.loads(data)["id"]] = time.perf_counter()
        await asyncio.sleep(1.0 / rate)
    deadline = time.perf_counter() + 10
    while time.perf_counter() < deadline and not set(answered) <= set(arrived):
        await asyncio.sleep(0.05)
    reader.cancel()
    connection.close()
    lags = [max(arrived[c] - t, 0.0) * 1000 for c, t in answered.items() if c in arrived]
    return {
        "transport": bench.live_transport,
        "sent": len(answered),
        "delivered": len(lags),
        "lag_ms": percentiles(lags),
    }


# -- 6. audit -----------------------------------------------------------------------------------


def audit_http(bench: Bench, repeat: int = 50) -> dict[str, Any]:
    """The 200-event chat over HTTP: its events (``GET /v1/chats/{id}/events``) and the chat
    as it stood halfway (``?as_of=``, a replay of its events up to that time)."""
    assert bench.api is not None
    chat = bench.info.long_chat_id
    as_of = _z(bench.info.long_chat_mid)
    headers = {"Authorization": f"Bearer {bench.tokens.supervisor}"}
    out = {}
    with httpx.Client(base_url=bench.api.base_url, headers=headers, timeout=30) as client:
        for name, path in (
            ("events", f"/v1/chats/{chat}/events"),
            ("as_of", f"/v1/chats/{chat}?as_of={as_of}"),
        ):
            latencies = []
            for _ in range(repeat):
                started = time.perf_counter()
                response = client.get(path)
                latencies.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
            out[name] = percentiles(latencies)
            if name == "events":
                out["events_count"] = len(response.json()["items"])
    return out


def audit_in_process(app: Any, chat_id: UUID, mid: datetime, repeat: int = 50) -> dict[str, Any]:
    """Loading the 200-event chat in the application: through the repository (which starts
    from its snapshot), and replayed from all 200 stored events with no snapshot; and the
    replay up to a time (``get_chat_as_of``). Baseline: selecting the 200 stored events."""

    def timed(action: Callable[[], Any]) -> dict[str, Any]:
        action()
        latencies = []
        for _ in range(repeat):
            started = time.perf_counter()
            action()
            latencies.append((time.perf_counter() - started) * 1000)
        return percentiles(latencies)

    def replay() -> Any:
        chat = None
        for event in app.events.get(chat_id):
            chat = event.mutate(chat)
        assert chat is not None and chat.version >= 200
        return chat

    return {
        "repository_get": timed(lambda: app.repository.get(chat_id)),
        "replay_200_events": timed(replay),
        "as_of": timed(lambda: app.get_chat_as_of(chat_id, mid)),
        "select_stored_events": timed(
            lambda: app.recorder.select_events(chat_id, desc=False, limit=None)
        ),
    }


# -- 2. event append rate -----------------------------------------------------------------------


def append_rate(app: Any, run_url: str, chats: int, batch: int) -> dict[str, Any]:
    """Events per second through ``app.save`` of new aggregates (chats with their whole life,
    and their reservations), ``batch`` chats per call, on top of the full log; aggregates are
    made before the clock starts. Baseline: the same stored events inserted with psycopg, one
    transaction per batch, with ``executemany`` (what the event store does, less the
    library) and with ``COPY`` (the fastest way in)."""
    builder = Builder(run_url, Size("append", chats, 1, 1), lambda _: None)
    from domain.operator import Operator

    operator = Operator.register(
        operator_id=uuid4(),
        at=builder.window_to,
        actor=ADMIN.actor,
        first_name="Append",
        last_name="Bench",
        email="append@bench.example",
    )
    operator.change_status("working", at=builder.window_to, actor=ADMIN.actor)
    settings = app.company_settings()
    group = uuid4()
    batches = []
    events = 0
    from application.handoff import HANDOFF
    from domain.reservation import Reservation

    for start in range(0, chats, batch):
        aggregates = []
        for n in range(start, min(start + batch, chats)):
            at = builder.window_to
            chat = builder._chat(n, at, group, False, operator, settings, False)
            aggregates.append(chat)
            aggregates.append(
                Reservation.reserve(
                    kind=HANDOFF,
                    key=f"{BOT.name}\x00append-{uuid4()}",
                    owner_id=chat.id,
                    at=at,
                    actor=BOT.actor,
                )
            )
        events += sum(len(a.pending_events) for a in aggregates)
        batches.append(aggregates)
    stored_batches = [
        [app.mapper.to_stored_event(e) for a in aggregates for e in a.pending_events]
        for aggregates in batches
    ]
    started = time.perf_counter()
    for aggregates in batches:
        app.save(*aggregates)
    app_s = time.perf_counter() - started
    raw_many_s, raw_copy_s = _raw_append(run_url, stored_batches)
    return {
        "events": events,
        "chats_per_save": batch,
        "events_per_save": round(events / len(batches)),
        "app_events_per_s": round(events / app_s),
        "raw_executemany_events_per_s": round(events / raw_many_s),
        "raw_copy_events_per_s": round(events / raw_copy_s),
        "ratio_to_executemany": round(raw_many_s and (events / app_s) / (events / raw_many_s), 3),
        "ratio_to_copy": round((events / app_s) / (events / raw_copy_s), 3),
    }


def _raw_append(run_url: str, stored_batches: list[list[Any]]) -> tuple[float, float]:
    columns = "originator_id, originator_version, topic, state"
    timings = []
    with psycopg.connect(run_url) as conn:
        for copy in (False, True):
            conn.execute("DROP TABLE IF EXISTS bench_raw_append")
            conn.execute("CREATE TABLE bench_raw_append (LIKE switchboard_events INCLUDING ALL)")
            conn.execute("CREATE SEQUENCE IF NOT EXISTS bench_raw_append_seq")
            conn.execute(
                "ALTER TABLE bench_raw_append ALTER notification_id "
                "SET DEFAULT nextval('bench_raw_append_seq')"
            )
            conn.commit()
            started = time.perf_counter()
            for stored in stored_batches:
                rows = [(s.originator_id, s.originator_version, s.topic, s.state) for s in stored]
                with conn.transaction(), conn.cursor() as curs:
                    if copy:
                        with curs.copy(f"COPY bench_raw_append ({columns}) FROM STDIN") as out:
                            for row in rows:
                                out.write_row(row)
                    else:
                        curs.executemany(
                            f"INSERT INTO bench_raw_append ({columns}) VALUES (%s, %s, %s, %s)",
                            rows,
                        )
            timings.append(time.perf_counter() - started)
        conn.execute("DROP TABLE IF EXISTS bench_raw_append")
        conn.execute("DROP SEQUENCE IF EXISTS bench_raw_append_seq")
        conn.commit()
    return timings[0], timings[1]


# -- 3. projection rebuild ----------------------------------------------------------------------


def rebuild_rate(container: Any, cap: int) -> dict[str, Any]:
    """Events per second of rebuilding the read models from the log over the first ``cap``
    events, with the project's own rebuild loop, into a staging schema (not swapped in).

    "All read models" is what ``switchboard projections rebuild`` does: one reading of the
    log, each page decoded once and applied to every model. Each model is also rebuilt alone
    (which one is slowest), and "one by one" is the events over the sum of those times.
    Baselines: selecting the same stored events with psycopg (the raw read of the log) and
    reading them through the event store with deserialisation (``select_notifications`` and
    ``to_domain_event``)."""
    from projections.machinery.rebuild import PAGE, _catch_up, build_indexes, stage

    app = container.app
    head = min(app.head() or 0, cap)
    staging = container.database.read_store("bench_rebuild_staging", pool_size=2)
    lives = list(container.read_models)

    def timed_rebuild(models: list[Any]) -> float:
        with staging.transaction(commit=True) as curs:
            curs.execute("DROP SCHEMA IF EXISTS bench_rebuild_staging CASCADE")
            curs.execute("CREATE SCHEMA bench_rebuild_staging")
        staged = stage(models, staging)
        started = time.perf_counter()
        _catch_up(staged, app, 0, head, lambda progress: None, PAGE)
        build_indexes(staged)  # as `projections rebuild` does: counted in its time
        return time.perf_counter() - started

    per_model = {}
    try:
        together_s = timed_rebuild(lives)
        split_s = rebuild_split_s(container.database.url, [m.name for m in lives], head, 2)
        for live in lives:
            elapsed = timed_rebuild([live])
            per_model[live.name] = {
                "seconds": round(elapsed, 2),
                "events_per_s": round(head / elapsed),
            }
        with staging.transaction(commit=True) as curs:
            curs.execute("DROP SCHEMA IF EXISTS bench_rebuild_staging CASCADE")
    finally:
        staging.close()
    total_s = sum(m["seconds"] for m in per_model.values())

    started = time.perf_counter()
    rows = 0
    with psycopg.connect(container.database.url) as conn, conn.cursor(name="log") as curs:
        curs.itersize = PAGE
        curs.execute(
            "SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM switchboard_events WHERE notification_id <= %s ORDER BY notification_id",
            (head,),
        )
        for _row in curs:
            rows += 1
    raw_s = time.perf_counter() - started

    started = time.perf_counter()
    position = 0
    while position < head:
        page = app.recorder.select_notifications(start=position + 1, limit=PAGE, stop=head)
        if not page:
            break
        for notification in page:
            app.mapper.to_domain_event(notification)
        position = page[-1].id
    decoded_s = time.perf_counter() - started
    all_rate = round(head / together_s) if together_s else None
    raw_rate = round(rows / raw_s)
    return {
        "events": head,
        "all_read_models_events_per_s": all_rate,
        "one_by_one_events_per_s": round(head / total_s) if total_s else None,
        "per_model": per_model,
        "raw_read_events_per_s": raw_rate,
        "read_and_decode_events_per_s": round(head / decoded_s),
        "ratio_to_raw_read": round(all_rate / raw_rate, 4) if all_rate else None,
        "ratio_to_read_and_decode": round(all_rate * decoded_s / head, 3) if all_rate else None,
        "two_processes_events_per_s": round(head / split_s),
        "slowest_model": min(per_model, key=lambda m: per_model[m]["events_per_s"]),
    }


def rebuild_split_s(url: str, names: list[str], head: int, processes: int) -> float:
    """Seconds of the same rebuild shared out between ``processes`` processes as
    ``projections rebuild --processes`` shares it: from the first child's start to the last
    one's end (start-up not counted), each reading the log for its share."""
    from infrastructure.rebuilding import shares

    context = multiprocessing.get_context("spawn")
    split = shares(names, processes)
    with ProcessPoolExecutor(max_workers=len(split), mp_context=context) as pool:
        futures = [
            pool.submit(_rebuild_share_span, url, share, head, k) for k, share in enumerate(split)
        ]
        spans = [future.result() for future in futures]
    return max(end for _, end in spans) - min(start for start, _ in spans)


def _rebuild_share_span(url: str, names: list[str], head: int, k: int) -> tuple[float, float]:
    """In a child: stage ``names``, catch them up to ``head``, index them; (start, end) on the
    machine's monotonic clock, which every process shares."""
    from infrastructure.bootstrap import build
    from infrastructure.config import Config
    from projections.machinery.rebuild import PAGE, _catch_up, build_indexes, stage

    container = build(
        Config(DATABASE_URL=url, SWITCHBOARD_DB_POOL_SIZE=2, SWITCHBOARD_LOG_LEVEL="WARNING"),
        run_projections=False,
    )
    schema = f"bench_rebuild_split_{k}"
    staging = container.database.read_store(schema, pool_size=2)
    try:
        with staging.transaction(commit=True) as curs:
            curs.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            curs.execute(f"CREATE SCHEMA {schema}")
        staged = stage([container.read_model(name) for name in names], staging)
        started = time.monotonic()
        _catch_up(staged, container.app, 0, head, lambda progress: None, PAGE)
        build_indexes(staged)
        ended = time.monotonic()
        with staging.transaction(commit=True) as curs:
            curs.execute(f"DROP SCHEMA {schema} CASCADE")
        return started, ended
    finally:
        staging.close()
        container.stop()


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None
