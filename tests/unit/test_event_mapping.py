"""The mapping of domain events to Events, the Webhook aggregate, URLs, and retry timings."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4, uuid5

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.event_views import event_json
from api.views import message_out
from application.app import Switchboard
from application.webhook_urls import check_reachable
from domain.chat import Chat
from domain.errors import InvalidValue
from domain.webhook import EVENT_TYPES, BadWebhookUrl, check_event_types, check_url
from infrastructure.config import Config
from infrastructure.webhook_sender import retry_delay
from projections.events.mapping import (
    EVENT_NAMESPACE,
    FACTS,
    PRIVATE,
    ChatFacts,
    event_id,
    fact_for,
    iso,
    jsonable,
    message_state,
)
from tests.clock import FakeClock
from tests.unit.helpers import ADMIN

AT = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)


def posted(**fields) -> Chat.MessagePosted:
    values = {
        "originator_id": uuid4(),
        "originator_version": 3,
        "timestamp": AT,
        "actor": "bot:webbot",
        "message_id": uuid4(),
        "author": "client",
        "author_id": "client-1",
        "text": "hello",
        "attachments": [],
        "buttons": [],
        "button_value": None,
        **fields,
    }
    return Chat.MessagePosted(**values)


@pytest.mark.parametrize("edited", [None, AT + timedelta(seconds=5, microseconds=120)])
@pytest.mark.parametrize("deleted", [None, AT + timedelta(minutes=1)])
def test_a_message_event_shows_the_message_as_the_messages_endpoint_does(edited, deleted) -> None:
    event = posted(
        author="operator",
        author_id=str(uuid4()),
        attachments=[{"url": "https://files.example.com/a.pdf", "name": "a.pdf"}],
        buttons=[{"text": "Yes", "value": "yes"}],
    )
    kept, state = event.as_message(), message_state(event)
    if edited:
        kept["edited_at"], state["edited_at"] = edited, iso(edited)
    if deleted:
        kept["deleted_at"], state["deleted_at"] = deleted, iso(deleted)
    row = {
        "id": "evt_1",
        "type": "message.edited",
        "position": 7,
        "occurred_at": AT,
        "chat_id": event.originator_id,
        "external_id": "conv-1",
        "bot": "webbot",
        "operator": None,
        "data": json.loads(json.dumps(state)),  # as the read model's jsonb gives it back
    }
    shown = message_out(event.originator_id, kept).model_dump(mode="json")
    assert event_json(row)["data"] == shown


def test_a_closed_chat_says_who_closed_it() -> None:
    holder = uuid4()
    chat = ChatFacts(uuid4(), "conv-1", "webbot", holder)
    for actor, by in [
        (f"operator:{holder}", {"kind": "operator", "id": str(holder)}),
        ("system", {"kind": "system"}),
    ]:
        closed = object.__new__(Chat.Closed)
        object.__setattr__(closed, "__dict__", {"actor": actor, "reason": "x", "closed_by": by})
        fact = fact_for(closed, chat, None)
        assert fact.type == "chat.closed"
        assert fact.data == {"closed_by": by, "reason": "x"}
        assert fact.operator_id == holder


def test_every_event_type_has_a_mapping_from_a_domain_event() -> None:
    chat = ChatFacts(uuid4(), "conv-1", "webbot", uuid4())
    message = message_state(posted())
    made = set()
    for name in FACTS:
        kind = getattr(Chat, name.split(".")[1])
        fields = {key: None for key in kind.__annotations__}
        fields.update(operator_id=uuid4(), score=5, actor="system", reason=None, until=None)
        event = object.__new__(kind)
        object.__setattr__(event, "__dict__", {**fields, "originator_id": chat.id})
        made.add(fact_for(event, chat, message).type)
    assert made == set(EVENT_TYPES)
    assert not PRIVATE & FACTS.keys(), "a private note is never an Event"


def test_an_overdue_answer_tells_which_clock_when_it_was_due_and_who_held_the_chat() -> None:
    holder, chat_id = uuid4(), uuid4()
    event = Chat.ResponseOverdue(
        originator_id=chat_id,
        originator_version=4,
        timestamp=AT + timedelta(seconds=61),
        actor="system",
        clock="first_response",
        due_at=AT + timedelta(seconds=60),
        operator_id=holder,
    )
    fact = fact_for(event, ChatFacts(chat_id, "conv-1", "webbot", holder), None)
    assert fact.type == "chat.overdue"
    assert fact.operator_id == holder
    assert fact.data == {"clock": "first_response", "due_at": "2026-11-21T09:31:00Z"}


def test_a_private_message_is_never_an_event() -> None:
    event = posted()
    object.__setattr__(event, "private", True)
    chat = ChatFacts(event.originator_id, "conv-1", "webbot")
    assert fact_for(event, chat, message_state(event)) is None
    assert fact_for(posted(), chat, message_state(posted())).type == "message.created"


@given(st.uuids(), st.integers(min_value=1, max_value=10**6), st.sampled_from(EVENT_TYPES))
def test_event_ids_are_stable_and_tell_facts_apart(chat_id: UUID, version: int, kind: str) -> None:
    assert event_id(chat_id, version, kind) == event_id(chat_id, version, kind)
    assert event_id(chat_id, version, kind) != event_id(chat_id, version + 1, kind)
    assert event_id(chat_id, version, kind).startswith("evt_")


@given(st.uuids(), st.integers(min_value=1, max_value=10**6), st.text(max_size=20))
def test_event_ids_are_the_uuid5_of_the_fact(chat_id: UUID, version: int, kind: str) -> None:
    """Ids already sent stay the same: the digest taken by hand is ``uuid5``'s."""
    expected = "evt_" + uuid5(EVENT_NAMESPACE, f"{chat_id}/{version}/{kind}").hex
    assert event_id(chat_id, version, kind) == expected
    assert event_id(str(chat_id), version, kind) == expected


