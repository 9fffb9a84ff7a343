"""The benchmark's dataset: groups, operators and chats over 30 days, built once and reused.

Chats are built with the domain's own methods (the same events the application records: a
handoff with a bot transcript, routing, an intercept with the greeting, messages each way, a
close and often a rating; the operator's ChatTaken/ChatReleased; the handoff's reservation)
with explicit timestamps spread over 30 days, and saved many aggregates per ``app.save`` call.
Groups, operators and settings go through the application's commands. The read models are
then caught up with the project's own ``rebuild``.

A dataset lives in a database named after its size (``sb_bench_quick``); a ``bench_dataset``
row written last says it is complete. A run works on a copy of it (``CREATE DATABASE ...
TEMPLATE``), dropped at the end, so the dataset stays as built.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import psycopg

from application.auth import Principal
from application.handoff import HANDOFF
from bench import services
from domain.actors import SYSTEM
from domain.chat import Chat
from domain.client import Client, client_id_of
from domain.operator import MAX_MAX_CHATS, Operator
from domain.reservation import Reservation
from domain.settings import greeting
from infrastructure.bootstrap import Services, build
from infrastructure.config import Config
from infrastructure.rebuilding import rebuild
from projections.machinery.rebuild import Progress

log = logging.getLogger("bench")

ADMIN = Principal("admin", "bench")
BOT = Principal("bot", "benchbot")
DAYS = 30
SAVE_BATCH = 50  # chats per app.save call
LONG_CHAT_EVENTS = 200
OPEN_SHARE = 0.01  # the most recent chats are still open at the end of the window
RATED_SHARE = 0.7
# The read models each build process rebuilds together: about equal work, one per core.
TOPICS = {
    "billing": ["refund", "invoice", "payment failed"],
    "delivery": ["late", "damaged", "address change"],
    "account": ["password", "login", "delete account"],
    "product": ["availability", "warranty", "sizing"],
}
CHANNELS = ("web", "whatsapp", "telegram", "app")
# Clients' names: the card of client k is FIRST[k % 40] LAST[k // 40 % 40] (1,600 names).
FIRST = (  # noqa: SIM905 (a list of names reads better as text)
    "Anna Boris Chloe Dmitri Elena Farid Greta Hugo Irina Jonas Katya Liam Maria Nikolai "
    "Olga Pavel Quinn Rosa Sergei Tamara Umar Vera Wanda Xenia Yusuf Zoe Alina Bogdan "
    "Clara Denis Emma Fedor Galina Hanna Igor Julia Kirill Lena Maxim Nadia"
).split()
LAST = (  # noqa: SIM905 (a list of names reads better as text)
    "Smith Ivanova Kowalski Novak Horvat Jensen Muller Rossi Garcia Silva Petrov Sokolova "
    "Popescu Nagy Dubois Larsen Bakker Kuznetsova Moreau Schmidt Fischer Weber Wagner "
    "Becker Hoffmann Koch Richter Klein Wolf Lange Berg Lindqvist Virtanen Korhonen "
    "Andersen Hansen Nilsen Olsen Vasquez Romero"
).split()
WORDS = [
    "order",
    "parcel",
    "refund",
    "invoice",
    "card",
    "payment",
    "courier",
    "address",
    "warehouse",
    "password",
    "login",
    "account",
    "size",
    "colour",
    "warranty",
    "discount",
    "voucher",
    "delay",
    "tracking",
    "number",
    "store",
    "return",
    "exchange",
    "receipt",
]


@dataclass(frozen=True)
class Size:
    name: str
    chats: int
    groups: int
    operators_per_group: int


SIZES = {
    "quick": Size("quick", 20_000, 8, 10),
    "full": Size("full", 1_000_000, 20, 20),
}


@dataclass
class DatasetInfo:
    """What a run needs to know about a built dataset; stored as JSON in its marker row."""

    size: str
    chats: int
    events: int
    window_from: str
    window_to: str
    group_ids: list[str]
    manual_group_id: str
    operator_ids: list[str]
    supervisor_id: str
    long_chat_id: str
    long_chat_mid: str
    busy_operator_id: str
    sample_phone: str
    sample_word: str
    build: dict[str, Any] = field(default_factory=dict)
    # Client cards (each handoff makes or updates its client's); 0: built before they were.
    clients: int = 0
    sample_client_name: str = ""  # a card's whole name (about 1 card in 1,600)
    sample_client_digits: str = ""  # six digits of a phone
    sample_client_prefix: str = ""  # the beginning of a surname (about 1 card in 40)


def dataset_name(size: Size) -> str:
    return f"sb_bench_{size.name}"


def load_info(url: str, *, complete: bool = True) -> DatasetInfo | None:
    """The marker row of a complete dataset (``complete=False``: of one whose events are all
    appended but whose read models are not built), or None."""
    try:
        with psycopg.connect(url) as conn:
            exists = conn.execute("SELECT to_regclass('public.bench_dataset')").fetchone()[0]
            if exists is None:
                return None
            row = conn.execute(
                "SELECT info FROM bench_dataset WHERE complete = %s", (complete,)
            ).fetchone()
    except psycopg.OperationalError:
        return None
    return DatasetInfo(**row[0]) if row else None


def ensure(
    server_url: str, size: Size, *, rebuild_dataset: bool, say: Callable[[str], None]
) -> DatasetInfo:
    """Reuse the complete dataset of this size, finish one whose events are all appended (an
    interrupted build resumes at its read models), or build it."""
    name = dataset_name(size)
    url = services.database_url_for(server_url, name)
    if not rebuild_dataset and services.database_exists(server_url, name):
        info = load_info(url)
        if info is not None and info.clients:
            say(f"dataset {name}: reusing {info.chats:,} chats, {info.events:,} events")
            Builder(url, size, say).follow_the_code()
            return info
        if info is not None:
            say(f"dataset {name}: built before client cards were, building again")
        appended = load_info(url, complete=False)
        if appended is not None and appended.clients:
            say(f"dataset {name}: {appended.events:,} events appended, building the read models")
            return Builder(url, size, say).finish(appended)
        say(f"dataset {name}: incomplete, building again")
    services.drop_database(server_url, name)
    services.create_database(server_url, name)
    return Builder(url, size, say).build()


class FixedClock:
    """The engine's clock while the dataset is appended: every event carries its own time."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


