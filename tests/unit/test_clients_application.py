"""The client card's use cases over the in-memory store: the handoff makes and updates it,
staff edit it, and blocking closes the client's chats and refuses new ones."""

from __future__ import annotations

from uuid import uuid4

import pytest

from application.auth import Principal
from application.errors import NotFound
from domain.chat import CLOSED
from domain.client import BlockForbidden, Client, ClientBlocked, UnknownNote, client_id_of
from domain.errors import InvalidValue
from tests.unit.helpers import BOT, configure, handoff, load, operator

SUPERVISOR = Principal("supervisor", "sue")
CLIENT_ID = Client.id_for("", "client-7")  # the helpers' handoff: client-7, no channel


def test_a_handoff_makes_the_card_and_the_next_one_updates_it(app):
    first = handoff(app, "conv-1")
    card = app.get_client(CLIENT_ID)
    assert card.chat_ids == [first.id] and card.profile == {"phone": "+100"}
    assert client_id_of(first.client) == CLIENT_ID
    app.close_chat(first.id, caller=SUPERVISOR, reason=None)

    second = app.handoff(
        bot=BOT, external_id="conv-2", client={"id": "client-7", "name": "Ann"}
    ).value

    card = app.get_client(CLIENT_ID)
    assert card.chat_ids == [first.id, second.id]
    assert card.profile == {"phone": "+100", "name": "Ann"}


def test_a_handoff_saves_the_card_in_the_same_transaction(app):
    handoff(app, "conv-0")
    head = app.head()
    chat = handoff(app)
    # One save: the chat's events, the card's and the reservation's, one after the other.
    assert app.head() - head == len(app.chat_events(chat.id)) + 2


def test_blocking_closes_the_clients_open_chats_and_frees_the_operator(app, sales):
    anna = operator(app, "anna@example.com", sales)
    chat = handoff(app, "conv-1", sales)
    assert load(app, anna) == 1

    app.block_client(CLIENT_ID, "abuse", caller=SUPERVISOR)

    closed = app.get_chat(chat.id)
    assert (closed.status, closed.close_reason) == (CLOSED, "blocked")
    assert closed.closed_by == {"kind": "supervisor"}
    assert load(app, anna) == 0
    card = app.get_client(CLIENT_ID)
    assert (card.blocked, card.blocked_reason) == (True, "abuse")


def test_a_blocked_clients_handoff_is_refused_and_records_nothing(app):
    handoff(app, "conv-1")
    app.block_client(CLIENT_ID, None, caller=SUPERVISOR)
    head = app.head()
    with pytest.raises(ClientBlocked):
        handoff(app, "conv-2")
    assert app.head() == head
    app.unblock_client(CLIENT_ID, caller=SUPERVISOR)
    assert handoff(app, "conv-2").is_open


def test_a_blocked_clients_message_is_refused(app):
    chat = handoff(app, "conv-1")
    app.block_client(CLIENT_ID, None, caller=SUPERVISOR)
    with pytest.raises(ClientBlocked):
        app.check_client_may_write(app.get_chat(chat.id))


def test_operators_block_only_when_the_company_lets_them(app, sales):
    anna = operator(app, "anna@example.com", sales)
    handoff(app, "conv-1")
    head = app.head()
    with pytest.raises(BlockForbidden):
        app.block_client(CLIENT_ID, None, caller=anna)
    with pytest.raises(BlockForbidden):
        app.unblock_client(CLIENT_ID, caller=anna)
    assert app.head() == head
    configure(app, operators_may_block_clients=True)
    assert app.block_client(CLIENT_ID, None, caller=anna).recorded
    assert app.unblock_client(CLIENT_ID, caller=anna).recorded
    assert not app.unblock_client(CLIENT_ID, caller=anna).recorded


def test_edits_notes_and_tags(app, sales):
    anna = operator(app, "anna@example.com", sales)
    handoff(app)
    app.edit_client(CLIENT_ID, {"email": "ann@example.com"}, caller=anna)
    note = app.add_client_note(CLIENT_ID, "prefers e-mail", caller=anna).value
    assert note["author_id"] == anna.operator_id
    app.set_client_tags(CLIENT_ID, ["vip"], caller=anna)
    card = app.get_client(CLIENT_ID)
    assert (card.profile["email"], card.tags, len(card.notes)) == ("ann@example.com", ["vip"], 1)
    app.delete_client_note(CLIENT_ID, note["id"], caller=anna)
    assert app.get_client(CLIENT_ID).notes == []


def test_refusals_record_nothing(app):
    handoff(app)
    head = app.head()
    with pytest.raises(InvalidValue):
        app.edit_client(CLIENT_ID, {"phone": "nope"}, caller=SUPERVISOR)
    with pytest.raises(InvalidValue):
        app.add_client_note(CLIENT_ID, "x" * 5000, caller=SUPERVISOR)
    with pytest.raises(InvalidValue):
        app.set_client_tags(CLIENT_ID, ["t"] * 0 + [f"t{i}" for i in range(30)], caller=SUPERVISOR)
    with pytest.raises(UnknownNote):
        app.delete_client_note(CLIENT_ID, uuid4(), caller=SUPERVISOR)
    with pytest.raises(NotFound):
        app.edit_client(uuid4(), {"name": "x"}, caller=SUPERVISOR)
    with pytest.raises(NotFound):
        app.block_client(uuid4(), None, caller=SUPERVISOR)
    assert app.head() == head
