"""Who is woken when a read model advances: a listener for one model only by that model (the
webhook sender and the long polls wait for one; six models advance with each batch)."""

from __future__ import annotations

from projections.machinery.positions import PositionWaiter


def waiter() -> PositionWaiter:
    # Never started: ``advance`` is what its listening thread calls on each announcement.
    return PositionWaiter(connect=lambda: None, read_positions=dict)  # type: ignore[arg-type]


def test_a_listener_for_one_model_is_woken_by_that_model_only() -> None:
    positions = waiter()
    woken: list[str] = []
    positions.listen(lambda: woken.append("events"), "events")
    positions.listen(lambda: woken.append("any"))
    positions.advance("dashboard", 5)
    assert woken == ["any"]
    positions.advance("events", 5)
    assert sorted(woken) == ["any", "any", "events"]


def test_no_wake_for_a_position_already_reached_nor_after_unlisten() -> None:
    positions = waiter()
    woken: list[int] = []

    def listener() -> None:
        woken.append(positions.position("events"))

    positions.listen(listener, "events")
    positions.advance("events", 7)
    positions.advance("events", 7)
    positions.advance("events", 3)
    assert woken == [7]
    positions.unlisten(listener)
    positions.advance("events", 9)
    assert woken == [7]
