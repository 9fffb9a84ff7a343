"""Access records kept in this process's memory: for the in-memory store and single-process
tests. Production keeps them in PostgreSQL (``infrastructure.access_records``)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from uuid import UUID, uuid4


class InProcessAccessRecords:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[str, dict[UUID, datetime]] = {}
        self._used: dict[UUID, datetime] = {}
        self._active: dict[UUID, datetime] = {}
        self._heartbeats: dict[UUID, datetime] = {}

    def attempt(
        self, key: str, *, at: datetime, since: datetime, wait: Callable[[list[datetime]], float]
    ) -> float:
        with self._lock:
            failures = self._failures.setdefault(key, {})
            seconds = wait([f for f in failures.values() if f > since])
            if not seconds:
                failures[uuid4()] = at
            return seconds

    def forget(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def touch(self, token_id: UUID, at: datetime, *, active: bool) -> None:
        with self._lock:
            self._used[token_id] = max(at, self._used.get(token_id, at))
            if active:
                self._active[token_id] = max(at, self._active.get(token_id, at))

    def last_active(self, token_id: UUID) -> datetime | None:
        return self._active.get(token_id)

    def last_used(self, token_ids: Sequence[UUID]) -> dict[UUID, datetime]:
        return {i: self._used[i] for i in token_ids if i in self._used}

    def heartbeat(self, operator_id: UUID, at: datetime) -> None:
        with self._lock:
            self._heartbeats[operator_id] = max(at, self._heartbeats.get(operator_id, at))

    def last_heartbeat(self, operator_id: UUID) -> datetime | None:
        return self._heartbeats.get(operator_id)
