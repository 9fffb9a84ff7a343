"""The recorders side by side in one run: who appends is ``SWITCHBOARD_RECORDER``.

- appends: ``THREADS`` threads of one process each save handoff-shaped aggregates (a new chat
  and its idempotency reservation) through ``app.save``, one save per command, as the API's
  commands do; saves of the same shapes, made before the clock starts, for every recorder;
- handoffs: ``POST /v1/chats`` against an API process started with each recorder in turn, at
  8, 16 and 32 bot clients, the best rate.

Each is given as a ratio to the library's recorder measured in the same run, and the
machine is noisy: each recorder is measured ``rounds`` times, interleaved, and the median kept.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

from bench.dataset import ADMIN, BOT, Builder, Size
from bench.services import api_server

RECORDERS = ("library", "single", "grouped")
THREADS = 8


def append_by_recorder(
    run_url: str, recorders: list[str], saves: int, rounds: int, say: Callable[[str], None]
) -> dict[str, Any]:
    from infrastructure.bootstrap import build
    from infrastructure.config import Config
    from infrastructure.recorder import GroupCommitRecorder

    rates: dict[str, list[float]] = {r: [] for r in recorders}
    batches: dict[str, float] = {}
    for round_ in range(rounds):
        for recorder in recorders:
            container = build(
                Config(
                    DATABASE_URL=run_url,
                    SWITCHBOARD_DB_POOL_SIZE=THREADS + 2,
                    SWITCHBOARD_LOG_LEVEL="WARNING",
                    SWITCHBOARD_RECORDER=recorder,
                ),
                run_projections=False,
            )
            try:
                app = container.app
                work = _premade_saves(run_url, app, saves)
                events = sum(len(a.pending_events) for save in work for a in save)
                seconds = _save_in_threads(app, work)
                rates[recorder].append(events / seconds)
                if isinstance(app.recorder, GroupCommitRecorder):
                    s = app.recorder.statistics
                    batches[recorder] = round(s.commands / max(s.batches, 1), 1)
                say(f"  round {round_ + 1} {recorder}: {events / seconds:,.0f} events/s")
            finally:
                container.stop()
    medians = {r: round(statistics.median(v)) for r, v in rates.items()}
    base = medians.get("library")
    return {
        "threads": THREADS,
        "saves": saves,
        "rounds": rounds,
        "events_per_s": medians,
        "ratio_to_library": {r: round(v / base, 2) for r, v in medians.items()} if base else {},
        "commands_per_batch": batches,
    }


def _premade_saves(run_url: str, app: Any, saves: int) -> list[list[Any]]:
    from application.handoff import HANDOFF
    from domain.operator import Operator
    from domain.reservation import Reservation

    builder = Builder(run_url, Size("append", saves, 1, 1), lambda _: None)
    operator = Operator.register(
        operator_id=uuid4(),
        at=builder.window_to,
        actor=ADMIN.actor,
        first_name="Append",
        last_name="Bench",
        email="append@bench.example",
    )
    settings = app.company_settings()
    group = uuid4()
    work = []
    for n in range(saves):
        # Requested and queued: with its reservation, three events, as a handoff saves four.
        chat = builder._chat(n, builder.window_to, group, True, operator, settings, True)
        reservation = Reservation.reserve(
            kind=HANDOFF,
            key=f"{BOT.name}\x00append-{uuid4()}",
            owner_id=chat.id,
            at=builder.window_to,
            actor=BOT.actor,
        )
        work.append([chat, reservation])
    return work


def _save_in_threads(app: Any, work: list[list[Any]]) -> float:
    shares = [work[n::THREADS] for n in range(THREADS)]
    barrier = threading.Barrier(THREADS + 1)

    def save(share: list[list[Any]]) -> None:
        barrier.wait()
        for aggregates in share:
            app.save(*aggregates)

    threads = [threading.Thread(target=save, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def handoffs_by_recorder(
    bench: Any,
    recorders: list[str],
    workdir: Path,
    admin_token: str,
    rounds: int,
    env: dict[str, str],
) -> dict[str, Any]:
    """The best closed-loop handoff rate of an API process per recorder (the worker, shared,
    is the run's own)."""
    from bench.figures import CONCURRENCIES, generate, wait_caught_up

    rates: dict[str, list[float]] = {r: [] for r in recorders}
    p99: dict[str, list[float]] = {r: [] for r in recorders}
    for round_ in range(rounds):
        for recorder in recorders:
            api = api_server(
                bench.run_url, workdir, admin_token, **env, SWITCHBOARD_RECORDER=recorder
            )
            api.start()
            try:
                runs = [
                    generate(
                        bench,
                        base_url=api.base_url,
                        request="handoff",
                        mode="closed",
                        concurrency=concurrency,
                    )
                    for concurrency in CONCURRENCIES
                ]
                best = max(runs, key=lambda r: r["rate"])
                rates[recorder].append(best["rate"])
                p99[recorder].append(best["latency_ms"]["p99"])
                bench.say(
                    f"  round {round_ + 1} {recorder}: {best['rate']:,.0f} handoffs/s "
                    f"(x{best['concurrency']}, p99 {best['latency_ms']['p99']} ms)"
                )
                wait_caught_up(bench, max(r["last_position"] or 0 for r in runs) or None)
            finally:
                api.stop()
    medians = {r: round(statistics.median(v)) for r, v in rates.items()}
    base = medians.get("library")
    return {
        "rounds": rounds,
        "handoffs_per_s": medians,
        "p99_ms_at_best": {r: statistics.median(v) for r, v in p99.items()},
        "ratio_to_library": {r: round(v / base, 2) for r, v in medians.items()} if base else {},
    }
