"""Picks: an operator another run of a command of this process is giving a chat to ranks
last; each run holds its own list of picks."""

from __future__ import annotations

import threading
from uuid import uuid4

from hypothesis import given
from hypothesis import strategies as st

from application.routing import Picks
from domain.routing import Candidate, rank_candidates

GROUP = uuid4()


def operator(load: int = 0, max_chats: int = 5) -> Candidate:
    return Candidate(uuid4(), "working", frozenset({GROUP}), load, max_chats)


def in_thread(action) -> None:
    thread = threading.Thread(target=action)
    thread.start()
    thread.join()


def rank(candidates):
    return lambda held: rank_candidates(candidates, GROUP, held)


def test_a_chat_being_given_counts_as_load_until_that_run_ends() -> None:
    picks = Picks()
    a, b = operator(load=0), operator(load=0)
    first = []
    release, held = threading.Event(), threading.Event()

    def other_run() -> None:
        mine: list = []
        first.append(picks.hold_best(rank([a, b]), mine)[0])
        held.set()
        release.wait(5)
        picks.release(mine)

    thread = threading.Thread(target=other_run)
    thread.start()
    held.wait(5)
    other = b if first[0] == a else a
    # The other run holds one: this one gets the other operator, the held one after.
    mine: list = []
    assert picks.hold_best(rank([a, b]), mine) == [other, first[0]]
    picks.release(mine)
    release.set()
    thread.join()
    assert picks.hold_best(rank([a, b]), [])[0] == first[0]  # nothing held: the same order again


def test_an_operator_being_given_a_chat_goes_after_busier_ones() -> None:
    """Two commands giving one operator a chat at once would collide on its version."""
    picks = Picks()
    idle, busy = operator(load=0), operator(load=3)
    in_thread(lambda: picks.hold_best(rank([idle, busy]), []))  # a run that never ends holds it
    assert picks.hold_best(rank([idle, busy]), []) == [busy, idle]


def test_a_run_lets_go_of_its_own_picks_only() -> None:
    picks = Picks()
    a, b = operator(), operator()
    in_thread(lambda: picks.hold(a.operator_id, []))  # held by a run that never ends
    mine: list = []
    picks.hold(b.operator_id, mine)
    picks.release(mine)
    picks.release(mine)  # twice is harmless
    assert picks.hold_best(rank([a, b]), [])[0] == b


@given(loads=st.lists(st.integers(0, 4), min_size=1, max_size=6), runs=st.integers(1, 12))
def test_concurrent_runs_choose_different_operators_least_loaded_first(
    loads: list[int], runs: int
) -> None:
    """Runs that never end hold their picks: each takes the least loaded operator nobody
    holds, while there is one; then operators again, least loaded (held chats counted) first."""
    picks = Picks()
    candidates = [operator(load=load, max_chats=100) for load in loads]
    chosen = []
    for _ in range(runs):
        in_thread(lambda: chosen.append(picks.hold_best(rank(candidates), [])[0]))
    first = chosen[: len(candidates)]
    assert len(set(first)) == len(first)
    assert [c.load for c in first] == sorted(c.load for c in first)
    assert [c.load for c in first] == sorted(loads)[: len(first)]
