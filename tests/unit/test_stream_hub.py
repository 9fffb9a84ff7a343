"""The live stream's fan-out, without a server: who gets which change, exactly once, and what
happens to a client that does not keep up."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.stream import _CLOSE, Hub, StreamClient, _next_item, frames
from application.auth import Principal
from projections.dashboard import DashboardChanges, Viewer

ME, OTHER = uuid.uuid4(), uuid.uuid4()
MY_GROUP, OTHER_GROUP = uuid.uuid4(), uuid.uuid4()


def row(position: int, *, operator=None, group=MY_GROUP, status="assigned", chat=None) -> dict:
    return {
        "id": chat or uuid.uuid4(),
        "external_id": "e",
        "status": status,
        "group_id": group,
        "operator_id": operator,
        "client": {},
        "client_label": "Client #1",
        "topic": None,
        "subtopic": None,
        "requested_at": "2026-11-21T10:00:00+00:00",
        "closed_at": None,
        "waiting_since": None,
        "sl_due_at": None,
        "muted": False,
        "muted_until": None,
        "rating": None,
        "last_message_text": None,
        "last_message_author": None,
        "last_message_at": None,
        "position": position,
    }


def operator_client(limit: int = 100) -> StreamClient:
    return StreamClient(
        viewer=Viewer(operator_id=ME, supervises=False, group_ids=frozenset({MY_GROUP})),
        limit=limit,
    )


def events(changes: DashboardChanges, client: StreamClient) -> list[tuple[int, str, Any]]:
    out = []
    for position, frame, final in frames(changes, client):
        fields = dict(line.split(": ", 1) for line in frame.decode().strip().splitlines())
        assert int(fields["id"]) == position and final
        out.append((position, fields["event"], json.loads(fields["data"])["id"]))
    return out


def test_an_operator_gets_their_chats_and_their_groups_queue_only() -> None:
    mine = row(1, operator=ME)
    queued_here = row(2, operator=None, status="queued")
    queued_elsewhere = row(3, operator=None, status="queued", group=OTHER_GROUP)
    someone_elses = row(4, operator=OTHER)
    changes = DashboardChanges(0, 4, [mine, queued_here, queued_elsewhere, someone_elses])
    got = events(changes, operator_client())
    assert got == [(1, "chat", str(mine["id"])), (2, "chat", str(queued_here["id"]))]


def test_a_chat_that_leaves_the_view_is_removed_once_at_its_last_departure() -> None:
    chat = uuid.uuid4()
    moved_away = row(9, operator=OTHER, chat=chat)
    departures = [
        {"position": 5, "chat_id": chat, "operator_id": None, "group_id": MY_GROUP},
        {"position": 9, "chat_id": chat, "operator_id": ME, "group_id": None},
    ]
    got = events(DashboardChanges(0, 9, [moved_away], departures), operator_client())
    assert got == [(9, "chat_removed", str(chat))]


def test_a_departure_is_no_removal_when_the_chat_is_still_in_view() -> None:
    chat = uuid.uuid4()
    taken_by_me = row(7, operator=ME, chat=chat)  # left my group's queue into my own tab
    departures = [{"position": 7, "chat_id": chat, "operator_id": None, "group_id": MY_GROUP}]
    got = events(DashboardChanges(0, 7, [taken_by_me], departures), operator_client())
    assert got == [(7, "chat", str(chat))]


def test_a_supervisor_gets_every_row_and_no_removals() -> None:
    supervisor = StreamClient(viewer=Viewer(None, supervises=True), limit=10)
    rows = [row(1, operator=OTHER), row(2, status="queued", group=None)]
    departures = [{"position": 2, "chat_id": uuid.uuid4(), "operator_id": OTHER, "group_id": None}]
    got = events(DashboardChanges(0, 2, rows, departures), supervisor)
    assert [event for _, event, _ in got] == ["chat", "chat"]


@given(st.lists(st.integers(min_value=1, max_value=60), max_size=200), st.integers(10, 30))
def test_a_client_never_holds_more_than_its_limit_and_each_position_once(
    positions: list[int], limit: int
) -> None:
    client = operator_client(limit)
    offered: list[int] = []
    for position in positions:
        client.offer(position, f"frame {position}")
        assert client.queue.qsize() <= limit + 1
        offered.append(position)
    held = []
    while not client.queue.empty():
        held.append(client.queue.get_nowait())
    if client.overflowed:
        # Too slow: what it had not read is let go, and its stream is told to end.
        assert held == [_CLOSE]
    else:
        numbers = [int(frame.split()[1]) for frame in held]
        assert numbers == sorted(set(numbers)), "in order, each once"
        assert set(numbers) == {p for i, p in enumerate(offered) if p > max(offered[:i], default=0)}


def test_the_hub_hands_each_change_once_even_when_a_resync_overlaps() -> None:
    async def scenario() -> list[int]:
        hub = Hub(None, None, read_position=lambda: 0, groups_of=lambda _: [])  # type: ignore[arg-type]
        client = operator_client()
        hub.clients.add(client)
        first, second = row(3, operator=ME), row(6, operator=ME)
        hub.dispatch(DashboardChanges(0, 4, [first]))
        # A resync read up to 8 already; a late broker message overlapping it adds nothing.
        hub.dispatch(DashboardChanges(4, 8, [second]))
        await hub.take(DashboardChanges(2, 6, [first, second]))
        assert hub.seen == 8
        got = []
        while not client.queue.empty():
            got.append(int(client.queue.get_nowait().decode().split("\n")[0].removeprefix("id: ")))
        return got

    assert asyncio.run(scenario()) == [3, 6]


@pytest.mark.parametrize("last_id", [0, 5])
def test_a_client_resuming_ahead_of_the_hub_gets_nothing_it_had(last_id: int) -> None:
    client = operator_client()
    client.last_id = last_id
    client.offer(5, "five")
    client.offer(6, "six")
    held = [client.queue.get_nowait() for _ in range(client.queue.qsize())]
    assert held == (["five", "six"] if last_id == 0 else ["six"])


def test_a_row_is_rendered_once_for_all_the_clients_that_see_it() -> None:
    shared = row(4, operator=None, status="queued")
    clients = [operator_client() for _ in range(3)]
    rendered: dict[int, str] = {}
    made = [frames(DashboardChanges(0, 4, [shared]), client, rendered) for client in clients]
    assert list(rendered) == [(4, shared["id"], True)]
    assert made[0][0][1] is made[1][0][1] is made[2][0][1]


def test_rows_sharing_a_position_carry_its_id_on_the_last_only() -> None:
    """A client card's new phone relabels its chats in one event: a client cut off among
    them resumes before them all, and none is lost or taken for another."""
    first, second = row(7, operator=ME), row(7, operator=ME)
    client = operator_client()
    client.last_id = 6
    made = frames(DashboardChanges(6, 7, [first, second]), client)
    heads = [dict(ln.split(": ", 1) for ln in f.decode().strip().splitlines()) for _, f, _ in made]
    assert [(json.loads(h["data"])["id"], h.get("id")) for h in heads] == [
        (str(first["id"]), None),
        (str(second["id"]), "7"),
    ]
    client.offer(*made[0])
    assert client.last_id == 6  # cut off here, it would resume after 6: both again
    client.offer(*made[1])
    assert client.last_id == 7 and client.queue.qsize() == 2


class FarBehind:
    """A dashboard at position 10,000 that changed too many rows to carry since any id."""

    def position(self) -> int:
        return 10_000

    def changes_between(self, after: int, upto: int, **_: Any) -> DashboardChanges:
        return DashboardChanges(after, upto, None, [])


class SilentBroker:
    async def messages(self):
        await asyncio.Event().wait()
        yield b""  # never reached


def test_a_client_too_far_behind_is_told_to_reload_then_goes_on_live() -> None:
    async def scenario() -> list[tuple[str, dict]]:
        hub = Hub(
            FarBehind(),  # type: ignore[arg-type]
            SilentBroker(),  # type: ignore[arg-type]
            read_position=lambda: 10_000,
            groups_of=lambda _: [MY_GROUP],
        )
        await hub.start()
        try:
            client, backlog = await hub.connect(Viewer(ME, supervises=False), last_id=5)
        finally:
            await hub.stop()
        assert client.viewer.group_ids == {MY_GROUP}  # the groups came with the connection
        out = []
        for frame in backlog:
            fields = dict(line.split(": ", 1) for line in frame.decode().strip().splitlines())
            out.append((fields["event"], json.loads(fields["data"])))
        return out

    assert asyncio.run(scenario()) == [
        ("reset", {"position": 10_000, "reason": "too_far_behind"}),
        ("ready", {"position": 10_000}),
    ]


@pytest.mark.parametrize("supervises", [True, False])
def test_a_queued_change_is_taken_even_when_the_groups_refresh_is_overdue(supervises) -> None:
    """``asyncio.wait_for`` with no time left cancels a ``get`` that could have been served: a
    stream whose groups refresh was due (a supervisor's, always, after the first interval)
    then sent nothing at all, only heartbeats."""
    client = StreamClient(viewer=Viewer(uuid.uuid4(), supervises=supervises), limit=10)
    client.offer(5, b"frame")

    async def take() -> Any:
        return await _next_item(client, refresh_in=-1.0)

    assert asyncio.run(take()) == b"frame"
    empty = StreamClient(viewer=Viewer(uuid.uuid4(), supervises=False), limit=10)
    assert asyncio.run(_next_item(empty, refresh_in=-1.0)) is None  # time to refresh


def test_a_client_whose_token_ended_is_told_so_and_its_stream_ends() -> None:
    """The hub asks once for all its clients; only those whose grant ended are let go, and
    what they had queued is not sent after the end."""
    revoked = Principal("operator", "leaving", ME, token_id=uuid.uuid4(), session=True)
    staying = Principal("operator", "staying", OTHER, token_id=uuid.uuid4())
    asked: list[list[Principal]] = []

    def ended_grants(callers: list[Principal]) -> set[uuid.UUID]:
        asked.append(callers)
        return {revoked.token_id}

    async def scenario() -> tuple[list[Any], StreamClient]:
        hub = Hub(
            None, None, read_position=lambda: 0, groups_of=lambda _: [], ended_grants=ended_grants
        )  # type: ignore[arg-type]
        gone = StreamClient(viewer=Viewer(ME, supervises=True), limit=10, caller=revoked)
        kept = StreamClient(viewer=Viewer(OTHER, supervises=True), limit=10, caller=staying)
        admin = StreamClient(viewer=Viewer(None, supervises=True), limit=10)  # start-up token
        hub.clients.update({gone, kept, admin})
        gone.offer(3, b"queued before the end")
        await hub.check_access()
        gone.offer(4, b"after the end")
        sent = [item async for item in hub.events(gone, [])]
        return sent, kept

    sent, kept = asyncio.run(scenario())
    assert len(asked) == 1 and sorted(c.name for c in asked[0]) == ["leaving", "staying"]
    assert [getattr(item, "event", None) for item in sent] == [None, "ended"]  # retry, ended
    assert json.loads(sent[-1].data) == {"reason": "access_ended"}
    assert not kept.ended and kept.queue.empty()
