"""Processes that rank the same picture choose apart among equally good operators.

Every API process ranks operators from the same directory; with a fixed order among equals,
all of them would hand their next chat to the same operator and all but one would lose the
version race on it. Each process's ``Routing`` orders equals its own way (a random salt)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

from hypothesis import given
from hypothesis import strategies as st

from application.routing import Routing
from domain.operator import WORKING
from domain.routing import Candidate, rank_candidates

SALES = UUID("00000000-0000-0000-0000-00000000000a")
T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
TIED = 8
PROCESS_PAIRS = 40


class Picture:
    """A routing view that shows the same operators to every process."""

    def __init__(self, candidates: list[Candidate]) -> None:
        self._candidates = candidates

    def candidates(self, group_id: UUID | None = None) -> list[Candidate]:
        return list(self._candidates)

    def group_members(self, group_id: UUID) -> list[UUID]:
        return [c.operator_id for c in self._candidates]

    def catch_up(self, timeout: float) -> bool:
        return True


def tied(n: int, *, load: int = 1, last_assigned_at: datetime | None = T0) -> list[Candidate]:
    return [
        Candidate(uuid4(), WORKING, frozenset({SALES}), load, 10, last_assigned_at)
        for _ in range(n)
    ]


def first_choice(routing: Routing) -> UUID | None:
    with routing.attempt(1) as attempt:
        return attempt.first_choice(SALES)


def process(picture: Picture) -> Routing:
    """What one API process builds: its own Routing over the shared picture."""
    return Routing(picture, lambda operator_id: None)


def test_two_processes_choose_apart_among_equals() -> None:
    picture = Picture(tied(TIED))
    same = sum(
        first_choice(process(picture)) == first_choice(process(picture))
        for _ in range(PROCESS_PAIRS)
    )
    # By chance, 1 pair in TIED picks alike (5 expected); a fixed order makes all 40 alike.
    assert same <= PROCESS_PAIRS // 3, f"{same} of {PROCESS_PAIRS} pairs chose the same operator"


def test_processes_with_the_same_order_would_all_collide() -> None:
    """The same check fails without a per-process order: the test can fail."""
    picture = Picture(tied(TIED))
    pairs = []
    for _ in range(PROCESS_PAIRS):
        one, other = process(picture), process(picture)
        other.salt = one.salt
        pairs.append(first_choice(one) == first_choice(other))
    assert all(pairs)


def test_one_process_keeps_its_order_while_the_picture_stands() -> None:
    routing = process(Picture(tied(TIED)))
    assert len({first_choice(routing) for _ in range(10)}) == 1


def test_the_order_among_equals_never_overrides_load_or_last_assignment() -> None:
    lighter = tied(1, load=0)
    older = tied(1, last_assigned_at=datetime(2025, 1, 1, tzinfo=UTC))
    for _ in range(20):
        routing = process(Picture([*tied(TIED), *older, *lighter]))
        with routing.attempt(1) as attempt:
            assert attempt.first_choice(SALES) == lighter[0].operator_id
        routing = process(Picture([*tied(TIED), *older]))
        with routing.attempt(1) as attempt:
            assert attempt.first_choice(SALES) == older[0].operator_id


@given(salt=st.integers(min_value=0, max_value=2**128 - 1), seed=st.integers(0, 10))
def test_every_salt_ranks_every_available_operator_once(salt: int, seed: int) -> None:
    candidates = tied(TIED) + tied(seed, load=seed % 3)
    ranked = rank_candidates(candidates, SALES, salt=salt)
    assert sorted(c.operator_id for c in ranked) == sorted(c.operator_id for c in candidates)
    loads = [c.load for c in ranked]
    assert loads == sorted(loads)
