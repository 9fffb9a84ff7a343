"""The worker's webhook sender: works the delivery outbox the Events read model fills.

An asyncio loop on a thread of its own, so a slow, failing or hanging receiver holds no
command, read model or other webhook: each request has a total timeout, each webhook a
bound on its requests in flight, and a chat's Events go one at a time, in log order.
Deliveries are claimed with ``FOR UPDATE SKIP LOCKED`` and a lease, so two workers never
send one at once and a worker that dies mid-request leaves it to be sent again when the
lease runs out (at least once).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import httpx
import psycopg
from psycopg.rows import dict_row
from standardwebhooks.webhooks import Webhook as Signer

from api.event_views import event_json
from application.webhook_urls import refused_address
from infrastructure.config import Config
from projections.events.tables import DELIVERIES
from projections.machinery.positions import PositionWaiter, wait_async

log = logging.getLogger(__name__)

POLL_S = 1.0  # due retries are looked for at least this often
RUN = 10  # a chat's deliveries claimed (and sent one by one) at once, at most
CLAIM_LOCK = 0x5B0A_11D5  # claims take turns: PostgreSQL advisory lock key
USER_AGENT = "Switchboard-Webhooks/1"
ANSWER_BYTES = 64 * 1024  # read of a receiver's answer at most (it is not kept)


def retry_delay(attempts: int, config: Config, jitter: float) -> float:
    """The wait after ``attempts`` failed attempts: exponential, capped, with ``jitter``
    (a factor near 1) so that receivers coming back are not hit by every sender in step."""
    delay = config.webhook_retry_first_s * config.webhook_retry_factor ** (attempts - 1)
    return min(delay, config.webhook_retry_max_s) * jitter


def signature(row: dict[str, Any], at: datetime, body: str) -> str:
    """The ``webhook-signature`` header: with the current secret, and during a rotation's
    overlap with the replaced one too (space-separated; a receiver accepts either)."""
    secrets = [row["secret"], row.get("previous_secret")]
    return " ".join(Signer(secret).sign(row["id"], at, body) for secret in secrets if secret)


class WebhookSender:
    def __init__(
        self,
        config: Config,
        connect_info: str,
        read_schema: str,
        waiter: PositionWaiter,
        disable: Callable[[UUID, str], int | None],
        *,
        read_model: str = "events",
    ) -> None:
        self.config = config
        self._conninfo = connect_info
        self._schema = read_schema
        self._waiter = waiter
        self._disable = disable  # the command that turns a webhook off; gives its position
        self._read_model = read_model
        self._in_flight: Counter[UUID] = Counter()
        self._gone: set[UUID] = set()  # answered 410: sent nothing more until disabled
        self._outcomes: list[tuple[Any, ...]] = []  # attempts done, not yet written
        self._releases: list[dict[str, Any]] = []  # leased, not tried, to free
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="webhook-sender", daemon=True)
        self.sent = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._poke()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _poke(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed
                loop.call_soon_threadsafe(wake.set)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        self._waiter.listen(self._poke, self._read_model)  # new Events: new deliveries
        timeout = self.config.webhook_timeout_s
        # Per webhook, at most ``webhook_concurrency`` requests are in flight (the claim sees
        # to it); these bound the whole process.
        limits = httpx.Limits(max_connections=1_000, max_keepalive_connections=100)
        try:
            async with httpx.AsyncClient(
                timeout=httpx.Timeout(timeout), limits=limits, follow_redirects=False
            ) as client:
                backoff = 0.1
                while not self._stopping.is_set():
                    try:
                        await self._work(client)
                    except (psycopg.Error, OSError) as error:
                        log.warning("webhook sender lost the database (%s); again", error)
                        await asyncio.sleep(backoff)
                        backoff = min(backoff * 2, 5.0)
        finally:
            self._waiter.unlisten(self._poke)

    async def _work(self, client: httpx.AsyncClient) -> None:
        tasks: set[asyncio.Task] = set()
        async with await psycopg.AsyncConnection.connect(
            self._conninfo, autocommit=True, row_factory=dict_row, connect_timeout=5
        ) as conn:
            try:
                while not self._stopping.is_set():
                    self._wake.clear()
                    await self._flush(conn)
                    for run in await self._claim(conn):
                        self._in_flight[run[0]["webhook_id"]] += 1
                        task = asyncio.create_task(self._deliver(client, run))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), POLL_S)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                self._in_flight.clear()
                await self._flush(conn)  # what did finish (the rest is sent again, leases over)

    async def _claim(self, conn: psycopg.AsyncConnection) -> list[list[dict[str, Any]]]:
        """Lease runs of deliveries: for each chat whose earliest pending delivery is due and
        free, it and up to ``RUN - 1`` of the chat's next ones (in order, each due and free),
        for as many chats per webhook as it has requests free."""
        cap = self.config.webhook_concurrency
        busy = [w for w, n in self._in_flight.items() if n >= cap] + list(self._gone)
        partial = [(w, cap - n) for w, n in self._in_flight.items() if 0 < n < cap]
        events, webhooks = f"{self._schema}.events", f"{self._schema}.webhooks"
        # A run is sent one by one: its last delivery may wait for all the others.
        lease = RUN * self.config.webhook_timeout_s + 5.0
        async with conn.transaction():
            # Claims take turns between workers, so a chat's run is never split between two.
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (CLAIM_LOCK,))
            cursor = await conn.execute(
                f"""
                WITH pending AS (
                  SELECT d.webhook_id, d.chat_id, d.position,
                    row_number() OVER chat AS n,
                    bool_and(d.next_attempt_at <= now()
                      AND (d.leased_until IS NULL OR d.leased_until < now()))
                      OVER (chat ROWS UNBOUNDED PRECEDING) AS ready,
                    min(d.position) OVER (PARTITION BY d.webhook_id, d.chat_id) AS first
                  FROM {DELIVERIES} d JOIN {webhooks} w ON w.id = d.webhook_id AND w.active
                  WHERE d.status = 'pending' AND NOT d.webhook_id = ANY(%(busy)s::uuid[])
                  WINDOW chat AS (PARTITION BY d.webhook_id, d.chat_id ORDER BY d.position)
                ), runs AS (
                  -- A chat whose earliest delivery is not ready has no ready row: the ranks
                  -- count the chats that can go, oldest first, per webhook.
                  SELECT webhook_id, position,
                    dense_rank() OVER (PARTITION BY webhook_id ORDER BY first) AS k
                  FROM pending WHERE ready AND n <= %(run)s
                ), picked AS (
                  SELECT d.webhook_id, d.position FROM {DELIVERIES} d
                  JOIN runs r ON r.webhook_id = d.webhook_id AND r.position = d.position
                  LEFT JOIN unnest(%(ids)s::uuid[], %(free)s::int[]) AS f(webhook_id, free)
                    ON f.webhook_id = d.webhook_id
                  WHERE r.k <= COALESCE(f.free, %(cap)s)
                  FOR UPDATE OF d SKIP LOCKED
                )
                UPDATE {DELIVERIES} d SET leased_until = now() + %(lease)s * interval '1 second'
                FROM picked p, {events} e, {webhooks} w
                WHERE d.webhook_id = p.webhook_id AND d.position = p.position
                  AND e.position = d.position AND w.id = d.webhook_id
                RETURNING d.webhook_id, d.attempts, d.scheduled_by, w.url, w.secret,
                  CASE WHEN w.previous_until > now() THEN w.previous_secret END
                    AS previous_secret,
                  e.*
                """,
                {
                    "busy": busy,
                    "ids": [w for w, _ in partial],
                    "free": [n for _, n in partial],
                    "cap": cap,
                    "run": RUN,
                    "lease": lease,
                },
            )
            rows = await cursor.fetchall()
        runs: dict[tuple[UUID, UUID], list[dict[str, Any]]] = {}
        for row in sorted(rows, key=lambda row: row["position"]):
            runs.setdefault((row["webhook_id"], row["chat_id"]), []).append(row)
        return list(runs.values())

    async def _deliver(self, client: httpx.AsyncClient, run: list[dict[str, Any]]) -> None:
        """Send a chat's run in order; at the first failure, what follows waits its turn."""
        webhook_id = run[0]["webhook_id"]
        try:
            for n, row in enumerate(run):
                code, error = await self._send(client, row)
                if code is not None and 200 <= code < 300:
                    self._record(row, "delivered", code, None)
                    self.sent += 1
                    continue
                self._releases.extend(run[n + 1 :])
                if code == 410:
                    self._gone.add(webhook_id)
                    self._record(row, "failed", code, "410 Gone: the webhook is disabled")
                    await self._turn_off(webhook_id)
                else:
                    self._record(row, None, code, error)
                break
        except BaseException:
            self._releases.extend(row for row in run if not self._recorded(row))
            raise
        finally:
            self._in_flight[webhook_id] -= 1
            if self._in_flight[webhook_id] <= 0:
                del self._in_flight[webhook_id]
            self._wake.set()  # its chat's next Event may go now

    async def _send(self, client: httpx.AsyncClient, row: dict[str, Any]) -> tuple[int | None, str]:
        body = json.dumps(event_json(row), separators=(",", ":"))
        at = datetime.now(UTC)
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": row["id"],
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": signature(row, at, body),
        }
        try:
            if not self.config.webhooks_reach_private:
                await self._check_address(row["url"])
            async with asyncio.timeout(self.config.webhook_timeout_s):
                async with client.stream("POST", row["url"], content=body, headers=headers) as r:
                    # Read the answer (to a limit) so the connection goes back to the pool;
                    # one left unread is closed, and the next request opens another.
                    read = 0
                    async for chunk in r.aiter_raw():
                        read += len(chunk)
                        if read > ANSWER_BYTES:
                            break
                    return r.status_code, f"HTTP {r.status_code}"
        except TimeoutError:
            return None, f"no answer within {self.config.webhook_timeout_s:g} s"
        except (httpx.HTTPError, OSError, ValueError) as error:
            return None, f"{type(error).__name__}: {error}"[:500]

    async def _check_address(self, url: str) -> None:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        found = await asyncio.get_running_loop().getaddrinfo(parts.hostname, port)
        for info in found:
            if refused_address(str(info[4][0])):
                raise ValueError(f"{parts.hostname} resolves to a refused address")

    def _record(
        self, row: dict[str, Any], status: str | None, code: int | None, error: str | None
    ) -> None:
        """Note an attempt's outcome; the loop writes the outcomes noted so far in one
        statement before it claims again (the chat's next Event waits for it)."""
        attempts = row["attempts"] + 1
        if status is None:
            status = "failed" if attempts >= self.config.webhook_attempts else "pending"
        delay = retry_delay(attempts, self.config, random.uniform(0.75, 1.25))
        key = (row["webhook_id"], row["position"], row["scheduled_by"], row["attempts"])
        self._outcomes.append((*key, status, attempts, code, error, delay))

    def _recorded(self, row: dict[str, Any]) -> bool:
        key = (row["webhook_id"], row["position"])
        return any(outcome[:2] == key for outcome in self._outcomes)

    async def _flush(self, conn: psycopg.AsyncConnection) -> None:
        releases, self._releases = self._releases, []
        if releases:  # leased with a run that stopped early: free for the next claim
            await conn.execute(
                f"UPDATE {DELIVERIES} AS d SET leased_until = NULL "
                "FROM unnest(%s::uuid[], %s::bigint[], %s::int[]) "
                "AS r(webhook_id, position, tried) "
                "WHERE d.webhook_id = r.webhook_id AND d.position = r.position "
                "AND d.attempts = r.tried",
                [
                    [r["webhook_id"] for r in releases],
                    [r["position"] for r in releases],
                    [r["attempts"] for r in releases],
                ],
            )
        outcomes, self._outcomes = self._outcomes, []
        if not outcomes:
            return
        columns = list(zip(*outcomes, strict=True))
        # Only the claim this worker holds (a replay meanwhile made the delivery new again);
        # the last error stays after a later success: the log tells what the retries were for.
        await conn.execute(
            f"UPDATE {DELIVERIES} AS d SET status = o.status, attempts = o.attempts, "
            "last_status_code = o.code, last_error = COALESCE(o.error, d.last_error), "
            "leased_until = NULL, "
            "delivered_at = CASE WHEN o.status = 'delivered' THEN now() END, "
            "next_attempt_at = now() + o.delay * interval '1 second' "
            "FROM unnest(%s::uuid[], %s::bigint[], %s::bigint[], %s::int[], %s::text[], "
            "%s::int[], %s::int[], %s::text[], %s::float8[]) "
            "AS o(webhook_id, position, scheduled_by, tried, status, attempts, code, error, "
            "delay) "
            "WHERE d.webhook_id = o.webhook_id AND d.position = o.position "
            "AND d.scheduled_by = o.scheduled_by AND d.attempts = o.tried",
            [list(column) for column in columns],
        )

    async def _turn_off(self, webhook_id: UUID) -> None:
        try:
            position = await asyncio.to_thread(self._disable, webhook_id, "answered 410 Gone")
            if position:
                await wait_async(self._waiter, self._read_model, position, 30.0)
        except Exception:  # the next 410 tries again
            log.exception("could not disable webhook %s", webhook_id)
        finally:
            self._gone.discard(webhook_id)
