"""The reports' JSON: the sections summed-up tallies make, and the period they cover."""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.clocks import KINDS
from domain.operator import STATUSES
from projections.reports.period import Day, Period
from projections.reports.rollup import ChatTally, ResponseTally

Percentiles = tuple[float | None, float | None]  # p50 and p90


def response_section(tally: ResponseTally, percentiles: Percentiles) -> dict[str, Any]:
    """First or next response: answered clocks against the SL, and the unanswered ones."""
    count = tally.answered
    return {
        "count": count,
        "within_sl": tally.within_sl,
        "pct_within_sl": 100.0 * tally.within_sl / count if count else None,
        # As avg() sums the seconds: a total in whole seconds divides exactly.
        "avg_s": tally.duration_us / 1_000_000 / count if count else None,
        "p50_s": percentiles[0],
        "p90_s": percentiles[1],
        "max_s": tally.max_s,
        "unanswered": tally.unanswered,
    }


def chat_sections(tally: ChatTally) -> dict[str, Any]:
    """The chats, queue and CSAT sections."""
    scores = (tally.score_1, tally.score_2, tally.score_3, tally.score_4, tally.score_5)
    return {
        "csat": {
            "count": tally.rated,
            "avg": tally.rating_sum / tally.rated if tally.rated else None,
            "distribution": {str(n): count for n, count in enumerate(scores, 1)},
        },
        "chats": {
            "requested": tally.requested,
            "closed": tally.closed,
            "abandoned": tally.abandoned,
        },
        "queue": {
            "count": tally.queue_left,
            "avg_wait_s": (
                tally.queue_wait_us / 1_000_000 / tally.queue_left if tally.queue_left else None
            ),
            "max_wait_s": tally.queue_wait_max_s,
            "waiting": tally.waiting,
        },
    }


def sla_sections(
    responses: dict[str, ResponseTally], chats: ChatTally, percentiles: dict[str, Percentiles]
) -> dict[str, Any]:
    """Every section of one part of an SLA report (the period, or one of its days)."""
    return {
        **{kind: response_section(responses[kind], percentiles[kind]) for kind in KINDS},
        **chat_sections(chats),
    }


def period_section(period: Period, bucket: str) -> dict[str, Any]:
    return {"from": period.start, "to": period.end, "tz": period.tz, "bucket": bucket}


def sla_report(
    period: Period,
    bucket: str,
    *,
    estimated: bool,
    sections: dict[date | None, dict[str, Any]],
    days: list[Day],
) -> dict[str, Any]:
    """The SLA report: the period's sections (key ``None``), and each day's in ``buckets``."""
    period_out = period_section(period, bucket)
    period_out["percentiles"] = "estimated" if estimated else "exact"
    return {
        "period": period_out,
        **sections[None],
        "buckets": [
            {"date": day.date, "from": day.start, "to": day.end, **sections[day.date]}
            for day in days
        ],
    }


def no_seconds() -> dict[str, float]:
    """An operator's seconds per status, before any are counted."""
    return {status: 0.0 for status in STATUSES}