_values = st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.uuids()
_nested = st.recursive(
    _values | st.datetimes(timezones=st.just(UTC)),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)


@given(
    st.lists(st.dictionaries(st.text(max_size=5), _nested, max_size=3), max_size=3),
    st.lists(st.dictionaries(st.text(max_size=5), _values, max_size=3), max_size=3),
    st.none() | st.text(max_size=8),
)
def test_a_message_state_is_its_message_in_json_and_leaves_the_event_as_it_was(
    attachments: list[dict], buttons: list[dict], button_value: str | None
) -> None:
    event = posted(attachments=attachments, buttons=buttons, button_value=button_value)
    kept = copy.deepcopy(event.as_message())
    state = message_state(event)
    assert state == json.loads(json.dumps(jsonable(kept)))
    assert event.as_message() == kept  # ids and times not replaced in the event's own lists


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "https://user:pw@example.com/x",
        "https://user@example.com/x",
        "example.com/x",
        "https:///x",
        "https://example.com:99999/x",
        "https://exa mple.com/x",
        "javascript:alert(1)",
    ],
)
def test_bad_webhook_urls_are_refused(url: str) -> None:
    with pytest.raises(BadWebhookUrl):
        check_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/x",
        "http://localhost/x",
        "http://10.1.2.3/x",
        "http://192.168.0.1/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://0.0.0.0/x",
    ],
)
def test_private_and_loopback_addresses_are_refused_unless_allowed(url: str) -> None:
    check_url(url)
    with pytest.raises(BadWebhookUrl):
        check_reachable(url, allow_private=False)
    check_reachable(url, allow_private=True)
    check_reachable("https://hooks.example.com/x", allow_private=False)


def test_unknown_event_types_are_refused_and_repeats_dropped() -> None:
    with pytest.raises(InvalidValue):
        check_event_types(["chat.closed", "chat.exploded"])
    assert check_event_types(["chat.rated", "chat.closed", "chat.rated"]) == [
        "chat.closed",
        "chat.rated",
    ]


def test_a_webhook_records_who_changed_it(app: Switchboard, clock: FakeClock) -> None:
    done = app.register_webhook(
        actor=ADMIN.actor,
        url="https://hooks.example.com/x",
        events=[],
        bot=None,
        description=None,
        allow_private=False,
    )
    webhook, secret = done.value.webhook, done.value.secret
    assert secret.startswith("whsec_") and webhook.secret == secret
    assert app.change_webhook(webhook.id, actor=ADMIN.actor, allow_private=False).recorded is False
    app.change_webhook(webhook.id, actor=ADMIN.actor, allow_private=False, active=False)
    app.replay_webhook(webhook.id, 7, actor=ADMIN.actor)
    kinds = [type(e).__name__ for e in app.events.get(webhook.id)]
    assert kinds == ["WebhookRegistered", "WebhookChanged", "ReplayRequested"]
    with pytest.raises(BadWebhookUrl):
        app.change_webhook(
            webhook.id, actor=ADMIN.actor, allow_private=False, url="http://127.0.0.1/x"
        )


def test_the_default_retries_start_within_5_s_and_span_over_an_hour_in_8_attempts() -> None:
    config = Config()
    assert config.webhook_attempts >= 8
    waits = [
        (retry_delay(n, config, 0.75), retry_delay(n, config, 1.25))
        for n in range(1, config.webhook_attempts)
    ]
    assert waits[0][1] <= 5.0, "the first retry comes within 5 s"
    assert sum(low for low, _ in waits) >= 3_600, "the attempts span at least an hour"
    assert config.webhook_timeout_s == 10.0
