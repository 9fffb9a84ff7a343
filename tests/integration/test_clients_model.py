"""The clients read model on real PostgreSQL: any sequence of handoffs, edits, notes, tags,
blocks and unblocks leaves it equal to a rebuild from the log, and a blocked client never
gets a new chat (property-based)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from eventsourcing.persistence import Tracking
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.sql import SQL, Identifier

from application.auth import Principal
from domain.chat import CLOSED
from domain.client import Client, ClientBlocked
from infrastructure.bootstrap import Services
from projections.clients import ClientFilters, Clients

BOT = Principal("bot", "webbot")
SUPERVISOR = Principal("supervisor", "sue")
CHECK_SCHEMA = "clients_check"
WAIT_S = 10
KEYS = 3  # clients per example

names = st.sampled_from(["Ann", "Bob Ray", "Çelik", "Zoë"])
commands = st.one_of(
    st.tuples(st.just("handoff"), st.integers(0, KEYS - 1), names),
    st.tuples(st.just("edit"), st.integers(0, KEYS - 1), st.sampled_from(["+1 555 01", None])),
    st.tuples(st.just("tags"), st.integers(0, KEYS - 1), st.lists(st.sampled_from("abc"))),
    st.tuples(st.just("note"), st.integers(0, KEYS - 1), st.just("call back")),
    st.tuples(st.just("block"), st.integers(0, KEYS - 1), st.sampled_from([None, "spam"])),
    st.tuples(st.just("unblock"), st.integers(0, KEYS - 1), st.none()),
)


def rebuilt(container: Services) -> Clients:
    """A clients model built from the whole log in a schema of its own."""
    store = container.database.read_store(CHECK_SCHEMA, pool_size=1)
    with store.transaction(commit=True) as curs:
        curs.execute(SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(Identifier(CHECK_SCHEMA)))
        curs.execute(SQL("CREATE SCHEMA {}").format(Identifier(CHECK_SCHEMA)))
    model = Clients(store, application_name=container.app.name)
    model.create_table()
    app, position = container.app, 0
    while True:
        page = app.recorder.select_notifications(start=position + 1, limit=500)
        if not page:
            return model
        model.process_batch(
            [(app.mapper.to_domain_event(n), Tracking(app.name, n.id)) for n in page]
        )
        position = page[-1].id


def cards(model: Clients, ids: set[uuid.UUID]) -> list[dict[str, Any]]:
    return [row for row in model.all_cards() if row["id"] in ids]


@pytest.mark.slow
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(script=st.lists(commands, min_size=1, max_size=14))
def test_any_sequence_leaves_the_model_equal_to_a_rebuild(
    container: Services, script: list[tuple[str, int, Any]]
) -> None:
    app = container.app
    prefix = uuid.uuid4().hex[:8]
    ids = {k: Client.id_for("web", f"{prefix}-{k}") for k in range(KEYS)}
    for step, (command, k, value) in enumerate(script):
        card = app.find_client(ids[k])
        if command == "handoff":
            client = {"id": f"{prefix}-{k}", "channel": "web", "name": value}
            if card is not None and card.blocked:
                head = app.head()
                with pytest.raises(ClientBlocked):
                    app.handoff(bot=BOT, external_id=f"{prefix}-{step}", client=client)
                assert app.head() == head  # no chat, nothing at all
            else:
                app.handoff(bot=BOT, external_id=f"{prefix}-{step}", client=client)
        elif card is None:
            continue
        elif command == "edit":
            app.edit_client(ids[k], {"phone": value}, caller=SUPERVISOR)
        elif command == "tags":
            app.set_client_tags(ids[k], value, caller=SUPERVISOR)
        elif command == "note":
            app.add_client_note(ids[k], value, caller=SUPERVISOR)
        elif command == "block":
            app.block_client(ids[k], value, caller=SUPERVISOR)
        else:
            app.unblock_client(ids[k], caller=SUPERVISOR)

    for client_id in ids.values():
        card = app.find_client(client_id)
        if card is not None and card.blocked:
            assert all(app.get_chat(c).status == CLOSED for c in card.chat_ids)
    head = app.head()
    assert head is not None and container.wait_for("clients", head, WAIT_S)
    wanted = set(ids.values())
    live = cards(container.clients, wanted)
    assert live == cards(rebuilt(container), wanted)
    assert {row["id"] for row in live} == {i for i in wanted if app.find_client(i) is not None}


def test_the_search_matches_name_username_phone_email_and_tag(container: Services) -> None:
    app = container.app
    marker = uuid.uuid4().hex[:8]
    client = {"id": marker, "channel": "web", "name": f"Ann {marker}", "username": "ann_x"}
    chat = app.handoff(bot=BOT, external_id=marker, client=client).value
    card_id = Client.id_for("web", marker)
    app.edit_client(
        card_id, {"email": f"A.{marker}@Example.com", "phone": "+7 900"}, caller=SUPERVISOR
    )
    done = app.set_client_tags(card_id, ["100%_sure"], caller=SUPERVISOR)
    assert container.wait_for("clients", done.position, WAIT_S)
    search = container.clients.search

    def found(**filters: Any) -> list[uuid.UUID]:
        return [row["id"] for row in search(ClientFilters(**filters))[0]]

    assert chat.id in app.get_client(card_id).chat_ids
    assert found(q=f"ANN {marker}") == [card_id]
    assert found(q=f"a.{marker}@example") == [card_id]
    assert card_id in found(q="ann_x")
    assert found(tag="100%_sure", q=marker) == [card_id]
    assert found(phone="+7 900", q=marker) == [card_id]
    assert found(q=f"{marker}%") == []  # % is a character here, not a wildcard
    assert found(blocked=True, q=marker) == []
