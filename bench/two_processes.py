"""Figure 1b: handoffs through two API processes at once, to show the gain holds across them.

Two load generators start together, each driving one ``serve`` process with the same number
of bots; the figure is the sum of their rates over the same phase, beside the best rate of one
process measured in the same run.
"""

from __future__ import annotations

from typing import Any

from bench.figures import Bench, finish_generator, start_generator

BOTS_PER_PROCESS = (8, 16)


def handoffs_two_processes(bench: Bench, one_process_rate: float | None) -> dict[str, Any]:
    assert bench.api is not None and bench.api2 is not None
    runs = []
    apis = (bench.api, bench.api2)
    for bots in BOTS_PER_PROCESS:
        cpu_before = [api.cpu_s() or 0.0 for api in apis]
        processes = [
            start_generator(
                bench, request="handoff", mode="closed", concurrency=bots, base_url=api.base_url
            )
            for api in apis
        ]
        results = [finish_generator(bench, process) for process in processes]
        cpu_after = [api.cpu_s() or 0.0 for api in apis]
        cpu = sum(cpu_after) - sum(cpu_before)
        served = sum(r["rate"] * r["generator_wall_s"] for r in results)  # warm-up too
        rate = round(sum(r["rate"] for r in results), 1)
        p99 = max(r["latency_ms"]["p99"] for r in results)
        statuses: dict[str, int] = {}
        for r in results:
            for status, count in r["statuses"].items():
                statuses[status] = statuses.get(status, 0) + count
        bench.say(
            f"  two processes x{bots} bots each: {rate:,.0f}/s, p99 {p99} ms, {statuses}, "
            f"API CPU {round(1e3 * cpu / served, 2) if served else None} ms/handoff"
        )
        runs.append(
            {
                "bots_per_process": bots,
                "rate": rate,
                "per_process": [r["rate"] for r in results],
                "p99_ms": p99,
                "statuses": statuses,
                "api_cpu_ms_per_handoff": round(1e3 * cpu / served, 2) if served else None,
            }
        )
    best = max(runs, key=lambda r: r["rate"])
    return {
        "handoffs_per_s": best["rate"],
        "best": best,
        "runs": runs,
        "one_process_per_s": one_process_rate,
        "ratio_to_one_process": (
            round(best["rate"] / one_process_rate, 2) if one_process_rate else None
        ),
    }
