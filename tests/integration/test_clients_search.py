"""The clients search on real PostgreSQL (property-based): after any handoffs, edits and tag
changes, the read model (cards and their search terms) equals a rebuild from the log, and
``q`` finds exactly the cards a plain Python filter of its documented meaning finds."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.auth import Principal
from domain.client import Client
from infrastructure.bootstrap import Services
from projections.clients import ClientFilters, Clients
from tests.integration.test_clients_model import CHECK_SCHEMA, rebuilt

BOT = Principal("bot", "webbot")
SUPERVISOR = Principal("supervisor", "sue")
WAIT_S = 10
KEYS = 4

names = st.sampled_from(["Ann", "Bob Ray", "Anne-Marie Çelik", "Zoë", "ann_x 100%", "O'Brien"])
usernames = st.sampled_from(["@ann", "bob_r", "zoe.k", "Ray"])
emails = st.sampled_from(["a.b@example.com", "ann@mail.example", "Zoe_K@Example.org", None])
phones = st.sampled_from(["+1 555 0101", "+44 (20) 7946-0958", "555-01", None])
tag_lists = st.lists(st.sampled_from(["vip", "Call back", "100%_sure", "ann"]), max_size=3)
commands = st.one_of(
    st.tuples(st.just("handoff"), st.integers(0, KEYS - 1), names, usernames),
    st.tuples(st.just("edit"), st.integers(0, KEYS - 1), emails, phones),
    st.tuples(st.just("rename"), st.integers(0, KEYS - 1), names, usernames),
    st.tuples(st.just("tags"), st.integers(0, KEYS - 1), tag_lists, st.none()),
)
words = st.sampled_from(
    [
        "an",
        "ANN",
        "anne",
        "marie",
        "bob",
        "ray",
        "çe",
        "zo",
        "zoë",
        "o'b",
        "brien",
        "@a",
        "x",
        "a.b",
        "a.b@ex",
        "zoe_k@",
        "mail",
        "55",
        "0101",
        "+1",
        "+44 20",
        "(20)",
        "7946-0958",
        "9",
        "vip",
        "call",
        "call back",
        "100%",
        "_",
        "%",
        "sure",
        "b@",
        "nobody",
    ]
)
queries = st.lists(words, min_size=1, max_size=3).map(" ".join)


def _runs(word: str) -> list[str]:
    return re.findall(r"[^\W_]+", word)


def _digits(text: str) -> str:
    return "".join(c for c in text if c in "0123456789")


def matches(profile: dict[str, Any], tags: list[str], q: str) -> bool:
    """``q``'s meaning as the API documents it, written plainly: every word begins a word (or
    a run of letters and digits) of the name or username, begins the e-mail, its local part
    or a run of it, begins a tag or a word of one, or (digits, or a phone-like word's digits)
    occurs in the phone's digits."""

    def one(word: str) -> bool:
        starts: list[str] = []
        for field in ("name", "username"):
            for part in (profile.get(field) or "").lower().split():
                starts += [part, *_runs(part)]
        email = (profile.get("email") or "").lower()
        if email:
            local = email.split("@")[0]
            starts += [email, local, *_runs(local)]
        for tag in tags:
            starts += [tag.lower(), *tag.lower().split()]
        if any(s.startswith(word) for s in starts):
            return True
        phone = _digits(profile.get("phone") or "")
        phone_like = re.fullmatch(r"[0-9+\-().]*[0-9][0-9+\-().]*", word)
        return bool(phone_like and _digits(word) in phone)

    return all(one(word) for word in q.lower().split())


# Each way a query's words may be found (``ClientQueries``): (listed_terms, fetched_cards).
WAYS = {
    "btree": (10**9, 10**9),  # every word listed, its cards fetched by id
    "walk": (0, 0),  # no word listed: every card checked in last-seen order
    "dense": (10**9, 1),  # every word listed, but more cards than are fetched: the walk
    "mixed": (3, 10**9),  # words of 3 terms or more checked on the cards the others name
}


def found_by(
    model: Clients, bounds: tuple[int, int], filters: ClientFilters, **page: Any
) -> tuple[list[dict[str, Any]], str | None]:
    model.listed_terms, model.fetched_cards = bounds  # this instance's attributes only
    try:
        return model.search(filters, **page)
    finally:
        del model.listed_terms, model.fetched_cards


def terms(model: Clients, ids: set[uuid.UUID]) -> list[tuple[str, uuid.UUID]]:
    with model.datastore.transaction() as curs:
        curs.execute(
            f"SELECT term, client_id FROM {model.table('client_terms')} "
            "WHERE client_id = ANY(%s) ORDER BY term, client_id",
            (list(ids),),
        )
        return [(row["term"], row["client_id"]) for row in curs.fetchall()]


@pytest.mark.slow
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(script=st.lists(commands, min_size=1, max_size=10), asked=st.lists(queries, max_size=8))
def test_search_finds_what_its_meaning_says_and_the_model_equals_a_rebuild(
    container: Services, script: list[tuple[str, int, Any, Any]], asked: list[str]
) -> None:
    app = container.app
    prefix = uuid.uuid4().hex[:8]
    ids = {k: Client.id_for("web", f"{prefix}-{k}") for k in range(KEYS)}
    for step, (command, k, first, second) in enumerate(script):
        if command == "handoff":
            client = {"id": f"{prefix}-{k}", "channel": "web", "name": first, "username": second}
            app.handoff(bot=BOT, external_id=f"{prefix}-{step}", client=client)
        elif app.find_client(ids[k]) is None:
            continue
        elif command == "edit":
            app.edit_client(ids[k], {"email": first, "phone": second}, caller=SUPERVISOR)
        elif command == "rename":
            app.edit_client(ids[k], {"name": first, "username": second}, caller=SUPERVISOR)
        else:
            app.set_client_tags(ids[k], first, caller=SUPERVISOR)
    head = app.head()
    assert head is not None and container.wait_for("clients", head, WAIT_S)

    cards = {i: app.find_client(i) for i in ids.values()}
    cards = {i: card for i, card in cards.items() if card is not None}
    model = container.clients
    for q in [*asked, "ann", "+1 555"]:
        pages = {}
        for way, bounds in WAYS.items():
            found, _ = found_by(model, bounds, ClientFilters(q=q), limit=500)
            pages[way] = [row["id"] for row in found]
        assert all(page == pages["btree"] for page in pages.values()), (q, pages)
        got = set(pages["btree"]) & set(ids.values())
        expected = {i for i, card in cards.items() if matches(card.profile, card.tags, q)}
        assert got == expected, q

    wanted = set(ids.values())
    check = rebuilt(container)
    assert check.datastore.schema == CHECK_SCHEMA
    live_cards = [row for row in container.clients.all_cards() if row["id"] in wanted]
    assert live_cards == [row for row in check.all_cards() if row["id"] in wanted]
    assert terms(container.clients, wanted) == terms(check, wanted)
    # The card's own array holds the same terms as its rows.
    by_card = {row["id"]: sorted(row["terms"]) for row in live_cards}
    for card_id in wanted & set(by_card):
        assert by_card[card_id] == sorted(t for t, c in terms(model, wanted) if c == card_id)


def test_search_is_served_by_the_terms_index(container: Services) -> None:
    """The plan reads the terms' btree by range (a prefix), not every card."""
    model = container.clients
    with model.datastore.transaction() as curs:
        curs.execute("SET LOCAL enable_seqscan = off")  # an empty table would be scanned
        curs.execute(
            f"EXPLAIN SELECT client_id FROM {model.table('client_terms')} WHERE term LIKE 'ann%'"
        )
        plan = "\n".join(str(next(iter(row.values()))) for row in curs.fetchall())
    assert "Index" in plan and "term >= 'ann'" in plan, plan


def test_pages_are_the_same_whichever_way_a_word_is_found(container: Services) -> None:
    """Page by page, with the cursor, the btree and the walk give the same cards, most
    recently seen first, each once, with tag and blocked filters beside the words. 20 cards
    are named "<marker> <kim>0..2" and 3 more "<kim>1" alone (``kim`` unique to this test)."""
    app, model = container.app, container.clients
    marker, kim = uuid.uuid4().hex[:8], f"k{uuid.uuid4().hex[:8]}"
    ids = []
    for n in range(23):
        name = f"{marker} {kim}{n % 3}" if n < 20 else f"{kim}1"
        client = {"id": f"{marker}-{n}", "channel": "web", "name": name}
        app.handoff(bot=BOT, external_id=f"{marker}-{n}", client=client)
        ids.append(Client.id_for("web", f"{marker}-{n}"))
    done = app.set_client_tags(ids[4], ["gold"], caller=SUPERVISOR)
    assert container.wait_for("clients", done.position, WAIT_S)
    cards = {row["id"]: row for row in model.all_cards() if row["id"] in set(ids)}
    newest_first = sorted(ids, key=lambda i: (cards[i]["last_seen_at"], i), reverse=True)
    marked = [i for i in newest_first if ids.index(i) < 20]

    def pages(filters: ClientFilters, bounds: tuple[int, int]) -> list[uuid.UUID]:
        seen: list[uuid.UUID] = []
        cursor = None
        while True:
            rows, cursor = found_by(model, bounds, filters, cursor=cursor, limit=5)
            seen += [row["id"] for row in rows]
            if cursor is None:
                return seen

    for filters, expected in (
        (ClientFilters(q=marker), marked),
        (ClientFilters(q=kim), newest_first),
        (ClientFilters(q=f"{kim}1 {marker}"), [i for i in marked if ids.index(i) % 3 == 1]),
        (ClientFilters(q=f"{marker} {kim}", tag="gold"), [ids[4]]),
        (ClientFilters(q=marker, blocked=True), []),
    ):
        # (20, ...): the marker's 20 terms are checked on the 10 cards "<kim>1" names.
        for bounds in (*WAYS.values(), (20, 10**9), (10**9, 8)):
            assert pages(filters, bounds) == expected, (filters, bounds)
