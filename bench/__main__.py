"""``python -m bench [--quick]``: Switchboard's benchmark suite (not part of the test suite).

One run measures, each beside its baseline and its target:

1. handoffs per second over HTTP (8-32 bot clients, ``serve --worker external`` plus a
   ``switchboard worker``), beside ``/healthz`` and raw psycopg transactions; latency at the
   maximum and, open loop, at half of it;
2. the event append rate through ``app.save``, beside raw inserts of the same batches;
3. the projection rebuild rate, beside a raw read of the event log;
4. query latency (dashboard, history, SLA report) at the dataset's size under a write load;
5. live lag from a command's 2xx on one API process to its SSE event on another;
6. audit: replaying a chat of 200 events, its events over HTTP, ``as_of``;
7. peak RSS of the API and worker processes.

It prints a table, writes ``bench/results/<timestamp>.json`` and ``latest.json``, and ends
with one line of headline figures.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from bench import dataset, figures, recorders, report, services, two_processes


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="about 20k chats; the whole run in minutes"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="a PostgreSQL server URL on which the bench may create databases (default: "
        "DATABASE_URL, else a private embedded PostgreSQL under bench/.data/)",
    )
    parser.add_argument(
        "--rebuild-dataset", action="store_true", help="build the dataset again even if complete"
    )
    parser.add_argument("--output", type=Path, help="the JSON file (default bench/results/)")
    parser.add_argument(
        "--only",
        default="1,2,3,4,5,6,7",
        help="comma-separated figure numbers to measure (default all)",
    )
    parser.add_argument(
        "--recorders",
        default=",".join(recorders.RECORDERS),
        help="the recorders (SWITCHBOARD_RECORDER) figures 1 and 2 compare side by side",
    )
    parser.add_argument(
        "--recorder-rounds", type=int, default=3, help="interleaved rounds per recorder (median)"
    )
    parser.add_argument("--keep-run-db", action="store_true", help="keep the run's database copy")
    return parser.parse_args(argv)


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    size = dataset.SIZES["quick" if args.quick else "full"]
    only = {int(n) for n in args.only.split(",") if n.strip()}
    started = time.perf_counter()
    server = services.PostgresServer(args.database_url)
    server_url = server.start()
    run_name = f"{dataset.dataset_name(size)}_run"
    results: dict[str, Any] = {
        "size": size.name,
        "started_at": datetime.now(UTC).isoformat(),
        "database": "embedded" if server.embedded else "given",
        "figures": {},
    }
    try:
        results["machine"] = services.machine()
        info = dataset.ensure(server_url, size, rebuild_dataset=args.rebuild_dataset, say=say)
        results["dataset"] = {
            "chats": info.chats,
            "events": info.events,
            "window": [info.window_from, info.window_to],
            "build": info.build,
        }
        services.drop_database(server_url, run_name)
        say(f"copying the dataset into {run_name}")
        run_url = services.create_database(
            server_url, run_name, template=dataset.dataset_name(size)
        )
        results["versions"] = services.versions(run_url)
        say("vacuuming the copy and reading it once (a warm server, as in service)")
        results["prewarm"] = services.prewarm(run_url)
        measure(args, size, info, run_url, only, results)
    finally:
        if not args.keep_run_db:
            try:
                services.drop_database(server_url, run_name)
            except Exception as error:
                say(f"could not drop {run_name}: {error}")
        server.stop()
    results["wall_s"] = round(time.perf_counter() - started, 1)
    path = report.write(results, args.output)
    print(report.table(results))
    print(report.machine_line(results))
    print(f"results: {path}")
    print(report.headline(results))
    return 0


def measure(
    args: argparse.Namespace,
    size: dataset.Size,
    info: dataset.DatasetInfo,
    run_url: str,
    only: set[int],
    results: dict[str, Any],
) -> None:
    from infrastructure.bootstrap import build
    from infrastructure.config import Config

    quick = size.name == "quick"
    tokens = issue_tokens(run_url, info)
    admin_token = "sb_admin_" + secrets.token_urlsafe(24)
    workdir = services.DATA_DIR / "run"
    redis = services.redis_answers()
    env = {"REDIS_URL": services.REDIS_URL} if redis else {}
    bench = figures.Bench(
        info=info,
        size=size,
        run_url=run_url,
        tokens=tokens,
        say=say,
        live_transport="redis" if redis else "in-process/poll fallback (no Redis answered)",
        phase_s=figures.PHASE_S[size.name],
    )
    f = results["figures"]
    http_figures = only & {1, 4, 5, 6, 7}
    if http_figures:
        bench.worker = services.worker(run_url, workdir, admin_token, **env)
        bench.api = services.api_server(run_url, workdir, admin_token, **env)
        bench.api2 = services.api_server(run_url, workdir, admin_token, **env)
        try:
            say("starting worker and two API processes")
            for process in (bench.worker, bench.api, bench.api2):
                process.start()
            if 1 in only:
                say("figure 1: handoff throughput")
                f["handoffs"] = figures.handoff_throughput(
                    bench,
                    lambda c: figures.raw_insert_rate(run_url, c, bench.phase_s),
                )
                say("figure 1: handoffs through two API processes at once")
                f["handoffs_two_processes"] = two_processes.handoffs_two_processes(
                    bench, f["handoffs"]["handoffs_per_s"]
                )
                say(f"figure 1: handoffs by recorder ({args.recorders})")
                f["handoffs_by_recorder"] = recorders.handoffs_by_recorder(
                    bench,
                    args.recorders.split(","),
                    workdir,
                    admin_token,
                    args.recorder_rounds,
                    env,
                )
            if 5 in only:
                say("figure 5: live lag")
                f["live"] = figures.live_lag(bench, count=100 if quick else 300)
            if 4 in only:
                # A quarter of the measured maximum; alone, about what 2 cores sustain.
                max_rate = f.get("handoffs", {}).get("handoffs_per_s", 80)
                write_rate = round(max(min(max_rate / 4, 200), 10))
                say(f"figure 4: queries under {write_rate} handoffs/s")
                f["queries"] = figures.queries(bench, write_rate)
            if 6 in only:
                say("figure 6: audit over HTTP")
                f.setdefault("audit", {})["http"] = figures.audit_http(bench)
            f["memory"] = {
                "api (commands)": bench.api.peak_rss_mb(),
                "api (stream)": bench.api2.peak_rss_mb(),
                "worker": bench.worker.peak_rss_mb(),
            }
        finally:
            for process in (bench.api, bench.api2, bench.worker):
                if process is not None:
                    process.stop()
        f["generator"] = bench.generator
    if only & {2, 3, 6}:
        container = build(
            Config(
                DATABASE_URL=run_url, SWITCHBOARD_DB_POOL_SIZE=2, SWITCHBOARD_LOG_LEVEL="WARNING"
            ),
            run_projections=False,
        )
        try:
            if 6 in only:
                say("figure 6: audit in process")
                f.setdefault("audit", {})["in_process"] = figures.audit_in_process(
                    container.app,
                    UUID(info.long_chat_id),
                    datetime.fromisoformat(info.long_chat_mid),
                )
            if 3 in only:
                cap = 40_000 if quick else 1_000_000
                say(f"figure 3: projection rebuild over {cap:,} events")
                f["rebuild"] = figures.rebuild_rate(container, cap)
            if 2 in only:
                say("figure 2: event append")
                f["append"] = figures.append_rate(
                    container.app, run_url, 2_000 if quick else 20_000, dataset.SAVE_BATCH
                )
                say(f"figure 2: appends by recorder ({args.recorders})")
                f["append_by_recorder"] = recorders.append_by_recorder(
                    run_url,
                    args.recorders.split(","),
                    2_000 if quick else 10_000,
                    args.recorder_rounds,
                    say,
                )
        finally:
            container.stop()


def issue_tokens(run_url: str, info: dataset.DatasetInfo) -> figures.Tokens:
    """Tokens for the run (the dataset keeps no secrets), and a group with one operator for
    the live-lag figure, made through the application's commands on the run's copy."""
    from application.clock import SystemClock
    from domain.operator import MAX_MAX_CHATS
    from infrastructure.bootstrap import build
    from infrastructure.config import Config

    container = build(
        Config(DATABASE_URL=run_url, SWITCHBOARD_DB_POOL_SIZE=2, SWITCHBOARD_LOG_LEVEL="WARNING"),
        clock=SystemClock(),
        run_projections=False,
    )
    app = container.app
    actor = dataset.ADMIN.actor
    try:
        queue_operator = next(
            UUID(op)
            for op in info.operator_ids
            if UUID(info.manual_group_id) in app.get_operator(UUID(op)).group_ids
        )

        def token(role: str, name: str, operator_id: UUID | None = None) -> str:
            return app.issue_token(
                role=role, name=name, operator_id=operator_id, actor=actor
            ).value.token

        live_group = app.create_group(actor=actor, name=f"Live {secrets.token_hex(3)}").value
        live_operator, live_token = app.register_operator(
            actor=actor,
            first_name="Live",
            last_name="Lag",
            email=f"live-{secrets.token_hex(3)}@bench.example",
            group_ids=[live_group.id],
            max_chats=MAX_MAX_CHATS,
        ).value
        app.set_status(live_operator.id, "working", caller=app.authenticate(live_token))
        return figures.Tokens(
            bot=token("bot", dataset.BOT.name),
            busy_operator=token("operator", "busy", UUID(info.busy_operator_id)),
            queue_operator=token("operator", "queue", queue_operator),
            supervisor=token("supervisor", "super", UUID(info.supervisor_id)),
            live_operator=live_token,
            live_group_id=str(live_group.id),
        )
    finally:
        container.stop()


if __name__ == "__main__":
    sys.exit(main())
