"""What operators of the service ask about a running deployment: read models and their lag."""

from __future__ import annotations

from dataclasses import dataclass

from infrastructure.bootstrap import Container
from projections.runner import ReadModelRunner


@dataclass(frozen=True)
class ReadModelStatus:
    name: str
    position: int
    head: int
    followed: bool  # some process holds the read model's advisory lock and follows the log

    @property
    def lag(self) -> int:
        return max(self.head - self.position, 0)


def read_model_status(container: Container) -> list[ReadModelStatus]:
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
