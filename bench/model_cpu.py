"""CPU one read model spends per event in a rebuild, apart from reading and decoding the log.

    python -m bench.model_cpu --database-url URL [--model events|a,b|all] [--events 40000]
        [--rounds 3] [--webhooks 2] [--profile FILE]

Reads and decodes the first ``--events`` events of the log once, then rebuilds the model (or
the models, in one pass: each page applied to each) ``--rounds`` times from those decoded
pages into a staging schema, as figure 3 does (pages of ``PAGE``, indexes built after). Each
round reports the process's CPU seconds (``time.process_time``) and those of the PostgreSQL
backends (utime + stime of ``/proc/<pid>/stat`` of every backend on the database, so only on
the server's own machine; the other connections idle meanwhile): figures the machine's load
does not stretch, unlike the wall clock.

``--webhooks N`` registers N webhooks in the staged Events model before each round (one
taking every Event, the others one type each) and empties the outbox first, so that the
deliveries' scheduling is counted too: the bench dataset registers none. Run it on a copy
of the dataset (it writes ``outbox.deliveries``). ``--profile FILE`` writes a cProfile of
the last round.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import Tracking

STAGING = "bench_model_cpu"
TICKS = os.sysconf("SC_CLK_TCK")
WEBHOOK_TYPES = ("message.created", "chat.closed", "chat.assigned", "chat.rated")


def backend_cpu(store: Any) -> dict[int, float]:
    """CPU seconds (user + system) each PostgreSQL backend of this database spent so far."""
    with store.transaction(commit=False) as curs:
        curs.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        pids = [row["pid"] for row in curs.fetchall()]
    spent = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        spent[pid] = (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime
    return spent


def decoded_pages(app: Any, head: int, page: int) -> list[list[tuple[Any, Tracking]]]:
    pages, position = [], 0
    while position < head:
        notifications = app.recorder.select_notifications(start=position + 1, limit=page, stop=head)
        if not notifications:
            break
        pages.append(
            [(app.mapper.to_domain_event(n), Tracking(app.name, n.id)) for n in notifications]
        )
        position = notifications[-1].id
    return pages


def register_webhooks(model: Any, count: int) -> None:
    with model.datastore.transaction(commit=True) as curs:
        curs.execute("TRUNCATE outbox.deliveries")
        for n in range(count):
            curs.execute(
                f"INSERT INTO {model.table('webhooks')} (id, url, events, bot, secret, active, "
                "created_at) VALUES (%s, %s, %s, NULL, 'whsec_bench', true, %s)",
                (
                    uuid.uuid4(),
                    f"http://127.0.0.1:9/{n}",
                    [] if n == 0 else [WEBHOOK_TYPES[(n - 1) % len(WEBHOOK_TYPES)]],
                    datetime.now(UTC),
                ),
            )


def one_round(
    lives: list[Any],
    staging: Any,
    pages: list[Any],
    webhooks: int,
    profile: cProfile.Profile | None,
) -> dict[str, float]:
    from projections.machinery.rebuild import build_indexes, stage

    with staging.transaction(commit=True) as curs:
        curs.execute(f"DROP SCHEMA IF EXISTS {STAGING} CASCADE")
        curs.execute(f"CREATE SCHEMA {STAGING}")
    models = stage(lives, staging)
    events_out = next((model for model in models if model.name == "events"), None)
    if webhooks and events_out is not None:
        register_webhooks(events_out, webhooks)
    backends_0 = backend_cpu(staging)
    process_0, wall_0 = time.process_time(), time.perf_counter()
    if profile is not None:
        profile.enable()
    for batch in pages:
        for model in models:  # as ``rebuild._catch_up`` does
            model.process_batch(batch)
    build_indexes(models)
    if profile is not None:
        profile.disable()
    process_s = time.process_time() - process_0
    wall_s = time.perf_counter() - wall_0
    backends_s = sum(s - backends_0.get(pid, 0.0) for pid, s in backend_cpu(staging).items())
    return {"process_s": process_s, "backends_s": backends_s, "wall_s": wall_s}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.model_cpu")
    parser.add_argument("--database-url", required=True)
    parser.add_argument(
        "--model", default="events", help="a read model's name, several (a,b) or all"
    )
    parser.add_argument("--events", type=int, default=40_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--webhooks", type=int, default=0)
    parser.add_argument("--profile", default=None, help="write a cProfile of the last round")
    args = parser.parse_args(argv)

    from infrastructure.bootstrap import build
    from infrastructure.config import Config
    from projections.machinery.rebuild import PAGE

    container = build(
        Config(
            DATABASE_URL=args.database_url,
            SWITCHBOARD_DB_POOL_SIZE=2,
            SWITCHBOARD_LOG_LEVEL="WARNING",
        ),
        run_projections=False,
    )
    staging = container.database.read_store(STAGING, pool_size=2)
    try:
        if args.model == "all":
            lives = list(container.read_models)
        else:
            lives = [container.read_model(name) for name in args.model.split(",")]
        for live in lives:
            print(f"{live.name}: {sys.modules[type(live).__module__].__file__}", file=sys.stderr)
        head = min(container.app.head() or 0, args.events)
        pages = decoded_pages(container.app, head, PAGE)
        rounds = []
        for n in range(args.rounds):
            profile = (
                cProfile.Profile(time.process_time)
                if args.profile and n == args.rounds - 1
                else None
            )
            result = one_round(lives, staging, pages, args.webhooks, profile)
            rounds.append(result)
            if profile is not None:
                profile.dump_stats(args.profile)
            print(
                f"round {n + 1}: process {result['process_s']:.3f} s, "
                f"backends {result['backends_s']:.3f} s, wall {result['wall_s']:.3f} s; "
                f"{1e6 * result['process_s'] / head:.1f} + "
                f"{1e6 * result['backends_s'] / head:.1f} us CPU per event",
                flush=True,
            )
        with staging.transaction(commit=True) as curs:
            curs.execute(f"DROP SCHEMA IF EXISTS {STAGING} CASCADE")
    finally:
        staging.close()
        container.stop()
    process = statistics.median(r["process_s"] for r in rounds)
    backends = statistics.median(r["backends_s"] for r in rounds)
    print(
        f"{args.model} over {head:,} events, {args.webhooks} webhooks, median of "
        f"{len(rounds)}: process {1e6 * process / head:.1f} us, backends "
        f"{1e6 * backends / head:.1f} us CPU per event"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