class Builder:
    def __init__(self, url: str, size: Size, say: Callable[[str], None]) -> None:
        self.url = url
        self.size = size
        self.say = say
        self.rng = random.Random(20260101)
        self.window_to = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        self.window_from = self.window_to - timedelta(days=DAYS)
        self.clock = FixedClock(self.window_from - timedelta(hours=1))

    def build(self) -> DatasetInfo:
        """Append the events, mark the dataset appended, then build its read models."""
        container = self._container()
        try:
            app = container.app
            # The engine would otherwise close the chats left open (their last message is
            # old by the time the benchmark runs) and fill the log with closes.
            app.change_settings({"inactivity_close_minutes": None}, actor=ADMIN.actor)
            groups, manual, operators, supervisor = self._staff(container)
            t0 = time.perf_counter()
            chats_made, long_chat, long_mid, cards = self._chats(
                container, groups, manual, operators
            )
            append_s = time.perf_counter() - t0
            head = app.head() or 0
            busy = self._busy_operator(container, operators)
        finally:
            container.stop()
        self.say(f"  appended {head:,} events in {append_s:.0f}s ({head / append_s:,.0f} events/s)")
        info = DatasetInfo(
            size=self.size.name,
            chats=chats_made,
            events=head,
            window_from=self.window_from.isoformat(),
            window_to=self.window_to.isoformat(),
            group_ids=[str(g) for g in groups],
            manual_group_id=str(manual),
            operator_ids=[str(op) for op in operators],
            supervisor_id=str(supervisor),
            long_chat_id=str(long_chat),
            long_chat_mid=long_mid.isoformat(),
            busy_operator_id=str(busy),
            sample_phone=self._phone(7),
            sample_word="warranty",
            clients=cards,
            sample_client_name=self._client_name(12_345),
            sample_client_digits=self._phone(self.size.chats * 2 // 3)[-6:],
            sample_client_prefix=LAST[7][:4].lower(),
            build={
                "append_s": round(append_s, 1),
                "append_events_s": round(head / append_s),
            },
        )
        # An interrupted build resumes from here (building read models is the long part).
        with psycopg.connect(self.url) as conn:
            conn.execute("CREATE TABLE bench_dataset (complete boolean NOT NULL, info jsonb)")
            conn.execute(
                "INSERT INTO bench_dataset VALUES (false, %s)", (json.dumps(asdict(info)),)
            )
        return self.finish(info)

    def finish(self, info: DatasetInfo) -> DatasetInfo:
        """Build the read models of an appended dataset and mark it complete."""
        t0 = time.perf_counter()
        container = self._container()
        try:
            self._catch_up_read_models([model.name for model in container.read_models])
        finally:
            container.stop()
        rebuild_s = time.perf_counter() - t0
        # A copy of the dataset starts with its statistics and its visibility map (as a
        # server's autovacuum keeps them: without it no scan is index-only).
        services.vacuum(self.url)
        info.build.update(
            read_models_s=round(rebuild_s, 1),
            read_models_events_s=round(info.events / rebuild_s),
            total_s=round(info.build["append_s"] + rebuild_s, 1),
        )
        with psycopg.connect(self.url) as conn:
            conn.execute("DELETE FROM bench_dataset")
            conn.execute("INSERT INTO bench_dataset VALUES (true, %s)", (json.dumps(asdict(info)),))
        return info

    def follow_the_code(self) -> None:
        """Rebuild the read models whose tables changed shape since the dataset was built (as
        a server does when it starts after an upgrade, but once, here, rather than in every
        run's copy), and vacuum the dataset."""
        container = self._container()  # drops the tables of a model whose shape changed
        try:
            head = container.app.head() or 0
            stale = [model.name for model in container.read_models if model.position() < head]
        finally:
            container.stop()
        if stale:
            self.say(f"  read models changed since the dataset was built: {', '.join(stale)}")
            self._catch_up_read_models(stale)
        # A dataset built before builds vacuumed it has no visibility map: give it one here,
        # once (after that a vacuum finds nothing to do), rather than in every run's copy.
        self.say(f"  vacuumed the dataset in {services.vacuum(self.url)} s")

    def _container(self) -> Services:
        return build(
            Config(
                DATABASE_URL=self.url, SWITCHBOARD_DB_POOL_SIZE=2, SWITCHBOARD_LOG_LEVEL="WARNING"
            ),
            clock=self.clock,
            run_projections=False,
        )

    # -- staff ----------------------------------------------------------------------------------

    def _staff(self, container: Services) -> tuple[list[UUID], UUID, list[UUID], UUID]:
        """Groups (the first one manual: its chats wait in the queue) and working operators."""
        app = container.app
        groups = []
        for n in range(self.size.groups):
            done = app.create_group(
                actor=ADMIN.actor,
                name=f"Group {n:02d}",
                routing="manual" if n == 0 else "auto",
                sl_first_response_s=60,
                sl_next_response_s=120,
            )
            groups.append(done.value.id)
        operators = []
        for n in range(self.size.groups * self.size.operators_per_group):
            group = groups[n % len(groups)]
            done = app.register_operator(
                actor=ADMIN.actor,
                first_name=f"Op{n:04d}",
                last_name="Bench",
                email=f"op{n:04d}@bench.example",
                group_ids=[group],
                max_chats=MAX_MAX_CHATS,
            )
            operator, token = done.value
            app.set_status(operator.id, "working", caller=app.authenticate(token))
            operators.append(operator.id)
        operator, token = app.register_operator(
            actor=ADMIN.actor,
            first_name="Super",
            last_name="Visor",
            email="supervisor@bench.example",
            role="supervisor",
            group_ids=list(groups),
        ).value
        return groups, groups[0], operators, operator.id

    # -- chats ----------------------------------------------------------------------------------

    def _chats(
        self, container: Services, groups: list[UUID], manual: UUID, operator_ids: list[UUID]
    ) -> tuple[int, UUID, datetime, int]:
        app = container.app
        settings = app.company_settings()
        operators = {op: app.repository.get(op) for op in operator_ids}
        by_group: dict[UUID, list[Operator]] = {}
        for operator in operators.values():
            by_group.setdefault(operator.group_ids[0], []).append(operator)
        total = self.size.chats
        span = (self.window_to - self.window_from).total_seconds() - 3600
        open_from = int(total * (1 - OPEN_SHARE))
        batch: list[Any] = []
        touched: dict[UUID, Operator] = {}
        clients: dict[UUID, Client] = {}  # every card, kept current in memory
        seen: dict[UUID, Client] = {}  # the cards the batch changed
        last_report = time.perf_counter()
        long_chat = long_mid = None
        for n in range(total):
            at = self.window_from + timedelta(seconds=span * n / total + self.rng.random())
            group = manual if self.rng.random() < 0.05 else self.rng.choice(groups[1:])
            operator = self.rng.choice(by_group[group])
            if n == total // 2:
                chat, long_mid = self._long_chat(at, groups[1], by_group[groups[1]][0], settings)
                long_chat = chat.id
                touched[by_group[groups[1]][0].id] = by_group[groups[1]][0]
            else:
                chat = self._chat(n, at, group, group == manual, operator, settings, n >= open_from)
                if chat.operator_id is not None:
                    touched[operator.id] = operator
            reservation = Reservation.reserve(
                kind=HANDOFF,
                key=f"{BOT.name}\x00{chat.external_id}",
                owner_id=chat.id,
                at=chat.created_on,
                actor=BOT.actor,
            )
            batch += [chat, reservation]
            seen[client_id_of(chat.client)] = self._card(chat, clients)
            if len(batch) >= 2 * SAVE_BATCH:
                app.save(*batch, *touched.values(), *seen.values())
                batch, touched, seen = [], {}, {}
                if time.perf_counter() - last_report > 10:
                    last_report = time.perf_counter()
                    self.say(f"  {n + 1:,} of {total:,} chats, head {app.head():,}")
        app.save(*batch, *touched.values(), *seen.values())
        assert long_chat is not None and long_mid is not None
        return total, long_chat, long_mid, len(clients)

    @staticmethod
    def _card(chat: Chat, clients: dict[UUID, Client]) -> Client:
        """The client card the handoff makes or updates, as ``application.handoff`` does."""
        card_id = client_id_of(chat.client)
        card = clients.get(card_id)
        if card is None:
            card = Client.first_seen(
                chat.client, chat_id=chat.id, at=chat.created_on, actor=BOT.actor
            )
            clients[card_id] = card
        else:
            card.hand_off(chat.client, chat_id=chat.id, at=chat.created_on, actor=BOT.actor)
        return card

    @staticmethod
    def _client_name(k: int) -> str:
        return f"{FIRST[k % len(FIRST)]} {LAST[k // len(FIRST) % len(LAST)]}"

    def _chat(
        self,
        n: int,
        at: datetime,
        group: UUID,
        manual: bool,
        operator: Operator,
        settings: dict[str, Any],
        still_open: bool,
    ) -> Chat:
        """One handoff's life: request, routing, intercept, messages, close, rating."""
        rng = self.rng
        topic = rng.choice(list(TOPICS))
        k = rng.randrange(self.size.chats // 3 + 1)
        chat = Chat.request(
            chat_id=uuid4(),
            at=at,
            actor=BOT.actor,
            external_id=f"ext-{n}",
            client={
                "id": f"client-{k}",
                "name": self._client_name(k),
                "username": f"{FIRST[k % len(FIRST)].lower()}_{k}",
                "phone": self._phone(n),
                "channel": rng.choice(CHANNELS),
                "language": "en",
            },
            topic=topic,
            subtopic=rng.choice(TOPICS[topic]),
            group_id=group,
            transcript=[
                {"author": "client", "text": self._sentence(), "at": at - timedelta(seconds=40)},
                {"author": "bot", "text": "Let me find an operator for you.", "at": at},
            ],
        )
        if manual:
            chat.queue(group, at=at, actor=SYSTEM)
            if still_open:
                return chat  # waits in the manual group's queue
        t = at + timedelta(seconds=rng.uniform(1, 90) if manual else 0)
        actor = Principal("operator", operator.email, operator.id).actor
        operator.take_chat(chat.id, at=t, actor=SYSTEM if not manual else actor)
        chat.assign(operator.id, group, at=t, actor=SYSTEM if not manual else actor)
        t += timedelta(seconds=rng.uniform(2, 120))
        self._intercept(chat, operator, t, settings)
        for _ in range(rng.randint(1, 3)):
            t += timedelta(seconds=rng.uniform(5, 60))
            chat.reply(uuid4(), operator.id, self._sentence(), supervisor=False, at=t, actor=actor)
            t += timedelta(seconds=rng.uniform(5, 90))
            chat.relay_client_message(uuid4(), self._sentence(), at=t, actor=BOT.actor)
        if still_open:
            return chat
        t += timedelta(seconds=rng.uniform(5, 60))
        chat.close(operator_id=operator.id, supervisor=False, reason=None, at=t, actor=actor)
        operator.release_chat(chat.id, at=t, actor=actor)
        if rng.random() < RATED_SHARE:
            chat.rate(
                rng.choice((5, 5, 5, 4, 4, 3, 2, 1)),
                None,
                at=t + timedelta(seconds=30),
                actor=BOT.actor,
            )
        return chat

    def _long_chat(
        self, at: datetime, group: UUID, operator: Operator, settings: dict[str, Any]
    ) -> tuple[Chat, datetime]:
        """A chat of exactly ``LONG_CHAT_EVENTS`` events, for the audit figure."""
        chat = Chat.request(
            chat_id=uuid4(),
            at=at,
            actor=BOT.actor,
            external_id="ext-long",
            client={"id": "client-long", "channel": "web", "phone": self._phone(1)},
            group_id=group,
            transcript=[{"author": "client", "text": self._sentence()}],
        )
        actor = Principal("operator", operator.email, operator.id).actor
        operator.take_chat(chat.id, at=at, actor=SYSTEM)
        chat.assign(operator.id, group, at=at, actor=SYSTEM)
        t = at + timedelta(seconds=5)
        self._intercept(chat, operator, t, settings)
        mid = None
        while chat.version < LONG_CHAT_EVENTS - 1:
            t += timedelta(seconds=3)
            if chat.version == LONG_CHAT_EVENTS // 2:
                mid = t
            if chat.version % 2:
                chat.relay_client_message(uuid4(), self._sentence(), at=t, actor=BOT.actor)
            else:
                chat.reply(
                    uuid4(), operator.id, self._sentence(), supervisor=False, at=t, actor=actor
                )
        t += timedelta(seconds=3)
        chat.close(operator_id=operator.id, supervisor=False, reason="long", at=t, actor=actor)
        operator.release_chat(chat.id, at=t, actor=actor)
        assert chat.version == LONG_CHAT_EVENTS, chat.version
        return chat, mid or t

    @staticmethod
    def _intercept(chat: Chat, operator: Operator, at: datetime, settings: dict[str, Any]) -> None:
        actor = Principal("operator", operator.email, operator.id).actor
        chat.intercept(operator.id, at=at, actor=actor)
        text = greeting(settings, first_name=operator.first_name, last_name=operator.last_name)
        if text.strip():
            chat.post_system_message(uuid4(), text, at=at, actor=SYSTEM)

    def _sentence(self) -> str:
        return " ".join(self.rng.choices(WORDS, k=self.rng.randint(4, 14))).capitalize() + "."

    @staticmethod
    def _phone(n: int) -> str:
        return f"+4470{n % 10_000_000:08d}"

    # -- read models ----------------------------------------------------------------------------

    def _catch_up_read_models(self, names: list[str]) -> None:
        """Rebuild the read models ``names`` from the log as ``switchboard projections rebuild
        --processes 2`` does: two processes side by side (one per core), each rebuilding its
        share of the models from one reading of the log. (The dispatcher keeps no position:
        it drains when it starts.)"""
        config = Config(DATABASE_URL=self.url, SWITCHBOARD_DB_POOL_SIZE=2)
        started = last = time.perf_counter()

        def show(progress: Progress) -> None:
            nonlocal last
            if time.perf_counter() - last > 30:
                last = time.perf_counter()
                self.say(f"  read models: {progress.position:,} of {progress.head:,}")

        rebuild(config, names, processes=2, on_progress=show)
        self.say(f"  read models {', '.join(names)}: {time.perf_counter() - started:.1f}s")

    @staticmethod
    def _busy_operator(container: Services, operators: list[UUID]) -> UUID:
        """The operator holding the most open chats: the heaviest ``mine`` dashboard."""
        loads = {op: container.app.repository.get(op).load for op in operators}
        return max(loads, key=loads.__getitem__)
