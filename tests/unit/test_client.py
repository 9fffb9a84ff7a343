"""The Client aggregate: its key, the handoff's updates, edits, notes, tags and blocking."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from domain.client import (
    MAX_NOTE,
    MAX_TAGS,
    Client,
    ClientBlocked,
    UnknownNote,
    client_id_of,
)
from domain.errors import InvalidValue

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
BOT = "bot:webbot"
STAFF = "operator:1"


def seen(**fields) -> Client:
    client = {"id": "c-1", "channel": "telegram", "name": "Ann", **fields}
    return Client.first_seen(client, chat_id=uuid4(), at=AT, actor=BOT)


def test_the_card_is_keyed_by_channel_and_the_bots_client_id():
    card = seen()
    assert card.id == Client.id_for("telegram", "c-1")
    assert card.id == client_id_of({"id": "c-1", "channel": "telegram"})
    assert card.id != client_id_of({"id": "c-1", "channel": "whatsapp"})
    assert client_id_of({"id": "c-1"}) == Client.id_for("", "c-1")
    assert (card.channel, card.external_id, card.profile) == ("telegram", "c-1", {"name": "Ann"})


def test_each_handoff_updates_the_card_and_adds_its_chat():
    card = seen(phone="+1 555")
    chat_id = uuid4()
    card.hand_off(
        {"id": "c-1", "name": "Anna", "email": "a@b.c"}, chat_id=chat_id, at=AT, actor=BOT
    )
    assert card.profile == {"name": "Anna", "phone": "+1 555", "email": "a@b.c"}
    assert card.chat_ids[-1] == chat_id and len(card.chat_ids) == 2


def test_a_blocked_client_gets_no_new_chat():
    card = seen()
    card.block("spam", at=AT, actor=STAFF)
    with pytest.raises(ClientBlocked):
        card.hand_off({"id": "c-1"}, chat_id=uuid4(), at=AT, actor=BOT)
    assert len(card.chat_ids) == 1
    assert card.unblock(at=AT, actor=STAFF)
    card.hand_off({"id": "c-1"}, chat_id=uuid4(), at=AT, actor=BOT)
    assert not card.unblock(at=AT, actor=STAFF)


def test_blocking_twice_with_the_same_reason_records_nothing_new():
    card = seen()
    assert card.block(None, at=AT, actor=STAFF)
    assert not card.block(None, at=AT, actor=STAFF)
    assert card.block("rude", at=AT, actor=STAFF) and card.blocked_reason == "rude"


@pytest.mark.parametrize(
    "changes",
    [
        {"email": "not-an-address"},
        {"email": "a@b"},
        {"phone": "call me"},
        {"phone": "+1"},
        {"phone": "1" * 51},
        {"name": ""},
        {"photo_url": "ftp://x"},
        {"custom": {"k": 1}},
        {"age": "30"},
        {"name": "a\x00b"},
    ],
)
def test_bad_edits_are_refused_and_record_nothing(changes):
    card = seen()
    card.collect_events()
    with pytest.raises(InvalidValue):
        card.edit(changes, at=AT, actor=STAFF)
    assert card.collect_events() == []


def test_edits_set_and_clear_fields():
    card = seen(username="ann")
    assert card.edit(
        {"phone": "+44 (20) 7946-0018", "email": "ann@example.com"}, at=AT, actor=STAFF
    )
    assert card.edit({"username": None}, at=AT, actor=STAFF)
    assert not card.edit({"email": "ann@example.com"}, at=AT, actor=STAFF)
    assert card.profile == {
        "name": "Ann",
        "phone": "+44 (20) 7946-0018",
        "email": "ann@example.com",
    }


def test_notes_are_added_and_deleted():
    card = seen()
    note_id = uuid4()
    card.add_note(note_id, "VIP", author_id=None, at=AT, actor=STAFF)
    assert card.notes == [{"id": note_id, "text": "VIP", "author_id": None, "at": AT}]
    with pytest.raises(UnknownNote):
        card.delete_note(uuid4(), at=AT, actor=STAFF)
    card.delete_note(note_id, at=AT, actor=STAFF)
    assert card.notes == []


@pytest.mark.parametrize("text", ["", "   ", "x" * (MAX_NOTE + 1), "a\x00"])
def test_a_note_must_be_text_within_the_limit(text):
    with pytest.raises(InvalidValue):
        seen().add_note(uuid4(), text, author_id=None, at=AT, actor=STAFF)


def test_tags_are_trimmed_without_repeats_and_bounded():
    card = seen()
    assert card.set_tags([" vip ", "vip", "late"], at=AT, actor=STAFF)
    assert card.tags == ["vip", "late"]
    assert not card.set_tags(["vip", "late"], at=AT, actor=STAFF)
    for bad in ([f"t{i}" for i in range(MAX_TAGS + 1)], [""], ["x" * 51]):
        with pytest.raises(InvalidValue):
            card.set_tags(bad, at=AT, actor=STAFF)
    assert card.tags == ["vip", "late"]
