"""The results: a table of each figure beside its baseline and target, a JSON file, a headline."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass
class Row:
    figure: str
    value: float | None
    unit: str
    baseline: str = ""
    ratio: float | None = None
    target: str = ""
    met: bool | None = None


def _at_least(value: float | None, target: float) -> bool | None:
    return None if value is None else value >= target


def _at_most(value: float | None, target: float) -> bool | None:
    return None if value is None else value <= target


def rows(results: dict[str, Any]) -> list[Row]:
    """The table, from the results dict; figures that did not run are left out."""
    out: list[Row] = []
    f = results["figures"]
    if "handoffs" in f:
        h = f["handoffs"]
        out.append(
            Row(
                f"1 handoffs/s over HTTP (x{h['best_concurrency']})",
                h["handoffs_per_s"],
                "/s",
                f"healthz {h['healthz']['rate']:,.0f}/s; raw tx {h['raw_insert']['rate']:,.0f}/s",
                h["ratio_to_raw_insert"],
                ">= 0.30 x raw tx, >= 1,000/s",
                _at_least(h["ratio_to_raw_insert"], 0.30)
                and (h["healthz"]["rate"] < 2500 or _at_least(h["handoffs_per_s"], 1000)),
            )
        )
        for label, run in (("max", h["at_max"]), ("half", h["at_half"])):
            lat = run["latency_ms"]
            out.append(
                Row(
                    f"1 handoff p50/p99/p99.9 at {label} ({run['rate']:,.0f}/s)",
                    lat["p99"],
                    "ms p99",
                    f"p50 {lat['p50']} / p99.9 {lat['p999']} ms",
                    None,
                    "p99 <= 15 ms" if label == "half" else "",
                    _at_most(lat["p99"], 15) if label == "half" else None,
                )
            )
        if h.get("api_cpu_ms_per_handoff") is not None:
            out.append(
                Row(
                    "1 API CPU per handoff (median of phases)",
                    h["api_cpu_ms_per_handoff"],
                    "ms",
                    "user + system CPU of the API process / handoffs",
                )
            )
    if "handoffs_two_processes" in f:
        t = f["handoffs_two_processes"]
        out.append(
            Row(
                f"1 handoffs/s, two API processes (x{t['best']['bots_per_process']} each)",
                t["handoffs_per_s"],
                "/s",
                f"one process {t['one_process_per_s']:,.0f}/s; "
                f"per process {', '.join(f'{r:,.0f}' for r in t['best']['per_process'])}; "
                f"API CPU {t['best'].get('api_cpu_ms_per_handoff')} ms/handoff",
                t["ratio_to_one_process"],
            )
        )
    if "append" in f:
        a = f["append"]
        out.append(
            Row(
                "2 event append via app.save",
                a["app_events_per_s"],
                "events/s",
                f"raw executemany {a['raw_executemany_events_per_s']:,}/s; "
                f"COPY {a['raw_copy_events_per_s']:,}/s",
                a["ratio_to_executemany"],
            )
        )
    for key, figure, unit in (
        ("handoffs_by_recorder", "1 handoffs/s over HTTP, recorder", "/s"),
        ("append_by_recorder", "2 appends, 8 threads, recorder", "events/s"),
    ):
        if key in f:
            by = f[key]
            rates = by.get("handoffs_per_s") or by["events_per_s"]
            for name, rate in rates.items():
                batch = by.get("commands_per_batch", {}).get(name)
                out.append(
                    Row(
                        f"{figure} {name}",
                        rate,
                        unit,
                        f"x library, median of {by['rounds']}"
                        + (f"; {batch} commands/batch" if batch else ""),
                        by["ratio_to_library"].get(name),
                    )
                )
    if "rebuild" in f:
        r = f["rebuild"]
        out.append(
            Row(
                f"3 rebuild, all read models in one pass ({r['events']:,} ev)",
                r["all_read_models_events_per_s"],
                "events/s",
                f"raw read {r['raw_read_events_per_s']:,}/s",
                r["ratio_to_raw_read"],
                ">= 30,000/s",
                _at_least(r["all_read_models_events_per_s"], 30_000),
            )
        )
        if r.get("ratio_to_read_and_decode") is not None:
            out.append(
                Row(
                    "3   against reading and decoding the log",
                    r["read_and_decode_events_per_s"],
                    "events/s",
                    "its ratio: the one pass over reading and decoding alone",
                    r["ratio_to_read_and_decode"],
                    ">= 0.5x",
                    _at_least(r["ratio_to_read_and_decode"], 0.5),
                )
            )
        if r.get("two_processes_events_per_s"):
            out.append(
                Row(
                    "3   all read models, two processes (`--processes 2`)",
                    r["two_processes_events_per_s"],
                    "events/s",
                    "the same events; each process reads the log for its share",
                    round(r["two_processes_events_per_s"] / r["all_read_models_events_per_s"], 2),
                )
            )
        if r.get("one_by_one_events_per_s"):
            out.append(Row("3   one model at a time", r["one_by_one_events_per_s"], "events/s"))
        for name, model in r["per_model"].items():
            out.append(Row(f"3   {name} alone", model["events_per_s"], "events/s"))
    if "queries" in f:
        q = f["queries"]
        for name, figure in q["queries"].items():
            target = figure["target_p99_ms"]
            out.append(
                Row(
                    f"4 {name}",
                    figure["p99"],
                    "ms p99",
                    f"p50 {figure['p50']} ms, n={figure['n']}",
                    None,
                    f"p99 <= {target:g} ms",
                    _at_most(figure["p99"], target),
                )
            )
    if "live" in f:
        lv = f["live"]
        out.append(
            Row(
                f"5 live lag, 2 APIs + worker ({lv['transport']})",
                lv["lag_ms"]["p99"],
                "ms p99",
                f"p50 {lv['lag_ms']['p50']} ms, {lv['delivered']}/{lv['sent']} seen",
                None,
                "p99 <= 100 ms",
                _at_most(lv["lag_ms"]["p99"], 100),
            )
        )
    if "audit" in f:
        au = f["audit"]
        replay = au["in_process"]["replay_200_events"]
        out.append(
            Row(
                "6 replay one chat of 200 events",
                replay["p50"],
                "ms p50",
                f"select events {au['in_process']['select_stored_events']['p50']} ms; "
                f"repository.get {au['in_process']['repository_get']['p50']} ms",
                None,
                "<= 5 ms",
                _at_most(replay["p50"], 5),
            )
        )
        if "http" in au:
            out.append(
                Row(
                    "6 GET /v1/chats/{id}/events (200)",
                    au["http"]["events"]["p50"],
                    "ms p50",
                    f"p99 {au['http']['events']['p99']} ms",
                )
            )
            out.append(
                Row(
                    "6 GET /v1/chats/{id}?as_of=",
                    au["http"]["as_of"]["p50"],
                    "ms p50",
                    f"in-process {au['in_process']['as_of']['p50']} ms",
                )
            )
    if "memory" in f:
        m = f["memory"]
        for name, mb in m.items():
            api = name.startswith("api")
            out.append(
                Row(
                    f"7 peak RSS {name}",
                    mb,
                    "MB",
                    target="<= 150 MB" if api else "",
                    met=_at_most(mb, 150) if api else None,
                )
            )
    if "generator" in f:
        for run in f["generator"]:
            out.append(
                Row(
                    f"  load generator {run['request']}/{run['mode']}",
                    run["generator_cpu_s"],
                    "CPU s",
                    f"of {run['generator_wall_s']} s wall ({run['rate']:,.0f}/s)",
                )
            )
    return out


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and value < 100:
        return f"{value:,.2f}"
    return f"{value:,.0f}"


def table(results: dict[str, Any]) -> str:
    lines = [
        f"{'figure':<46} {'value':>10} {'unit':<9} {'ratio':>6}  {'target':<13} {'met':<7} "
        "baseline / detail",
        "-" * 140,
    ]
    for row in rows(results):
        met = "" if row.met is None else ("met" if row.met else "NOT MET")
        ratio = "" if row.ratio is None else f"{row.ratio:.3f}"
        lines.append(
            f"{row.figure:<46} {_fmt(row.value):>10} {row.unit:<9} {ratio:>6}  "
            f"{row.target:<13} {met:<7} {row.baseline}"
        )
    return "\n".join(lines)


def machine_line(results: dict[str, Any]) -> str:
    m, v = results["machine"], results["versions"]
    fsync = m["pg_test_fsync"]
    fsync_text = (
        f"pg_test_fsync best {fsync['best_8kB_sync_ops_s']:,.0f} ops/s"
        if fsync.get("available") and fsync.get("best_8kB_sync_ops_s")
        else f"pg_test_fsync: {fsync.get('note', 'n/a')}"
    )
    warm = results.get("prewarm", {})
    warm_text = (
        f"; the copy vacuumed and read once before measuring ({warm['blocks'] * 8 // 1024:,} MB"
        f" by {warm.get('how', 'pg_prewarm')}, {warm['seconds']} s)"
        if warm.get("prewarmed")
        else f"; not prewarmed ({warm['why']})"
        if warm
        else ""
    )
    return (
        f"machine: {m['cores']} cores, {m['memory_gb']} GB, {m['cpu']}; {fsync_text}; "
        f"python {v['python']}, PostgreSQL {v['postgres']} (synchronous_commit "
        f"{v['synchronous_commit']}), eventsourcing {v['eventsourcing']}, fastapi "
        f"{v['fastapi']}, uvicorn {v['uvicorn']}, psycopg {v['psycopg']}{warm_text}"
    )


def headline(results: dict[str, Any]) -> str:
    f = results["figures"]
    parts = [f"switchboard bench {results['size']}"]
    if "handoffs" in f:
        h = f["handoffs"]
        parts.append(
            f"handoffs {h['handoffs_per_s']:,.0f}/s (p99 {h['at_half']['latency_ms']['p99']} ms "
            f"at half)"
        )
    if "rebuild" in f:
        parts.append(f"rebuild {f['rebuild']['all_read_models_events_per_s']:,}/s")
    if "queries" in f:
        q = f["queries"]["queries"]
        dash = max((v["p99"] or 0) for k, v in q.items() if k.startswith("dashboard"))
        hist = max((v["p99"] or 0) for k, v in q.items() if k.startswith("history"))
        sla = max((v["p99"] or 0) for k, v in q.items() if k.startswith("SLA"))
        parts.append(f"dashboard p99 {dash} ms, history p99 {hist} ms, SLA {sla} ms")
        clients = [v["p99"] or 0 for k, v in q.items() if k.startswith("clients")]
        if clients:
            parts.append(f"clients search p99 {max(clients)} ms")
    if "live" in f:
        parts.append(f"live lag p99 {f['live']['lag_ms']['p99']} ms")
    if "audit" in f:
        parts.append(f"replay {f['audit']['in_process']['replay_200_events']['p50']} ms")
    if "memory" in f:
        api = max((v or 0) for k, v in f["memory"].items() if k.startswith("api"))
        parts.append(f"API RSS {api} MB")
    missed = [r.figure.strip() for r in rows(results) if r.met is False]
    parts.append(
        f"targets met {sum(r.met is True for r in rows(results))}/"
        f"{sum(r.met is not None for r in rows(results))}"
    )
    del missed
    return " | ".join(parts)


def write(results: dict[str, Any], path: Path | None) -> Path:
    """Write the JSON to ``path`` (default results/<timestamp>.json) and to latest.json."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path or RESULTS_DIR / f"{stamp}.json"
    text = json.dumps(results, indent=2, default=str)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    (RESULTS_DIR / "latest.json").write_text(text)
    return target
