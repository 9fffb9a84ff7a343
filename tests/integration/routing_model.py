"""The routing state machine's model: what it knows of the examples' groups, operators and
chats, how it predicts a command's outcome, and the invariants checked after every step
(the rules that drive it, one per use case, are in ``test_routing_stateful``).

After every step it waits until the read models and the dispatcher have seen the whole log
(repeatedly: the dispatcher's own assignments extend it), then checks, against the
aggregates as ground truth:

1. capacity: every ``ChatTaken`` in an operator's history happened while they were working
   and below ``max_chats``; so no operator holds more than ``max_chats`` unless the limit was
   lowered below what they already held (holds stay, no new ones);
2. one operator per chat: an open assigned/active chat is in exactly one operator's
   ``chat_ids``, its ``operator_id``'s; a queued or closed chat is in nobody's;
3. each operator's load is the number of open chats whose ``operator_id`` they are;
4. no chat of an automatic group (or of no group) stays queued while a working operator who
   may take it has room (routing falls back to any group); chats of manual or deleted groups
   may wait, and a chat sent back to routing is not given back to the operator it left;
5. the directory read model shows each operator's load, status, capacity and groups as the
   aggregate has them, and the dashboard each chat's status, operator and group.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

import pytest
from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
)

from application.auth import Principal
from application.errors import ApplicationError, UnknownReference
from domain.chat import ACTIVE, ASSIGNED, QUEUED, Chat
from domain.errors import (
    DomainError,
    NoCapacity,
    NotWorking,
)
from domain.operator import WORKING, Operator
from infrastructure.bootstrap import Services
from tests.clock import FakeClock

ADMIN = Principal("admin", "root")
SUPERVISOR = Principal("supervisor", "lead")
BOT = Principal("bot", "stateful-bot")
STATUSES = ("working", "break", "leaving", "offline")
ACCEPTED = (DomainError, ApplicationError)
WAIT_S = 15

T = TypeVar("T")


def settle(container: Services) -> None:
    """Wait until every read model and the dispatcher have seen the whole log, repeatedly,
    since the dispatcher's own assignments add events."""
    for _ in range(20):
        head = container.app.head() or 0
        for name in ("directory", "dashboard", "dispatcher"):
            assert container.wait_for(name, head, WAIT_S), f"{name} did not reach {head}"
        if (container.app.head() or 0) == head:
            return
    pytest.fail("the log kept growing")


@dataclass
class GroupInfo:
    id: UUID
    manual: bool
    deleted: bool = False


@dataclass
class OperatorInfo:
    id: UUID
    principal: Principal
    # Capacity was lowered below the load at the time: holding more than max_chats is allowed
    # until the load drops to the limit.
    over_allowed: bool = False


@dataclass
class Replay:
    """An operator's history as far as it has been checked (invariant 1)."""

    version: int = 0
    status: str = "offline"
    max_chats: int = 0
    held: frozenset[UUID] = frozenset()


def passed_over(chat: Chat) -> UUID | None:
    """The operator a chat waiting after a reassign was taken from (None where the chat
    model has no such notion)."""
    return getattr(chat, "passed_over", None)


