"""How ``projections rebuild --processes N`` shares the read models out."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from infrastructure.rebuilding import COSTS, shares

MODELS = ["directory", "dashboard", "history", "reports", "clients", "events"]


def cost(share: list[str]) -> int:
    return sum(COSTS.get(name, 2) for name in share)


def test_two_processes_get_about_equal_work() -> None:
    split = shares(MODELS, 2)
    assert len(split) == 2
    assert abs(cost(split[0]) - cost(split[1])) <= 1
    assert "events" in split[0]  # the costliest goes first, to the first share


def test_one_process_keeps_every_model_in_order() -> None:
    assert shares(MODELS, 1) == [MODELS]


def test_never_more_processes_than_models() -> None:
    assert shares(["dashboard"], 8) == [["dashboard"]]
    assert sorted(map(len, shares(MODELS, 16))) == [1] * 6


@given(st.lists(st.sampled_from(MODELS), unique=True, min_size=1), st.integers(1, 8))
def test_each_model_is_in_exactly_one_share_in_its_order(names: list[str], n: int) -> None:
    split = shares(names, n)
    assert sorted(name for share in split for name in share) == sorted(names)
    assert len(split) == min(n, len(names))
    for share in split:
        assert share == [name for name in names if name in share]
