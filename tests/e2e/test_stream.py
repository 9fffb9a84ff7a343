"""GET /v1/stream against a real server: each caller's dashboard changes, live, resumable."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import ServerProcess, Setup, position, serving
from tests.e2e.sse import Event, StreamReader, about


@pytest.fixture(scope="module")
def server(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    with serving(
        module_database_url, tmp_path_factory, SWITCHBOARD_STREAM_HEARTBEAT_S="0.3"
    ) as process:
        yield process


def token_of(client: httpx.Client) -> str:
    return client.headers["Authorization"].removeprefix("Bearer ")


def hand_off(bot: httpx.Client, group: dict[str, Any] | None = None) -> tuple[str, int]:
    body: dict[str, Any] = {
        "external_id": f"ext-{uuid.uuid4()}",
        "client": {"id": f"client-{uuid.uuid4().hex[:8]}", "channel": "web"},
    }
    if group is not None:
        body["group_id"] = group["id"]
    response = bot.post("/v1/chats", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"], position(response)


def ready(reader: StreamReader) -> Event:
    (*_, event) = reader.until(lambda e: e.event == "ready")
    assert event.id == event.data["position"]
    return event


def test_an_operator_sees_their_new_chat_the_moment_it_is_routed(
    server: ServerProcess, setup: Setup
) -> None:
    group = setup.group()
    operator, op = setup.operator(group["id"])
    bot = setup.bot()
    with StreamReader(server.base_url, token_of(op)) as stream:
        assert stream.status == 200
        start = ready(stream)
        chat_id, at = hand_off(bot, group)
        events = stream.until(lambda e: about(chat_id)(e) and e.data["operator_id"] is not None)
        row = events[-1]
        assert row.data["operator_id"] == operator["id"]
        assert row.data["status"] == "assigned"
        assert start.id < row.id == row.data["position"] <= at

        # The client writes: the row's preview and its waiting timer arrive too.
        assert bot.post(f"/v1/chats/{chat_id}/messages", json={"text": "hello?"}).status_code == 201
        (*_, message) = stream.until(
            lambda e: about(chat_id)(e) and (e.data["last_message"] or {}).get("text") == "hello?"
        )
        assert message.data["waiting_since"] is not None and message.id > row.id


def test_an_operator_sees_only_their_chats_and_their_groups_queues(
    server: ServerProcess, setup: Setup
) -> None:
    mine, theirs = setup.group(), setup.group()
    _, op = setup.operator(mine["id"])
    setup.operator(theirs["id"])
    bot = setup.bot()
    with StreamReader(server.base_url, token_of(op)) as stream:
        ready(stream)
        elsewhere, _ = hand_off(bot, theirs)
        own, _ = hand_off(bot, mine)
        # Everything about ``elsewhere`` happened before ``own``: it would have come first.
        events = stream.until(about(own))
        assert all(e.data.get("id") != elsewhere for e in events), events


def test_a_supervisor_sees_everything_and_heartbeats_keep_an_idle_stream_open(
    server: ServerProcess, setup: Setup
) -> None:
    supervisor = setup.token("supervisor")
    bot = setup.bot()
    with StreamReader(server.base_url, token_of(supervisor)) as stream:
        ready(stream)
        group = setup.group()
        operator, _ = setup.operator(group["id"])
        chat_id, _ = hand_off(bot, group)
        # Someone else's chat: a supervisor sees it as it is routed.
        stream.until(lambda e: about(chat_id)(e) and e.data["operator_id"] == operator["id"])
        deadline_comments = len(stream.comments)
        stream.ended.wait(1.0)  # idle for a second: heartbeats (every 0.3 s) arrive
        assert len(stream.comments) >= deadline_comments + 2, stream.comments


def test_last_event_id_resumes_with_nothing_missed_and_nothing_twice(
    server: ServerProcess, setup: Setup
) -> None:
    group = setup.group()
    operator, op = setup.operator(group["id"], max_chats=10)
    colleague, _ = setup.operator(setup.group()["id"])
    supervisor = setup.token("supervisor")
    bot = setup.bot()
    with StreamReader(server.base_url, token_of(op)) as stream:
        left_at = ready(stream).id

    # While the operator is away: two chats arrive, the client writes in one, and a
    # supervisor moves the other to a colleague (it leaves the operator's view).
    kept, _ = hand_off(bot, group)
    moved, _ = hand_off(bot, group)
    assert bot.post(f"/v1/chats/{kept}/messages", json={"text": "still there?"}).status_code == 201
    answer = supervisor.post(f"/v1/chats/{moved}/reassign", json={"operator_id": colleague["id"]})
    assert answer.status_code == 200, answer.text
    away_until = position(answer)
    # Once the dashboard shows the move, a stream resuming from here must include it.
    assert op.get("/v1/dashboard", params={"min_position": away_until}).status_code == 200

    with StreamReader(server.base_url, token_of(op), last_event_id=left_at) as stream:
        (*backlog, live) = stream.until(lambda e: e.event == "ready")
        ids = [e.id for e in backlog]
        assert ids == sorted(ids) and len(set(ids)) == len(ids), backlog
        assert all(left_at < i <= live.id for i in ids)
        assert live.id >= away_until
        by_chat: dict[str, list[Event]] = {}
        for e in backlog:
            by_chat.setdefault(e.data["id"], []).append(e)
        # Each chat once, as it is now; the moved one as a removal.
        assert [e.event for e in by_chat[kept]] == ["chat"]
        assert by_chat[kept][0].data["operator_id"] == operator["id"]
        assert by_chat[kept][0].data["last_message"]["text"] == "still there?"
        assert [e.event for e in by_chat[moved]] == ["chat_removed"]

        # Then live, from where the backlog ended.
        assert op.post(f"/v1/chats/{kept}/intercept").status_code == 200
        assert op.post(f"/v1/chats/{kept}/messages", json={"text": "yes"}).status_code == 201
        (*_, reply) = stream.until(
            lambda e: about(kept)(e) and (e.data["last_message"] or {}).get("text") == "yes"
        )
        assert reply.id > live.id and reply.data["status"] == "active"

    # Resuming from the last id seen gives nothing old again.
    with StreamReader(server.base_url, token_of(op), last_event_id=reply.id) as stream:
        (*backlog, live) = stream.until(lambda e: e.event == "ready")
        assert backlog == [] and live.id >= reply.id


def test_a_browser_passes_its_token_in_the_query(server: ServerProcess, setup: Setup) -> None:
    supervisor = token_of(setup.token("supervisor"))
    params = {"access_token": supervisor}
    with (
        httpx.Client(base_url=server.base_url, timeout=10) as client,
        client.stream("GET", "/v1/stream", params=params) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize(
    ("who", "headers", "status", "code"),
    [
        ("nobody", {}, 401, "unauthorized"),
        ("bot", {}, 403, "forbidden"),
        ("supervisor", {"Last-Event-ID": "abc"}, 422, "validation"),
        ("supervisor", {"Last-Event-ID": "-1"}, 422, "validation"),
        ("supervisor", {"Last-Event-ID": "9" * 60}, 422, "validation"),
    ],
)
def test_bad_stream_requests_are_refused_clearly(
    server: ServerProcess,
    setup: Setup,
    who: str,
    headers: dict[str, str],
    status: int,
    code: str,
) -> None:
    client = setup.make_client(None if who == "nobody" else token_of(setup.token(who)))
    with client.stream("GET", "/v1/stream", headers=headers) as response:
        body = response.read()
    assert response.status_code == status, body
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code