class RoutingModel(RuleBasedStateMachine):
    """The state and the invariants; ``RoutingMachine`` adds the rules."""

    def __init__(self, container: Services, clock: FakeClock) -> None:
        super().__init__()
        self.container = container
        self.app = container.app
        self.clock = clock
        self.tag = uuid.uuid4().hex[:10]
        self.groups: dict[str, GroupInfo] = {}
        self.ops: dict[str, OperatorInfo] = {}
        self.chats: dict[str, UUID] = {}
        self.external: dict[str, list[str]] = {}  # external id label -> its chats, in order
        self.replays: dict[UUID, Replay] = {}
        # The aggregates as the last invariant check saw them (the system was quiet then).
        self.seen_ops: dict[str, Operator] = {}
        self.seen_chats: dict[str, Chat] = {}

    # -- helpers --------------------------------------------------------------------------------

    def group_id(self, label: str | None) -> UUID | None:
        return None if label is None else self.groups[label].id

    def group_label(self, group_id: UUID | None) -> str | None:
        if group_id is None:
            return None
        return next((label for label, g in self.groups.items() if g.id == group_id), "?")

    def op_label(self, operator_id: UUID | None) -> str | None:
        return next((label for label, op in self.ops.items() if op.id == operator_id), None)

    def open_chats(self) -> list[str]:
        return sorted(label for label, chat in self.seen_chats.items() if chat.is_open)

    def live_groups(self) -> list[str]:
        return sorted(label for label, group in self.groups.items() if not group.deleted)

    def attempt(
        self,
        what: str,
        command: Callable[[], T],
        expect: type[Exception] | None,
        *,
        quiet: bool = True,
    ) -> T | None:
        """Run a command whose outcome the model predicts: success (``expect`` None) or that
        error. A refused command saves nothing: when nothing else writes (``quiet``: the
        system settled before the step), the log's head stays where it was."""
        head = self.app.head()
        try:
            done = command()
        except ACCEPTED as error:
            assert expect is not None and isinstance(error, expect), (
                f"{what}: raised {error!r}, expected {expect.__name__ if expect else 'success'}"
            )
            if quiet:
                assert self.app.head() == head, f"{what}: refused with {error!r}, saved events"
            return None
        assert expect is None, f"{what}: succeeded, expected {expect.__name__}"
        return done

    def able(self, also: Callable[[Operator], bool]) -> list[str]:
        """Operators who may take a new chat now (and pass ``also``), as last seen."""
        return [
            label
            for label, operator in sorted(self.seen_ops.items())
            if operator.status == WORKING and operator.has_room and also(operator)
        ]

    @staticmethod
    def refusal_to_take(operator: Operator) -> type[Exception] | None:
        """What ``Operator.take_chat`` says to a new chat (operators are never deactivated)."""
        if operator.status != WORKING:
            return NotWorking
        if not operator.has_room:
            return NoCapacity
        return None

    # -- setup ----------------------------------------------------------------------------------

    @initialize(
        n_groups=st.integers(2, 3),
        manual=st.booleans(),
        operators=st.lists(
            st.tuples(
                st.integers(1, 3),  # max_chats
                st.sampled_from(("working", "working", *STATUSES)),
                st.sets(st.integers(0, 2), max_size=2),  # groups, by index
                st.sampled_from(("operator", "operator", "operator", "supervisor")),
            ),
            min_size=3,
            max_size=5,
        ),
        chats=st.lists(st.sampled_from([None, 0, 1, 2, 3]), min_size=2, max_size=6),
    )
    def setup(
        self,
        n_groups: int,
        manual: bool,
        operators: list[tuple[int, str, set[int], str]],
        chats: list[int | None],
    ) -> None:
        """Groups (one of them manual, maybe), operators, and chats already handed off."""
        for n in range(n_groups + manual):
            routing = "manual" if n == n_groups else "auto"
            group = self.app.create_group(
                actor=ADMIN.actor, name=f"{self.tag}-g{n}", routing=routing
            ).value
            self.groups[f"g{n}"] = GroupInfo(group.id, manual=routing == "manual")
        for n, (max_chats, status, groups, role) in enumerate(operators):
            group_ids = sorted({self.groups[f"g{g % n_groups}"].id for g in groups}, key=str)
            operator, token = self.app.register_operator(
                actor=ADMIN.actor,
                first_name=f"Op{n}",
                last_name=self.tag,
                email=f"o{n}-{self.tag}@example.com",
                role=role,
                group_ids=group_ids,
                max_chats=max_chats,
            ).value
            principal = self.app.authenticate(token)
            assert principal is not None and principal.operator_id == operator.id
            self.ops[f"o{n}"] = OperatorInfo(operator.id, principal)
            self.app.set_status(operator.id, status, caller=principal)
        labels = sorted(self.groups)
        for n, group in enumerate(chats):
            self.hand_off(f"x{n}", None if group is None else labels[group % len(labels)])

    def hand_off(self, ext: str, group: str | None, *, quiet: bool = True) -> None:
        """A bot hands a chat off; the same external id again, while its chat is open, gets
        that chat back and records nothing. ``quiet``: nothing else is writing."""
        earlier = self.external.get(ext, [])
        previous = self.app.get_chat(self.chats[earlier[-1]]) if earlier else None
        returns_previous = previous is not None and previous.is_open
        deleted = group is not None and self.groups[group].deleted
        head = self.app.head()
        self.clock.advance(seconds=1)
        done = self.attempt(
            f"handoff {ext} to {group}",
            lambda: self.app.handoff(
                bot=BOT,
                external_id=f"{self.tag}-{ext}",
                client={"id": f"{self.tag}-{ext}"},
                group_id=self.group_id(group),
            ),
            UnknownReference if deleted and not returns_previous else None,
            quiet=quiet,
        )
        if done is None:
            return
        chat = done.value
        if returns_previous:
            assert previous is not None
            assert chat.id == previous.id, "a repeated handoff of an open chat made a new chat"
            assert not done.recorded
            if quiet:
                assert self.app.head() == head, "a repeated handoff saved events"
            return
        assert done.recorded
        assert chat.id not in self.chats.values()
        assert chat.status in (QUEUED, ASSIGNED)
        if self.group_id(group) is not None and chat.status == QUEUED:
            assert chat.group_id == self.group_id(group)
        if group is not None and self.groups[group].manual:
            assert chat.status == QUEUED, "a manual group's chat was routed"
        label = f"c{len(self.chats)}"
        self.chats[label] = chat.id
        self.external.setdefault(ext, []).append(label)

    # -- what the rules pick ---------------------------------------------------------------------
    #
    # Rules draw plain numbers from fixed ranges and resolve them against the current state
    # (``pick``), so that what Hypothesis draws never depends on how the system behaved; the
    # resolved choices are noted in a failing example's report.

    def pick_op(self, n: int) -> str:
        return sorted(self.ops)[n % len(self.ops)]

    def pick_group(self, n: int) -> str | None:
        """-1: no group; otherwise any group this example made, deleted or not."""
        return None if n < 0 else sorted(self.groups)[n % len(self.groups)]

    def pick_chat(self, n: int, *, closed_too: bool, queued: bool = False) -> tuple[str, Chat]:
        """An open chat, if any (``closed_too``: any chat, so closed ones get commands too;
        ``queued``: a queued one, if any)."""
        opened = self.open_chats()
        waiting = [label for label in opened if self.seen_chats[label].status == QUEUED]
        labels = sorted(self.chats) if closed_too or not opened else opened
        if queued and waiting and not closed_too:
            labels = waiting
        label = labels[n % len(labels)]
        return label, self.app.get_chat(self.chats[label])

    def step(self, text: str) -> None:
        note(text)
        self.clock.advance(seconds=1)

    # -- the invariants, after every step -------------------------------------------------------

    @invariant()
    def invariants_hold(self) -> None:
        settle(self.container)
        app = self.app
        ops = {label: app.get_operator(op.id) for label, op in self.ops.items()}
        chats = {label: app.get_chat(chat_id) for label, chat_id in self.chats.items()}
        self.seen_ops, self.seen_chats = ops, chats
        chat_labels = {chat.id: label for label, chat in chats.items()}
        by_id = {op.id: op for op in ops.values()}

        # 1. Capacity, at every ChatTaken in each operator's history; and now.
        for label, operator in ops.items():
            self.check_history(label, operator)
            if operator.load > operator.max_chats:
                assert self.ops[label].over_allowed, (
                    f"{label} holds {operator.load} chats, max_chats {operator.max_chats}"
                )
            else:
                self.ops[label].over_allowed = False

        # 2 and 3. One operator per open chat; each operator's load is its open chats.
        for label, chat in chats.items():
            holders = sorted(o for o, operator in ops.items() if chat.id in operator.chat_ids)
            if not chat.is_open:
                assert holders == [], f"closed {label} is still held by {holders}"
            elif chat.status == QUEUED:
                assert chat.operator_id is None, f"queued {label} has an operator"
                assert holders == [], f"queued {label} is held by {holders}"
            else:
                assert chat.status in (ASSIGNED, ACTIVE)
                assert chat.operator_id in by_id, f"{label} is with a stranger"
                owner = self.op_label(chat.operator_id)
                assert holders == [owner], f"{label} is {owner}'s but held by {holders}"
        for label, operator in ops.items():
            assert len(set(operator.chat_ids)) == len(operator.chat_ids), f"{label} holds twice"
            mine = sorted(
                c for c, chat in chats.items() if chat.is_open and chat.operator_id == operator.id
            )
            held = sorted(chat_labels.get(chat_id, str(chat_id)) for chat_id in operator.chat_ids)
            assert held == mine, f"{label} holds {held}, but its open chats are {mine}"
            assert operator.load == len(mine)

        # 4. Nothing routable waits while a working operator has room: none that could take
        # it, that is; a chat sent back to routing is not given back, while it waits, to the
        # operator it was taken from (``Chat.passed_over``).
        free = {
            operator.id: label
            for label, operator in ops.items()
            if operator.active and operator.status == WORKING and operator.has_room
        }
        groups = {group.id: group for group in self.groups.values()}
        waiting = []
        for label, chat in chats.items():
            if not chat.is_open or chat.status != QUEUED:
                continue
            group = groups.get(chat.group_id) if chat.group_id else None
            assert chat.group_id is None or group is not None, f"{label}: unknown group"
            if group is not None and group.deleted:
                # The engine moves a deleted group's waiting chats to the help queue.
                waiting.append(f"{label} still waits in deleted group {chat.group_id}")
                continue
            if group is not None and group.manual:
                continue
            could = sorted(o for o_id, o in free.items() if o_id != passed_over(chat))
            if could:
                room = [
                    f"{o} {ops[o].load}/{ops[o].max_chats} in "
                    f"{sorted(str(self.group_label(g)) for g in ops[o].group_ids)}"
                    for o in could
                ]
                waiting.append(
                    f"{label} waits in group {self.group_label(chat.group_id)} "
                    f"(passed over: {self.op_label(passed_over(chat))}) while {room} have room"
                )
        assert waiting == [], "; ".join(waiting)

        # 5. The read models agree with the aggregates.
        self.check_read_models(ops, chats)

    def check_history(self, label: str, operator: Operator) -> None:
        """Invariant 1 on the event log: nobody took a chat unless working and with room."""
        replay = self.replays.setdefault(operator.id, Replay())
        for change in self.app.events.get(operator.id, gt=replay.version):
            if isinstance(change, Operator.OperatorRegistered):
                replay.max_chats = change.max_chats
            elif isinstance(change, Operator.StatusChanged):
                replay.status = change.status
            elif isinstance(change, Operator.CapacityChanged):
                replay.max_chats = change.max_chats
            elif isinstance(change, Operator.ChatTaken):
                assert replay.status == WORKING, f"{label} took a chat while {replay.status}"
                assert len(replay.held) < replay.max_chats, (
                    f"{label} took a chat holding {len(replay.held)} of {replay.max_chats}"
                )
                replay.held = replay.held | {change.chat_id}
            elif isinstance(change, Operator.ChatReleased):
                replay.held = replay.held - {change.chat_id}
            replay.version = change.originator_version
        assert replay.version == operator.version
        assert replay.held == frozenset(operator.chat_ids)

    def check_read_models(self, ops: dict[str, Operator], chats: dict[str, Chat]) -> None:
        op_ids = [op.id for op in ops.values()]
        chat_ids = [chat.id for chat in chats.values()]
        directory, dashboard = self.container.directory, self.container.dashboard
        with directory.datastore.transaction() as curs:
            curs.execute(
                "SELECT id, status, load, max_chats, group_ids "
                f"FROM {directory.table('operators')} WHERE id = ANY(%s::uuid[])",
                (op_ids,),
            )
            rows = {row["id"]: row for row in curs.fetchall()}
            # Earlier examples' operators are offline and hold nothing: routing is ours alone.
            curs.execute(
                f"SELECT id, status, load FROM {directory.table('operators')} "
                "WHERE NOT (id = ANY(%s::uuid[])) AND (status = 'working' OR load <> 0)",
                (op_ids,),
            )
            strangers = curs.fetchall()
            curs.execute(
                "SELECT id, status, operator_id, group_id "
                f"FROM {dashboard.table('dashboard_chats')} WHERE id = ANY(%s::uuid[])",
                (chat_ids,),
            )
            chat_rows = {row["id"]: row for row in curs.fetchall()}
            curs.execute(
                f"SELECT id, status FROM {dashboard.table('dashboard_chats')} "
                "WHERE status <> 'closed' AND NOT (id = ANY(%s::uuid[]))",
                (chat_ids,),
            )
            stray_chats = curs.fetchall()
        assert strangers == [], f"operators of earlier examples still route: {strangers}"
        assert stray_chats == [], f"chats of earlier examples are still open: {stray_chats}"
        for label, operator in ops.items():
            row = rows[operator.id]
            seen = (row["load"], row["status"], row["max_chats"], sorted(row["group_ids"], key=str))
            truth = (
                operator.load,
                operator.status,
                operator.max_chats,
                sorted(operator.group_ids, key=str),
            )
            assert seen == truth, f"directory shows {label} as {seen}, the aggregate {truth}"
        for label, chat in chats.items():
            row = chat_rows[chat.id]
            assert row["status"] == chat.status, f"dashboard: {label} {row['status']}"
            if chat.is_open:
                seen_chat: tuple[Any, Any] = (row["operator_id"], row["group_id"])
                assert seen_chat == (chat.operator_id, chat.group_id), (
                    f"dashboard shows {label} with {seen_chat}, "
                    f"the aggregate {(chat.operator_id, chat.group_id)}"
                )

    # -- leave nothing routable for the next example --------------------------------------------

    def teardown(self) -> None:
        app = self.app
        for op in self.ops.values():
            app.set_status(op.id, "offline", caller=SUPERVISOR)
        settle(self.container)
        for chat_id in self.chats.values():
            if app.get_chat(chat_id).is_open:
                app.close_chat(chat_id, caller=SUPERVISOR, reason="example over")
        settle(self.container)
        for label, op in self.ops.items():
            assert app.get_operator(op.id).load == 0, f"{label} holds chats after teardown"


# Each step waits for the read models and the dispatcher, so an example costs a second or
