"""Muting a chat's client: timed and open-ended mutes, lifting them, and a reference model."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.chat_status import MAX_MUTE_MINUTES
from domain.errors import InvalidValue
from tests.unit.chat_lifecycle_helpers import (
    GROUP_ID,
    OPERATOR_ID,
    SYSTEM,
    T0,
    active_chat,
    close,
    drain,
    minutes,
    mute,
    names,
    operator_actor,
    rebuilt,
    request_chat,
    unmute,
)

# -- mute -------------------------------------------------------------------------------------


def test_a_timed_mute_records_when_it_ends():
    chat = active_chat()

    mute(chat, 30, at=minutes(1))

    events = drain(chat)
    assert names(events) == ["Muted"]
    assert events[0].until == minutes(31)
    assert events[0].timestamp == minutes(1)
    assert events[0].actor == operator_actor(OPERATOR_ID)
    assert chat.muted is True
    assert chat.muted_until == minutes(31)


def test_a_timed_mute_holds_until_its_time_and_no_longer():
    chat = active_chat()
    mute(chat, 30, at=minutes(1))

    assert chat.is_muted(minutes(1))
    assert chat.is_muted(minutes(31) - timedelta(microseconds=1))
    assert not chat.is_muted(minutes(31)), "the mute ends at `until`, even before it is lifted"
    assert not chat.is_muted(minutes(60))
    assert chat.muted is True, "only the engine's Unmuted turns the recorded flag off"


def test_a_mute_without_minutes_lasts_until_lifted():
    chat = active_chat()

    mute(chat, None)

    assert drain(chat)[0].until is None
    assert chat.is_muted(minutes(MAX_MUTE_MINUTES * 10))


def test_a_chat_that_was_never_muted_is_not_muted():
    chat = active_chat()

    assert chat.muted is False
    assert not chat.is_muted(T0)


def test_muting_again_replaces_the_end_of_the_mute():
    chat = active_chat()
    mute(chat, 60)

    mute(chat, 5, at=minutes(1))

    assert names(drain(chat)) == ["Muted", "Muted"]
    assert chat.muted_until == minutes(6)
    assert not chat.is_muted(minutes(7))


@pytest.mark.parametrize("minutes_", [1, 2, MAX_MUTE_MINUTES - 1, MAX_MUTE_MINUTES])
def test_a_mute_lasts_from_one_minute_to_a_week(minutes_):
    chat = active_chat()

    mute(chat, minutes_)

    assert chat.muted_until == T0 + timedelta(minutes=minutes_)
    assert MAX_MUTE_MINUTES == 10_080


@pytest.mark.parametrize(
    "minutes_",
    [0, -1, MAX_MUTE_MINUTES + 1, 10**9, True, False, 1.5, 30.0, "30"],
    ids=repr,
)
def test_a_mute_outside_one_minute_to_a_week_or_not_a_whole_number_is_refused(minutes_):
    chat = active_chat()

    with pytest.raises(InvalidValue):
        mute(chat, minutes_)

    assert drain(chat) == []
    assert chat.muted is False


def test_unmute_lifts_the_mute():
    chat = active_chat()
    mute(chat, 30)
    drain(chat)

    lifted = unmute(chat, at=minutes(2))

    events = drain(chat)
    assert lifted is True
    assert names(events) == ["Unmuted"]
    assert events[0].timestamp == minutes(2)
    assert chat.muted is False
    assert chat.muted_until is None
    assert not chat.is_muted(minutes(2))


def test_unmute_when_not_muted_records_nothing():
    chat = active_chat()

    lifted = unmute(chat)

    assert lifted is False
    assert drain(chat) == []


def test_unmute_after_the_mute_was_lifted_records_nothing():
    chat = active_chat()
    mute(chat, 30)
    unmute(chat)
    drain(chat)

    assert unmute(chat, at=minutes(1)) is False
    assert drain(chat) == []


def test_lift_expired_mute_waits_for_the_time_to_be_up():
    chat = active_chat()
    mute(chat, 10)
    drain(chat)

    assert chat.lift_expired_mute(at=minutes(9), actor=SYSTEM) is False
    assert drain(chat) == []
    assert chat.lift_expired_mute(at=minutes(10), actor=SYSTEM) is True
    events = drain(chat)
    assert names(events) == ["Unmuted"]
    assert events[0].actor == SYSTEM
    assert events[0].timestamp == minutes(10)
    assert chat.muted is False


def test_lift_expired_mute_acts_once():
    chat = active_chat()
    mute(chat, 10)
    chat.lift_expired_mute(at=minutes(11), actor=SYSTEM)
    drain(chat)

    assert chat.lift_expired_mute(at=minutes(12), actor=SYSTEM) is False
    assert drain(chat) == []


def test_lift_expired_mute_never_lifts_a_mute_without_an_end():
    chat = active_chat()
    mute(chat, None)
    drain(chat)

    assert chat.lift_expired_mute(at=minutes(10**6), actor=SYSTEM) is False
    assert drain(chat) == []
    assert chat.muted is True


def test_lift_expired_mute_on_an_unmuted_chat_does_nothing():
    chat = active_chat()

    assert chat.lift_expired_mute(at=minutes(1), actor=SYSTEM) is False
    assert drain(chat) == []


def test_lift_expired_mute_leaves_a_closed_chat_alone():
    chat = active_chat()
    mute(chat, 10)
    close(chat, at=minutes(1))
    drain(chat)

    assert chat.lift_expired_mute(at=minutes(20), actor=SYSTEM) is False
    assert drain(chat) == []


def test_a_mute_survives_rebuilding_from_events():
    chat = request_chat()
    chat.queue(GROUP_ID, at=T0, actor=SYSTEM)
    chat.assign(OPERATOR_ID, GROUP_ID, at=T0, actor=SYSTEM)
    mute(chat, 30, at=minutes(1))

    copy = rebuilt(drain(chat))

    assert copy.muted is True
    assert copy.muted_until == minutes(31)
    assert copy.is_muted(minutes(30)) and not copy.is_muted(minutes(31))


# -- is_muted against a reference model, for any sequence of mute commands ---------------------

MUTE_STEPS = st.lists(
    st.tuples(
        st.sampled_from(["mute", "unmute", "lift_expired_mute"]),
        st.one_of(st.none(), st.integers(min_value=1, max_value=120)),  # mute minutes
        st.integers(min_value=0, max_value=150),  # minutes the clock moves first
        st.booleans(),  # by a supervisor
    ),
    max_size=30,
)


class MuteModel:
    """What muting means, said as simply as possible."""

    def __init__(self) -> None:
        self.muted = False
        self.until: datetime | None = None

    def mute(self, minutes_: int | None, at: datetime) -> None:
        self.muted = True
        self.until = None if minutes_ is None else at + timedelta(minutes=minutes_)

    def unmute(self) -> bool:
        was, self.muted, self.until = self.muted, False, None
        return was

    def lift_expired(self, at: datetime) -> bool:
        if self.muted and self.until is not None and at >= self.until:
            return self.unmute()
        return False

    def is_muted(self, at: datetime) -> bool:
        return self.muted and (self.until is None or at < self.until)


@settings(max_examples=200, deadline=None)
@given(steps=MUTE_STEPS)
def test_is_muted_agrees_with_a_reference_model_for_any_sequence(steps):
    chat = active_chat()
    model = MuteModel()
    now = T0
    recorded = []

    for command, minutes_, wait, supervisor in steps:
        now += timedelta(minutes=wait)
        who = {"operator_id": None if supervisor else OPERATOR_ID, "supervisor": supervisor}
        if command == "mute":
            mute(chat, minutes_, at=now, **who)
            model.mute(minutes_, now)
        elif command == "unmute":
            assert unmute(chat, at=now, **who) == model.unmute()
        else:
            assert chat.lift_expired_mute(at=now, actor=SYSTEM) == model.lift_expired(now)
        recorded += drain(chat)
        for probe in (now, now + timedelta(minutes=1), now + timedelta(minutes=120)):
            assert chat.is_muted(probe) == model.is_muted(probe)
        assert chat.muted == model.muted

    # Unmuted is recorded only when there was a mute to lift: never twice in a row.
    kinds = [n for n in names(recorded) if n in ("Muted", "Unmuted")]
    assert ("Unmuted", "Unmuted") not in set(pairwise(kinds))
    assert kinds[:1] in ([], ["Muted"])
