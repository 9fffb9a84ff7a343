"""What operators of the service ask about a running deployment: read models and their lag."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from eventsourcing.persistence import PersistenceError
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from api.metrics import read_side_families
from infrastructure.bootstrap import Services
from projections.machinery.runner import ReadModelRunner


@dataclass(frozen=True)
class ReadModelStatus:
    name: str
    position: int
    head: int
    followed: bool  # some process holds the read model's advisory lock and follows the log

    @property
    def lag(self) -> int:
        return max(self.head - self.position, 0)


def read_model_status(container: Services) -> list[ReadModelStatus]:
    head = container.app.head() or 0
    rows = []
    with container.database.connect(autocommit=True) as conn:
        for model in container.read_models:
            followed = conn.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
                "AND classid = 0 AND objid = %s::bigint::oid AND objsubid = 1 AND granted)",
                (ReadModelRunner.lock_key_for(model.name),),
            ).fetchone()[0]
            rows.append(ReadModelStatus(model.name, model.position(), head, followed))
    return rows


class WorkerCollector:
    """Prometheus figures of a worker process, read at each scrape: the log's position, each
    read model's position and lag (as the API reports them), and whether this process follows
    each read model or stands by, and the failures it restarted from."""

    def __init__(self, container: Services) -> None:
        self.container = container

    def collect(self) -> Iterable[Metric]:
        leading = GaugeMetricFamily(
            "switchboard_read_model_leader",
            "1 where this process follows the read model, 0 where it stands by.",
            labels=["read_model"],
        )
        errors = CounterMetricFamily(
            "switchboard_read_model_errors",
            "Failures a read model restarted from (its position, exactly once).",
            labels=["read_model"],
        )
        try:
            head = self.container.app.head() or 0
        except PersistenceError:
            head = None  # the database is away: the rest still tells something
        known = self.container.positions()
        positions = {}
        for runner in self.container.runners:
            positions[runner.name] = known.get(runner.name, runner.processed_position)
            leading.add_metric([runner.name], 0 if runner.standby else 1)
            errors.add_metric([runner.name], runner.errors)
        yield from read_side_families(head, positions)
        yield from (leading, errors)
