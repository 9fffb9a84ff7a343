"""The application's repository: the library's, with three costs of a command taken out.

- A cached aggregate is copied for each command without deep-copying what cannot change
  (UUIDs, strings, numbers, times, frozen containers): an operator holding 300 chats costs a
  list copy, not 300 ``UUID.__reduce_ex__`` calls.
- An aggregate of a kind that is never snapshotted is read without first asking the snapshot
  table (a reservation that does not exist yet costs one round trip, not two).
- ``together()`` brings several aggregates up to date (and loads those of unsnapshotted kinds
  not cached yet) in one statement, for recorders that can (``EventsAfter``); a load inside
  the block takes its copy from there without asking the database again. A copy that is
  already stale when saved loses its version race and the command runs again, as always.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from copy import deepcopy
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, Protocol, runtime_checkable
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository, project_aggregate
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent

# Values that no command changes in place: shared between the cache and the copies.
_ATOMIC = frozenset(
    {str, int, float, bool, bytes, type(None), UUID, datetime, date, time, timedelta, Decimal}
)


def copy_state(value: Any) -> Any:
    """A copy that no mutation of the original can reach, sharing every immutable part."""
    kind = type(value)
    if kind in _ATOMIC or isinstance(value, Enum):
        return value
    if kind is list:
        return [v if type(v) in _ATOMIC else copy_state(v) for v in value]
    if kind is dict:
        return {k: v if type(v) in _ATOMIC else copy_state(v) for k, v in value.items()}
    if kind is set:
        return set(value)  # members are hashable: immutable in practice
    if kind is frozenset:
        return value
    if kind is tuple:
        if all(type(v) in _ATOMIC for v in value):
            return value
        return tuple(copy_state(v) for v in value)
    return deepcopy(value)


def copy_aggregate(aggregate: Aggregate) -> Aggregate:
    copied = object.__new__(type(aggregate))
    copied.__dict__.update({k: copy_state(v) for k, v in aggregate.__dict__.items()})
    return copied


@runtime_checkable
class EventsAfter(Protocol):
    """A recorder that reads the events of several aggregates in one statement."""

    def select_events_after(self, after: Mapping[UUID, int]) -> Sequence[StoredEvent]:
        """Each aggregate's events with a version above the one given, by id and version."""
        ...


class SwitchboardRepository(Repository[UUID]):
    """Set up with the library's cache and fast-forwarding, its deep copy turned off."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loaded = threading.local()  # per command thread: id -> copy (None: no such id)

    def get(  # type: ignore[override]
        self,
        aggregate_id: UUID,
        *,
        version: int | None = None,
        projector_func: Any = project_aggregate,
        fastforward_skipping: bool = False,
        deepcopy_from_cache: bool = True,
        snapshots: bool = True,
    ) -> Any:
        if version is None and self.cache is not None:
            loaded = getattr(self._loaded, "copies", None)
            if loaded is not None and aggregate_id in loaded:
                aggregate = loaded.pop(aggregate_id)  # each copy serves one load
                if aggregate is None:
                    raise AggregateNotFoundError(aggregate_id)
                return aggregate
            if not snapshots:
                try:
                    self.cache.get(aggregate_id)
                except KeyError:
                    aggregate = self._without_snapshot(aggregate_id)
                    copied = copy_aggregate(aggregate) if deepcopy_from_cache else aggregate
                    self.cache.put(aggregate_id, aggregate)
                    return copied
            aggregate = super().get(
                aggregate_id,
                projector_func=projector_func,
                fastforward_skipping=fastforward_skipping,
                deepcopy_from_cache=False,
            )
            if not deepcopy_from_cache:
                return aggregate
            # Copied under the fast-forward lock: another thread may be moving it forward.
            lock = self._use_fastforward_lock(aggregate_id)
            try:
                with lock:
                    return copy_aggregate(aggregate)
            finally:
                self._disuse_fastforward_lock(aggregate_id)
        if version is None and not snapshots:
            return self._without_snapshot(aggregate_id)
        return super().get(aggregate_id, version=version, projector_func=projector_func)

    def _without_snapshot(self, aggregate_id: UUID) -> Any:
        aggregate = project_aggregate(None, self.event_store.get(originator_id=aggregate_id))
        if aggregate is None:
            raise AggregateNotFoundError(aggregate_id)
        return aggregate

    @contextmanager
    def together(self, ids: Mapping[UUID, bool]) -> Iterator[None]:
        """Load ``ids`` (id -> its kind is snapshotted) in one statement for the block."""
        recorder = self.event_store.recorder
        if self.cache is None or not isinstance(recorder, EventsAfter) or not ids:
            yield
            return
        cached: dict[UUID, Aggregate] = {}
        after: dict[UUID, int] = {}
        for aggregate_id, snapshotted in ids.items():
            try:
                cached[aggregate_id] = self.cache.get(aggregate_id)
            except KeyError:
                if not snapshotted:  # read whole; a snapshotted kind loads on its own
                    after[aggregate_id] = 0
        with ExitStack() as locks:
            # Fast-forwarding changes the cached aggregate in place: under the library's lock
            # for each, taken in one order so that two such blocks cannot deadlock, and its
            # version read once the lock is held.
            for aggregate_id in sorted(cached):
                lock = self._use_fastforward_lock(aggregate_id)
                locks.callback(self._disuse_fastforward_lock, aggregate_id)
                lock.acquire()
                locks.callback(lock.release)
                after[aggregate_id] = cached[aggregate_id].version
            events: dict[UUID, list[Any]] = {aggregate_id: [] for aggregate_id in after}
            to_domain_event = self.event_store.mapper.to_domain_event
            for stored in recorder.select_events_after(after):
                events[stored.originator_id].append(to_domain_event(stored))
            copies: dict[UUID, Aggregate | None] = {}
            for aggregate_id, new in events.items():
                aggregate = project_aggregate(cached.get(aggregate_id), new)
                copies[aggregate_id] = None if aggregate is None else copy_aggregate(aggregate)
                if aggregate is not None and aggregate_id not in cached:
                    self.cache.put(aggregate_id, aggregate)
        self._loaded.copies = copies
        try:
            yield
        finally:
            self._loaded.copies = None
