"""The history read model on real PostgreSQL: filters, full text, pages, who sees what, plans.

Every test settles the read models at the log's head before it reads, never sleeps.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from application.auth import Principal
from infrastructure.bootstrap import Services
from projections.history import HistoryFilters
from projections.machinery.keyset import BadCursor
from tests.clock import FakeClock

ADMIN = Principal("admin", "root")
BOT = Principal("bot", "webbot")
READ_MODELS = ("directory", "dashboard", "dispatcher", "history")


def settle(container: Services) -> None:
    """Every read model (and the dispatcher, whose assignments add events) at the head."""
    for _ in range(20):
        head = container.app.head() or 0
        for name in READ_MODELS:
            assert container.wait_for(name, head, 10), f"{name} did not reach {head}"
        if (container.app.head() or 0) == head:
            return
    pytest.fail("the log kept growing")


def group(container: Services, name: str, **options: Any) -> UUID:
    return container.app.create_group(actor=ADMIN.actor, name=name, **options).value.id


def operator(container: Services, email: str, groups: list[UUID], **options: Any) -> Principal:
    """A working operator of ``groups`` (``options``: more of ``register_operator``'s)."""
    app = container.app
    _, token = app.register_operator(
        actor=ADMIN.actor,
        first_name=email.split("@")[0].title(),
        last_name="Tester",
        email=email,
        group_ids=groups,
        **options,
    ).value
    principal = app.authenticate(token)
    assert principal is not None and principal.operator_id is not None
    app.set_status(principal.operator_id, "working", caller=principal)
    return principal


def search(container: Services, held_by: UUID | None = None, **filters: Any) -> list[UUID]:
    """Every matching chat id, newest first, walking all pages."""
    found, cursor = [], None
    while True:
        rows, cursor = container.history.search(
            HistoryFilters(**filters), held_by=held_by, cursor=cursor, limit=3
        )
        found.extend(row["id"] for row in rows)
        if cursor is None:
            return found


def row(container: Services, chat_id: UUID) -> dict[str, Any]:
    rows, _ = container.history.search(HistoryFilters(), limit=500)
    return next(r for r in rows if r["id"] == chat_id)


# -- a chat's row -------------------------------------------------------------------------------


def test_a_row_follows_the_chat_from_handoff_to_rating(
    container: Services, clock: FakeClock
) -> None:
    app = container.app
    sales = group(container, "Sales")
    alice = operator(container, "alice@example.com", [sales])
    requested_at = clock.now()
    chat = app.handoff(
        bot=BOT,
        external_id="ext-1",
        client={"id": "u1", "phone": "+15550100", "channel": "web", "name": "Zoe"},
        topic="billing",
        subtopic="refund",
        group_id=sales,
        transcript=[
            {"author": "client", "text": "I want my money back"},
            {"author": "bot", "text": "Let me find a human"},
        ],
    ).value.id
    settle(container)
    first = row(container, chat)
    assert first["status"] == "assigned"
    assert (first["operator_id"], first["operator_ids"]) == (alice.operator_id, [alice.operator_id])
    assert first["message_count"] == 2

    app.intercept(chat, caller=alice)
    app.reply(chat, "Sure, which order?", caller=alice)
    app.relay_client_message(chat, "Order 42", bot=BOT)
    clock.advance(minutes=5)
    closed_at = clock.now()
    app.close_chat(chat, caller=alice, reason="refunded")
    app.rate(chat, 5, "great", bot=BOT)
    settle(container)

    shown = row(container, chat)
    assert shown == {
        "id": chat,
        "external_id": "ext-1",
        "status": "closed",
        "group_id": sales,
        "operator_id": alice.operator_id,
        "operator_ids": [alice.operator_id],
        "client": {"id": "u1", "phone": "+15550100", "channel": "web", "name": "Zoe"},
        "topic": "billing",
        "subtopic": "refund",
        "requested_at": requested_at,
        "closed_at": closed_at,
        "close_reason": "refunded",
        "closed_by": {"kind": "operator", "id": str(alice.operator_id)},
        "rating": 5,
        # Transcript, reply, client: the engine's greeting is not the conversation.
        "message_count": 4,
        "headline": None,
    }


# -- filters ------------------------------------------------------------------------------------


@dataclass
class World:
    start: datetime
    sales: UUID
    support: UUID
    manual: UUID
    alice: Principal
    bob: Principal
    carol: Principal
    refund: UUID  # closed, rated 5, sales, alice
    late: UUID  # closed, rated 2, support, carol then bob
    invoice: UUID  # queued in the manual group
    waiting: UUID  # assigned to alice, not intercepted
    talking: UUID  # active with carol


@pytest.fixture
def world(container: Services, clock: FakeClock) -> World:
    """Five chats an hour apart, across groups, operators, topics, channels and states."""
    app = container.app
    sales = group(container, "Sales")
    support = group(container, "Support")
    manual = group(container, "Billing", routing="manual")
    vip = group(container, "VIP")
    alice = operator(container, "alice@example.com", [sales])
    carol = operator(container, "carol@example.com", [support])
    bob = operator(container, "bob@example.com", [vip])
    start = clock.now()

    def handoff(external_id: str, group_id: UUID, **fields: Any) -> UUID:
        chat = app.handoff(bot=BOT, external_id=external_id, group_id=group_id, **fields).value.id
        clock.advance(hours=1)
        return chat

    refund = handoff(
        "refund",
        sales,
        client={"id": "u1", "phone": "+15550001", "channel": "web"},
        topic="billing",
        subtopic="refund",
        transcript=[{"author": "client", "text": "I need a refund for my parcel"}],
    )
    app.intercept(refund, caller=alice)
    app.reply(refund, "The refund is approved", caller=alice)
    app.close_chat(refund, caller=alice, reason="solved")
    app.rate(refund, 5, None, bot=BOT)

    late = handoff(
        "late",
        support,
        client={"id": "u2", "phone": "+15550002", "channel": "telegram"},
        topic="delivery",
        subtopic="late",
    )
    app.relay_client_message(late, "My parcel is late again", bot=BOT)
    app.intercept(late, caller=carol)
    app.reply(late, "Checking with the courier", caller=carol)
    app.reassign(late, caller=ADMIN, operator_id=bob.operator_id)
    app.reply(late, "Courier says tomorrow", caller=bob)
    app.close_chat(late, caller=bob, reason=None)
    app.rate(late, 2, "slow", bot=BOT)

    invoice = handoff(
        "invoice",
        manual,
        client={"id": "u3", "channel": "web"},
        topic="billing",
        subtopic="invoice",
        transcript=[{"author": "bot", "text": "Invoice questions go to billing"}],
    )
    waiting = handoff(
        "waiting",
        sales,
        client={"id": "u1", "phone": "+15550001", "channel": "whatsapp"},
        topic="delivery",
        subtopic="address",
    )
    talking = handoff("talking", support, client={"id": "u4", "channel": "telegram"})
    app.intercept(talking, caller=carol)
    app.relay_client_message(talking, "Where is my refund?", bot=BOT)
    settle(container)
    return World(
        start, sales, support, manual, alice, bob, carol, refund, late, invoice, waiting, talking
    )


def test_the_world_is_as_built(container: Services, world: World) -> None:
    assert search(container) == [
        world.talking,
        world.waiting,
        world.invoice,
        world.late,
        world.refund,
    ]
    late = row(container, world.late)
    assert late["operator_id"] == world.bob.operator_id
    assert late["operator_ids"] == [world.carol.operator_id, world.bob.operator_id]
    assert {row(container, c)["status"] for c in (world.refund, world.late)} == {"closed"}
    assert row(container, world.invoice)["status"] == "queued"
    assert row(container, world.waiting)["status"] == "assigned"
    assert row(container, world.talking)["status"] == "active"


def test_each_filter_alone(container: Services, world: World) -> None:
    w = world
    hour = timedelta(hours=1)
    cases: list[tuple[dict[str, Any], list[UUID]]] = [
        ({"since": w.start + hour}, [w.talking, w.waiting, w.invoice, w.late]),
        ({"until": w.start + 2 * hour}, [w.late, w.refund]),  # exclusive
        ({"until": w.start}, []),
        ({"since": w.start + 4 * hour}, [w.talking]),  # inclusive
        ({"topic": "billing"}, [w.invoice, w.refund]),
        ({"topic": "Billing"}, []),
        ({"subtopic": "late"}, [w.late]),
        ({"operator_id": w.carol.operator_id}, [w.talking, w.late]),
        ({"operator_id": w.bob.operator_id}, [w.late]),
        ({"operator_id": w.alice.operator_id}, [w.waiting, w.refund]),
        ({"operator_id": uuid.uuid4()}, []),
        ({"group_id": w.sales}, [w.waiting, w.refund]),
        ({"group_id": w.manual}, [w.invoice]),
        ({"rating": 5}, [w.refund]),
        ({"rating": 2}, [w.late]),
        ({"rating": 3}, []),
        ({"phone": "+15550001"}, [w.waiting, w.refund]),
        ({"phone": "15550001"}, []),
        ({"channel": "telegram"}, [w.talking, w.late]),
        ({"channel": "web"}, [w.invoice, w.refund]),
        ({"status": "queued"}, [w.invoice]),
        ({"status": "assigned"}, [w.waiting]),
        ({"status": "active"}, [w.talking]),
        ({"status": "closed"}, [w.late, w.refund]),
        ({"q": "refund"}, [w.talking, w.refund]),
        ({"q": "parcel"}, [w.late, w.refund]),
        ({"q": "courier"}, [w.late]),
        ({"q": "COURIER"}, [w.late]),  # case folds
        ({"q": "invoice"}, [w.invoice]),
        ({"q": "nothing-like-this"}, []),
    ]
    for filters, expected in cases:
        assert search(container, **filters) == expected, filters


def test_filters_combine_with_and(container: Services, world: World) -> None:
    w = world
    cases: list[tuple[dict[str, Any], list[UUID]]] = [
        ({"topic": "billing", "status": "closed"}, [w.refund]),
        ({"topic": "billing", "subtopic": "invoice"}, [w.invoice]),
        ({"topic": "delivery", "subtopic": "refund"}, []),
        ({"group_id": w.support, "rating": 2}, [w.late]),
        ({"group_id": w.support, "rating": 5}, []),
        ({"channel": "telegram", "since": w.start + timedelta(hours=2)}, [w.talking]),
        ({"operator_id": w.carol.operator_id, "q": "refund"}, [w.talking]),
        ({"phone": "+15550001", "status": "assigned", "group_id": w.sales}, [w.waiting]),
        (
            {
                "since": w.start,
                "until": w.start + timedelta(hours=5),
                "channel": "web",
                "q": "refund approved",
                "rating": 5,
                "status": "closed",
                "topic": "billing",
                "subtopic": "refund",
                "group_id": w.sales,
                "operator_id": w.alice.operator_id,
                "phone": "+15550001",
            },
            [w.refund],
        ),
    ]
    for filters, expected in cases:
        assert search(container, **filters) == expected, filters


def test_an_operator_sees_only_the_chats_they_held(container: Services, world: World) -> None:
    w = world
    assert search(container, held_by=w.alice.operator_id) == [w.waiting, w.refund]
    # Carol handed "late" over to Bob: both still find it.
    assert search(container, held_by=w.carol.operator_id) == [w.talking, w.late]
    assert search(container, held_by=w.bob.operator_id) == [w.late]
    assert search(container, held_by=uuid.uuid4()) == []
    # Their filters narrow their own view; they never widen it.
    assert search(container, held_by=w.bob.operator_id, operator_id=w.carol.operator_id) == [w.late]
    assert search(container, held_by=w.alice.operator_id, operator_id=w.carol.operator_id) == []
    assert search(container, held_by=w.carol.operator_id, status="active") == [w.talking]


# -- full text ----------------------------------------------------------------------------------


def test_full_text_follows_edits_and_deletes(container: Services, clock: FakeClock) -> None:
    app = container.app
    sales = group(container, "Sales")
    alice = operator(container, "alice@example.com", [sales])
    chat = app.handoff(
        bot=BOT,
        external_id="ft",
        client={"id": "u1"},
        group_id=sales,
        transcript=[
            {"author": "client", "text": "Bonjour, mon colis est perdu"},
            {"author": "bot", "text": "Je transfère à un humain"},
        ],
    ).value.id
    other = app.handoff(bot=BOT, external_id="other", client={"id": "u2"}, group_id=sales).value.id
    app.intercept(chat, caller=alice)
    reply = app.reply(chat, "Your tracking number is wrong", caller=alice).value
    app.relay_client_message(chat, "Привет, где посылка?", bot=BOT)
    app.post_bot_message(chat, "Ein Mensch antwortet gleich", bot=BOT)
    settle(container)

    # Transcript, client, bot and operator lines, in any language the simple parser splits.
    for words in ("colis", "transfère", "tracking", "посылка", "Mensch", "perdu tracking"):
        assert search(container, q=words) == [chat], words
    assert search(container, q='"tracking number"') == [chat]
    assert search(container, q='"number tracking"') == []
    assert search(container, q="tracking -colis") == []
    assert search(container, q="tracking or nonsense") == [chat]
    assert row(container, chat)["message_count"] == 5

    [hit], _ = container.history.search(HistoryFilters(q="tracking"))
    assert "«tracking»" in hit["headline"]

    app.edit_message(chat, reply["id"], "Your parcel ships today", caller=alice)
    settle(container)
    assert search(container, q="tracking") == []
    assert search(container, q="ships") == [chat]
    assert search(container, q="colis ships") == [chat]
    assert row(container, chat)["message_count"] == 5

    app.delete_message(chat, reply["id"], caller=alice)
    settle(container)
    assert search(container, q="ships") == []
    assert search(container, q="parcel") == []
    assert search(container, q="colis") == [chat]  # the rest of the chat is still found
    assert row(container, chat)["message_count"] == 4

    # Later messages append to what an edit recomputed.
    app.reply(chat, "Found it: shipping tomorrow", caller=alice)
    settle(container)
    assert search(container, q="shipping colis") == [chat]
    assert row(container, chat)["message_count"] == 5
    assert search(container, q="shipping") == [chat]
    assert other not in search(container, q="colis")


# Words and symbols that mean something to SQL or to tsquery are only words to a search.
HOSTILE_QUERIES = [
    "'); DROP TABLE readmodels.history_chats; --",
    "!!!",
    "&|!<->",
    "a & | b",
    "colis:*",
    "(((",
    ")",
    '"',
    "\\",
    "'",
    "%",
    "_",
    "colis <-> perdu",
    "-",
    "or",
    "- - -",
    "🙂",
    "x" * 1000,
]


def test_any_query_text_is_a_plain_search(container: Services) -> None:
    chat = container.app.handoff(
        bot=BOT,
        external_id="q",
        client={"id": "u1"},
        transcript=[{"author": "client", "text": "mon colis est perdu"}],
    ).value.id
    settle(container)
    for q in HOSTILE_QUERIES:
        rows, _ = container.history.search(HistoryFilters(q=q))
        assert {r["id"] for r in rows} <= {chat}, q
    assert search(container, q="colis <-> perdu") == [chat]  # the words, not the operator
    assert search(container) == [chat]  # and the table is still there


def test_a_long_chat_stays_searchable_up_to_its_limit(container: Services) -> None:
    """Past SEARCH_CHARS a chat's vector stops growing instead of failing the batch."""
    app = container.app
    sales = group(container, "Sales")
    alice = operator(container, "alice@example.com", [sales])
    chat = app.handoff(bot=BOT, external_id="long", client={"id": "u1"}, group_id=sales).value.id
    app.intercept(chat, caller=alice)
    replies = []
    for n in range(12):
        filler = " ".join(f"w{n}x{i}" for i in range(2_000))
        text = f"marker{n} {filler}"[:9_000]  # 11 of these fit in SEARCH_CHARS, not 12
        replies.append(app.reply(chat, text, caller=alice).value["id"])
    settle(container)
    assert search(container, q="marker0") == [chat]
    assert search(container, q="marker10") == [chat]
    assert search(container, q="marker11") == []
    assert row(container, chat)["message_count"] == 12

    # A delete recomputes the vector from the messages left: the last one fits now.
    app.delete_message(chat, replies[0], caller=alice)
    settle(container)
    assert search(container, q="marker0") == []
    assert search(container, q="marker11") == [chat]
    assert row(container, chat)["message_count"] == 11


# -- pages --------------------------------------------------------------------------------------


def test_keyset_pages_walk_every_match_once(container: Services, clock: FakeClock) -> None:
    app = container.app
    made = []
    for n in range(11):
        if n % 3 == 0:  # some chats share a timestamp: the id breaks the tie
            clock.advance(seconds=1)
        made.append(
            app.handoff(
                bot=BOT,
                external_id=f"p{n}",
                client={"id": f"u{n}", "channel": "web" if n % 2 else "sms"},
            ).value.id
        )
    settle(container)
    everything, _ = container.history.search(HistoryFilters(), limit=500)
    keys = [(r["requested_at"], r["id"]) for r in everything]
    assert keys == sorted(keys, reverse=True)
    assert {r["id"] for r in everything} == set(made)

    for limit in (1, 2, 4, 11, 12):
        walked, cursor, pages = [], None, 0
        while True:
            rows, cursor = container.history.search(HistoryFilters(), cursor=cursor, limit=limit)
            assert len(rows) <= limit
            walked.extend(r["id"] for r in rows)
            pages += 1
            if cursor is None:
                break
        assert walked == [r["id"] for r in everything], limit
        assert pages == -(-11 // limit)

    web = [r["id"] for r in everything if r["client"]["channel"] == "web"]
    assert search(container, channel="web") == web


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


BAD_CURSORS = [
    "not a cursor",
    "",
    "%%%%",
    _b64(b"[1, 2]"),
    _b64(b"{}"),
    _b64(b"[null, null, null]"),
    _b64(b'["2026-01-01T09:00:00+00:00", "not-a-uuid"]'),
    _b64(b'["yesterday", "00000000-0000-0000-0000-000000000000"]'),
    _b64(b'["2026-01-01T09:00:00", "00000000-0000-0000-0000-000000000000"]'),
    _b64(b"\xff\xfe"),
    _b64(b"[" * 5000),
]


def test_a_bad_cursor_raises_bad_cursor(container: Services) -> None:
    for cursor in BAD_CURSORS:
        with pytest.raises(BadCursor):
            container.history.search(HistoryFilters(), cursor=cursor)


# -- plans at scale -----------------------------------------------------------------------------

SYNTHETIC_ROWS = 100_000


def seq_scans(plan: dict[str, Any], table: str) -> list[str]:
    """The plan nodes that read ``table`` from end to end."""
    found = []
    if plan.get("Node Type") == "Seq Scan" and plan.get("Relation Name") == table:
        found.append(json.dumps({k: v for k, v in plan.items() if k != "Plans"}))
    for child in plan.get("Plans", []):
        found.extend(seq_scans(child, table))
    return found


def test_no_filter_reads_the_whole_chats_table_at_100k_rows(container: Services) -> None:
    history = container.history
    groups = [uuid.uuid4() for _ in range(20)]
    operators = [uuid.uuid4() for _ in range(200)]
    with history.datastore.transaction(commit=True) as curs:
        curs.execute(
            f"INSERT INTO {history.table('history_chats')} (id, external_id, status, group_id, "
            "operator_id, operator_ids, client, client_id, phone, channel, topic, subtopic, "
            "requested_at, closed_at, rating, message_count, search) "
            "SELECT gen_random_uuid(), 'x' || i, "
            "(ARRAY['queued', 'assigned', 'active', 'closed', 'closed', 'closed', 'closed', "
            "'closed', 'closed', 'closed'])[1 + i %% 10], "
            "(%(groups)s::uuid[])[1 + i %% 20], (%(operators)s::uuid[])[1 + i %% 200], "
            "ARRAY[(%(operators)s::uuid[])[1 + i %% 200], "
            "(%(operators)s::uuid[])[1 + i * 7 %% 200]], "
            "'{}'::jsonb, 'c' || i %% 30000, "
            "CASE WHEN i %% 3 = 0 THEN NULL ELSE '+1555' || lpad((i %% 40000)::text, 7, '0') END, "
            "(ARRAY['web', 'telegram', 'whatsapp', 'sms'])[1 + i %% 4], "
            "'topic' || i %% 40, 'sub' || i %% 300, "
            "timestamptz '2026-06-01' - i * interval '5 minutes', "
            "CASE WHEN i %% 10 >= 3 THEN timestamptz '2026-06-01' - i * interval '4 minutes' END, "
            "CASE WHEN i %% 4 = 0 THEN 1 + i %% 5 END, 3, "
            "to_tsvector('simple', 'hello w' || i %% 5000 || ' t' || i %% 97 || ' thanks') "
            "FROM generate_series(1, %(rows)s) AS i",
            {"groups": groups, "operators": operators, "rows": SYNTHETIC_ROWS},
        )
        curs.execute(f"ANALYZE {history.table('history_chats')}")

    june = datetime.fromisoformat("2026-05-20T00:00:00+00:00")
    cases: list[tuple[dict[str, Any], UUID | None]] = [
        ({}, None),
        ({"since": june}, None),
        ({"until": june}, None),
        ({"since": june, "until": june + timedelta(days=3)}, None),
        ({"topic": "topic7"}, None),
        ({"subtopic": "sub17"}, None),
        ({"topic": "topic7", "subtopic": "sub47"}, None),
        ({"operator_id": operators[5]}, None),
        ({}, operators[9]),
        ({"operator_id": operators[5]}, operators[9]),
        ({"group_id": groups[3]}, None),
        ({"rating": 4}, None),
        ({"phone": "+15550000123"}, None),
        ({"channel": "sms"}, None),
        ({"status": "queued"}, None),
        ({"status": "closed"}, None),
        ({"q": "w1234"}, None),
        ({"q": "hello"}, None),
        ({"q": "t5 thanks -w3"}, None),
        ({"q": '"hello w42"'}, None),
        ({"group_id": groups[3], "status": "closed", "rating": 5}, None),
        ({"since": june, "until": june + timedelta(days=7), "channel": "web"}, None),
        ({"q": "t13", "operator_id": operators[13]}, None),
        ({"topic": "topic3", "status": "active", "q": "hello"}, operators[3]),
    ]
    table = "history_chats"
    with history.datastore.transaction() as curs:
        for filters, held_by in cases:
            query = HistoryFilters(**filters)
            _, cursor = history.search(query, held_by=held_by, limit=50)
            for page_cursor in (None, cursor):
                sql, params = history.search_sql(query, held_by=held_by, cursor=page_cursor)
                curs.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
                (explained,) = curs.fetchone().values()
                plan = explained[0]["Plan"]
                assert not seq_scans(plan, table), (filters, held_by, page_cursor, plan)
