"""Operators this process's commands have chosen and not yet saved: concurrent handoffs of one
process choose the next best operator instead of all racing for the same one.

Every command ranks operators from the same picture (the directory), so commands running at the
same moment would all choose its best operator; all but one would lose the version race on that
operator, reload everything and run again. While a command holds its pick (from choosing it until
the end of that run: saved, failed or lost), the others rank that operator after the rest.
The aggregates still decide: this only changes which candidate is tried first.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Protocol, TypeVar
from uuid import UUID


class HasOperator(Protocol):
    @property
    def operator_id(self) -> UUID: ...


C = TypeVar("C", bound=HasOperator)


class Picks:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: Counter[UUID] = Counter()  # operator -> runs holding it
        self._mine = threading.local()  # this thread's run: the operators it holds

    def hold(self, operator_id: UUID) -> None:
        """This thread's run of a command chose ``operator_id``."""
        with self._lock:
            self._held[operator_id] += 1
        self._own().append(operator_id)

    def release(self) -> None:
        """This thread's run is over: let go of whatever it held."""
        mine = self._own()
        if not mine:
            return
        with self._lock:
            for operator_id in mine:
                self._held[operator_id] -= 1
                if self._held[operator_id] <= 0:
                    del self._held[operator_id]
        mine.clear()

    def hold_best(self, rank: Callable[[Mapping[UUID, int]], list[C]]) -> list[C]:
        """Rank with what other runs hold (``rank`` gets operator -> runs holding it) and hold
        the best for this run, in one step: no other run ranks between the two."""
        with self._lock:
            order = rank(dict(self._held))
            if order:
                self._held[order[0].operator_id] += 1
        if order:
            self._own().append(order[0].operator_id)
        return order

    def _own(self) -> list[UUID]:
        mine = getattr(self._mine, "operators", None)
        if mine is None:
            mine = self._mine.operators = []
        return mine
