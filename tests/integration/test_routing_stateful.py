"""Routing and capacity invariants under random sequences of commands, on real PostgreSQL.

A Hypothesis state machine drives the application in-process (the same Services that
``switchboard serve`` builds, read models and dispatcher running in their threads): handoffs
(some repeating an external id: the same open chat comes back and nothing is recorded),
status changes, closes, reassignments to an operator or back to routing in a group,
capacity changes (lowered below the load, too), membership changes, intercepts, manual
groups, a group's routing switched between manual and automatic, and group deletion. Each
command's outcome is predicted from the aggregates beforehand: success, or the one domain
error expected (NotWorking, NoCapacity, NotAssigned, AlreadyIntercepted, ChatClosed,
UnknownReference), and a refused command records nothing.

The model (what the machine knows, its predictions and the invariants it checks after every
step) is ``routing_model.RoutingModel``; here are its rules, one per use case.

One Services serves the whole test. Each example makes its own groups, operators and chats
(unique names), and at teardown sets its operators offline and closes its chats, so the
examples after it route among their own operators only (checked on every step).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    precondition,
    rule,
    run_state_machine_as_test,
)

from application.errors import UnknownReference
from domain.chat import ACTIVE, ASSIGNED, CLOSED, QUEUED
from domain.errors import (
    AlreadyIntercepted,
    ChatClosed,
    NotAssigned,
)
from infrastructure.bootstrap import Services
from tests.clock import FakeClock
from tests.integration.routing_model import (
    ADMIN,
    STATUSES,
    SUPERVISOR,
    GroupInfo,
    RoutingModel,
)


class RoutingMachine(RoutingModel):
    # -- handoff ----------------------------------------------------------------------------------

    @rule(groups=st.lists(st.integers(-1, 4), min_size=1, max_size=3))
    def handoff(self, groups: list[int]) -> None:
        """New chats, one after another (the dispatcher may be draining meanwhile)."""
        for n, group in enumerate(groups):
            self.step(f"handoff x{len(self.external)} to {self.pick_group(group)}")
            self.hand_off(f"x{len(self.external)}", self.pick_group(group), quiet=n == 0)

    @precondition(lambda self: self.external)
    @rule(ext=st.integers(0, 30), group=st.integers(-1, 4))
    def handoff_again(self, ext: int, group: int) -> None:
        """A bot retries: the same external id, to a group that may differ."""
        label = sorted(self.external)[ext % len(self.external)]
        self.step(f"handoff {label} again, to {self.pick_group(group)}")
        self.hand_off(label, self.pick_group(group))

    # -- an operator's status ---------------------------------------------------------------------

    @rule(op=st.integers(0, 4), status=st.sampled_from(STATUSES), by_self=st.booleans())
    def set_status(self, op: int, status: str, by_self: bool) -> None:
        label = self.pick_op(op)
        self.step(f"{label} sets {status}")
        info = self.ops[label]
        caller = info.principal if by_self else SUPERVISOR
        self.app.set_status(info.id, status, caller=caller)
        assert self.app.get_operator(info.id).status == status

    # -- close ------------------------------------------------------------------------------------

    @rule(
        chat=st.integers(0, 30),
        closed_too=st.integers(0, 9).map(lambda n: n == 0),
        by=st.integers(-2, 4),
    )
    def close(self, chat: int, closed_too: bool, by: int) -> None:
        """Closed by its operator (-2), a supervisor (-1), or some operator (maybe refused)."""
        label, before = self.pick_chat(chat, closed_too=closed_too)
        who = "supervisor" if by == -1 else self.pick_op(by)
        if by == -2:
            who = self.op_label(before.operator_id) or "supervisor"
        self.step(f"close {label} ({before.status}) by {who}")
        caller = SUPERVISOR if who == "supervisor" else self.ops[who].principal
        expect: type[Exception] | None = None
        if not before.is_open:
            expect = ChatClosed
        elif not (caller.supervises or caller.operator_id == before.operator_id):
            expect = NotAssigned
        done = self.attempt(
            f"close {label} by {who}",
            lambda: self.app.close_chat(before.id, caller=caller, reason="done"),
            expect,
        )
        if done is not None:
            assert done.value.status == CLOSED
            if before.operator_id is not None:
                assert before.id not in self.app.get_operator(before.operator_id).chat_ids

    # -- reassign ---------------------------------------------------------------------------------

    @rule(
        chat=st.integers(0, 30),
        closed_too=st.integers(0, 9).map(lambda n: n == 0),
        to=st.integers(-1, 4),
        group=st.integers(-1, 4),
    )
    def reassign_to_operator(self, chat: int, closed_too: bool, to: int, group: int) -> None:
        """A supervisor moves a chat to an operator (-1: one who has room), perhaps counting
        it in another group."""
        label, before = self.pick_chat(chat, closed_too=closed_too)
        if to == -1:
            able = self.able(lambda o: o.id != before.operator_id)
            target_label = able[0] if able else self.pick_op(0)
        else:
            target_label = self.pick_op(to)
        group_label = self.pick_group(group)
        self.step(f"reassign {label} ({before.status}) to {target_label} in {group_label}")
        target = self.app.get_operator(self.ops[target_label].id)
        expect: type[Exception] | None
        if not before.is_open:
            expect = ChatClosed
        elif group_label is not None and self.groups[group_label].deleted:
            expect = UnknownReference
        else:
            expect = self.refusal_to_take(target)
            if expect is None and before.operator_id == target.id:
                expect = AlreadyIntercepted
        done = self.attempt(
            f"reassign {label} to {target_label} in {group_label}",
            lambda: self.app.reassign(
                before.id,
                caller=SUPERVISOR,
                operator_id=target.id,
                group_id=self.group_id(group_label),
            ),
            expect,
        )
        if done is not None:
            moved = done.value
            assert moved.operator_id == target.id
            assert moved.status == (ACTIVE if before.intercepted_at else ASSIGNED)
            assert moved.group_id == (self.group_id(group_label) or before.group_id)

    @rule(
        chat=st.integers(0, 30),
        closed_too=st.integers(0, 9).map(lambda n: n == 0),
        group=st.integers(-1, 4),
    )
    def reassign_to_group(self, chat: int, closed_too: bool, group: int) -> None:
        """A supervisor sends a chat back to routing, in a group or in its own (-1)."""
        label, before = self.pick_chat(chat, closed_too=closed_too)
        group_label = self.pick_group(group)
        self.step(f"reassign {label} ({before.status}) to group {group_label}")
        expect: type[Exception] | None = None
        if not before.is_open:
            expect = ChatClosed
        elif group_label is not None and self.groups[group_label].deleted:
            expect = UnknownReference
        done = self.attempt(
            f"reassign {label} to group {group_label}",
            lambda: self.app.reassign(
                before.id, caller=SUPERVISOR, group_id=self.group_id(group_label)
            ),
            expect,
        )
        if done is not None:
            moved = done.value
            assert moved.is_open
            if before.operator_id is not None:
                assert moved.operator_id != before.operator_id, "routing gave it straight back"
            if group_label is not None and self.groups[group_label].manual:
                assert moved.status == QUEUED and moved.operator_id is None

    # -- capacity and membership ------------------------------------------------------------------

    @rule(op=st.integers(0, 4), max_chats=st.integers(0, 3))
    def change_max_chats(self, op: int, max_chats: int) -> None:
        """Raised, or lowered (below the load, even: holds stay, no new ones)."""
        label = self.pick_op(op)
        self.step(f"{label} gets max_chats {max_chats}")
        info = self.ops[label]
        before = self.app.get_operator(info.id)
        # As saved: the dispatcher may give the operator a chat at once after a raise.
        after = self.app.update_operator(info.id, actor=ADMIN.actor, max_chats=max_chats).value
        assert after.max_chats == max_chats
        assert after.chat_ids == before.chat_ids, "a capacity change moved chats"
        if after.load > max_chats:
            info.over_allowed = True

    @rule(op=st.integers(0, 4), groups=st.sets(st.integers(0, 4), max_size=3))
    def change_groups(self, op: int, groups: set[int]) -> None:
        label = self.pick_op(op)
        chosen = sorted({sorted(self.groups)[g % len(self.groups)] for g in groups})
        self.step(f"{label} joins {chosen}")
        info = self.ops[label]
        deleted = any(self.groups[g].deleted for g in chosen)
        group_ids = [self.groups[g].id for g in chosen]
        done = self.attempt(
            f"{label} joins {chosen}",
            lambda: self.app.update_operator(info.id, actor=ADMIN.actor, group_ids=group_ids),
            UnknownReference if deleted else None,
        )
        if done is not None:
            assert self.app.get_operator(info.id).group_ids == group_ids

    # -- intercept --------------------------------------------------------------------------------

    @rule(
        chat=st.integers(0, 30),
        closed_too=st.integers(0, 9).map(lambda n: n == 0),
        by=st.integers(-1, 4),
        queued=st.booleans(),
    )
    def intercept(self, chat: int, closed_too: bool, by: int, queued: bool) -> None:
        """An operator intercepts a chat: their own, a queued one (taking it from the queue),
        or someone else's (refused). -1: the chat's operator, or one who may take it."""
        label, before = self.pick_chat(chat, closed_too=closed_too, queued=queued)
        if by >= 0:
            op_label = self.pick_op(by)
        elif before.status != QUEUED:
            op_label = self.op_label(before.operator_id) or self.pick_op(0)
        else:
            able = self.able(
                lambda o: (
                    before.group_id is None
                    or before.group_id in o.group_ids
                    or o.role == "supervisor"
                )
            )
            op_label = able[0] if able else self.pick_op(0)
        self.step(f"{op_label} intercepts {label} ({before.status})")
        info = self.ops[op_label]
        operator = self.app.get_operator(info.id)
        expect: type[Exception] | None
        if not before.is_open:
            expect = ChatClosed
        elif before.status == QUEUED:
            in_group = before.group_id is None or before.group_id in operator.group_ids
            if not in_group and not info.principal.supervises:
                expect = NotAssigned
            else:
                expect = self.refusal_to_take(operator)
        else:
            expect = None if before.operator_id == info.id else AlreadyIntercepted
        done = self.attempt(
            f"{op_label} intercepts {label} ({before.status})",
            lambda: self.app.intercept(before.id, caller=info.principal),
            expect,
        )
        if done is not None:
            assert done.value.status == ACTIVE and done.value.operator_id == info.id

    # -- groups: manual routing, deletion ---------------------------------------------------------

    @precondition(lambda self: len(self.groups) < 5)
    @rule()
    def create_manual_group(self) -> None:
        label = f"g{len(self.groups)}"
        self.step(f"create manual group {label}")
        group = self.app.create_group(
            actor=ADMIN.actor, name=f"{self.tag}-{label}", routing="manual"
        ).value
        self.groups[label] = GroupInfo(group.id, manual=True)

    @precondition(lambda self: self.live_groups())
    @rule(group=st.integers(0, 4), manual_one=st.booleans())
    def switch_routing(self, group: int, manual_one: bool) -> None:
        """A supervisor turns a group's routing from manual to automatic (``manual_one``:
        a manual group's, if any) or back."""
        live = self.live_groups()
        manual = [label for label in live if self.groups[label].manual]
        if manual_one and manual:
            live = manual
        label = live[group % len(live)]
        info = self.groups[label]
        routing = "auto" if info.manual else "manual"
        self.step(f"{label} turns {routing}")
        self.app.update_group(info.id, actor=ADMIN.actor, routing=routing)
        info.manual = routing == "manual"
        assert self.app.get_group(info.id).routing == routing

    @precondition(lambda self: len(self.live_groups()) > 1)
    @rule(group=st.integers(0, 4))
    def delete_group(self, group: int) -> None:
        live = self.live_groups()
        label = live[group % len(live)]
        self.step(f"delete {label}")
        info = self.groups[label]
        self.app.delete_group(info.id, actor=ADMIN.actor)
        info.deleted = True
        for op in self.ops.values():
            assert info.id not in self.app.get_operator(op.id).group_ids


# so. Shrinking a failure can take Hypothesis minutes more: it is off unless asked for
# (SWITCHBOARD_SHRINK=1); the failing example is reported as found, step by step.
SHRINK = os.environ.get("SWITCHBOARD_SHRINK", "").lower() in ("1", "true", "yes")
SETTINGS = settings(
    max_examples=40,
    stateful_step_count=25,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, *([Phase.shrink] if SHRINK else [])],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.slow
@pytest.mark.timeout(900 if SHRINK else 300)
def test_routing_invariants_hold_after_every_step(container: Services, clock: FakeClock) -> None:
    run_state_machine_as_test(lambda: RoutingMachine(container, clock), settings=SETTINGS)
