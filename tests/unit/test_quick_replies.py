"""Quick replies: the aggregate's rules, who keeps and who uses which, replying with one."""

from __future__ import annotations

from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.errors import Forbidden, NotFound, UnknownReference
from domain.errors import InvalidValue
from domain.quick_reply import MAX_SHORTCUT, QuickReply, QuickReplyIndex, check_reply_text
from tests.unit.chat_lifecycle_helpers import T0, drain, rebuilt
from tests.unit.helpers import ADMIN, BOT, intercepted_chat, operator

# -- the domain -------------------------------------------------------------------------------


def new_reply(**fields) -> QuickReply:
    values = {"shortcut": "hi", "text": "Hello {client_name}!", "title": None}
    values |= {"group_id": None, "owner_id": None} | fields
    return QuickReply.create(uuid4(), at=T0, actor="admin:root", **values)


@pytest.mark.parametrize(
    "fields",
    [
        {"shortcut": ""},
        {"shortcut": "two words"},
        {"shortcut": "x" * (MAX_SHORTCUT + 1)},
        {"text": "   "},
        {"text": "Hi {client_email}"},
        {"text": "Hi {client_name:>9}"},
        {"text": "Hi {client_name"},
        {"title": "x" * 201},
        {"group_id": uuid4(), "owner_id": uuid4()},
    ],
)
def test_a_quick_reply_refuses_bad_fields(fields):
    with pytest.raises(InvalidValue):
        new_reply(**fields)


def test_changes_are_events_and_a_rebuild_agrees():
    reply = new_reply()
    assert reply.change({"text": "Hi {operator_first_name} here"}, at=T0, actor="a")
    assert not reply.change({"shortcut": "hi"}, at=T0, actor="a")
    with pytest.raises(InvalidValue):
        reply.change({"owner_id": uuid4()}, at=T0, actor="a")
    reply.delete(at=T0, actor="a")

    copy = rebuilt(drain(reply))

    assert (copy.text, copy.deleted, copy.scope) == (reply.text, True, "company")


@given(st.text(max_size=30))
def test_a_text_that_passes_its_check_always_fills_in(text):
    try:
        check_reply_text(text)
    except InvalidValue:
        return
    text.format(client_name="Ann", operator_first_name="Bo")


def test_the_index_shows_each_reader_the_company_their_groups_and_their_own():
    sales, support, anna, ben = uuid4(), uuid4(), uuid4(), uuid4()
    index = QuickReplyIndex.start(at=T0, actor="a")
    replies = {
        "company": new_reply(),
        "sales": new_reply(group_id=sales),
        "support": new_reply(group_id=support),
        "annas": new_reply(owner_id=anna),
        "bens": new_reply(owner_id=ben),
    }
    for reply in replies.values():
        index.add(reply, at=T0, actor="a")
    named = {reply.id: name for name, reply in replies.items()}

    def seen(operator_id, groups, supervisor=False):
        ids = index.visible_to(operator_id, frozenset(groups), supervisor=supervisor)
        return sorted(named[i] for i in ids)

    assert seen(anna, [sales]) == ["annas", "company", "sales"]
    assert seen(ben, []) == ["bens", "company"]
    assert seen(None, [], supervisor=True) == ["company", "sales", "support"]
    index.remove(replies["sales"].id, at=T0, actor="a")
    assert seen(anna, [sales]) == ["annas", "company"]
    assert rebuilt(drain(index)).replies == index.replies


# -- the use cases ----------------------------------------------------------------------------


def test_supervisors_keep_shared_replies_and_anyone_their_own(app, sales, support):
    anna = operator(app, "anna@example.com", sales)
    ben = operator(app, "ben@example.com", support)
    app.create_quick_reply(shortcut="hello", text="Hello!", caller=ADMIN)
    app.create_quick_reply(shortcut="refund", text="Refunds…", group_id=sales.id, caller=ADMIN)
    app.create_quick_reply(shortcut="mine", text="Anna's", personal=True, caller=anna)
    before = app.head()

    with pytest.raises(Forbidden):
        app.create_quick_reply(shortcut="x", text="y", caller=anna)
    with pytest.raises(Forbidden):
        app.create_quick_reply(shortcut="x", text="y", group_id=sales.id, caller=anna)
    with pytest.raises(Forbidden):
        app.create_quick_reply(shortcut="x", text="y", personal=True, caller=ADMIN)
    with pytest.raises(UnknownReference):
        app.create_quick_reply(shortcut="x", text="y", group_id=uuid4(), caller=ADMIN)
    assert app.head() == before

    def shortcuts(caller, **query):
        return [r.shortcut for r in app.list_quick_replies(caller=caller, **query)]

    assert shortcuts(anna) == ["hello", "mine", "refund"]
    assert shortcuts(ben) == ["hello"]
    assert shortcuts(anna, q="ANNA") == ["mine"]
    assert shortcuts(anna, group_id=sales.id) == ["refund"]


def test_only_the_keeper_changes_or_deletes_a_reply(app, sales):
    anna = operator(app, "anna@example.com", sales)
    ben = operator(app, "ben@example.com", sales)
    shared = app.create_quick_reply(shortcut="hello", text="Hello!", caller=ADMIN).value
    own = app.create_quick_reply(shortcut="mine", text="Mine", personal=True, caller=anna).value
    before = app.head()

    with pytest.raises(Forbidden):
        app.update_quick_reply(shared.id, {"text": "Hi"}, caller=anna)
    with pytest.raises(Forbidden):
        app.delete_quick_reply(own.id, caller=ben)
    with pytest.raises(NotFound):
        app.delete_quick_reply(uuid4(), caller=ADMIN)
    assert app.head() == before

    app.update_quick_reply(own.id, {"text": "Still mine"}, caller=anna)
    app.delete_quick_reply(shared.id, caller=ADMIN)
    assert [r.text for r in app.list_quick_replies(caller=anna)] == ["Still mine"]
    with pytest.raises(NotFound):
        app.update_quick_reply(shared.id, {"text": "Back"}, caller=ADMIN)


def test_an_operator_replies_with_a_quick_reply_filled_in(app, sales):
    chat = app.handoff(
        bot=BOT, external_id="conv-q", client={"id": "c", "name": "Ann"}, group_id=sales.id
    ).value
    zoe = operator(app, "zoe@example.com", sales)
    app.intercept(chat.id, caller=zoe)
    text = "Hi {client_name}, {operator_first_name} here."
    reply = app.create_quick_reply(shortcut="hi", text=text, caller=ADMIN).value

    message = app.reply_with_quick_reply(chat.id, reply.id, caller=zoe).value

    assert message["text"] == "Hi Ann, Zoe here."
    assert message["author"] == "operator"


def test_a_reply_one_may_not_use_is_refused_and_nothing_is_recorded(app, sales, support):
    chat, anna = intercepted_chat(app, sales)
    ben = operator(app, "ben@example.com", support)
    others = app.create_quick_reply(shortcut="b", text="Ben's", personal=True, caller=ben).value
    support_only = app.create_quick_reply(
        shortcut="s", text="Support", group_id=support.id, caller=ADMIN
    ).value
    before = app.head()

    for reply_id in (others.id, support_only.id, uuid4()):
        with pytest.raises(UnknownReference):
            app.reply_with_quick_reply(chat.id, reply_id, caller=anna)

    assert app.head() == before
