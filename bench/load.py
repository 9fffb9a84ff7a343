"""The HTTP load generator: run as its own process (``python -m bench.load``), JSON in, JSON out.

It speaks HTTP/1.1 over raw asyncio streams with keep-alive connections (no client library in
the hot path), so one core drives far more requests than the server under test answers; it
reports its own CPU seconds beside the wall time so that a run can show it was not the
bottleneck.

Two ways to load:

- ``closed``: ``concurrency`` clients, each sending its next request when the last one is
  answered: the maximum rate. Latency is from send to answer.
- ``open``: requests are due at a fixed ``rate`` whatever the server does; latency is counted
  from when a request was *due*, so a server falling behind shows it (no coordinated
  omission). ``concurrency`` connections carry them.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentiles(samples_ms: list[float]) -> dict[str, float | None]:
    """p50, p99, p99.9 and max of latencies in milliseconds (nearest rank)."""
    if not samples_ms:
        return {"p50": None, "p99": None, "p999": None, "max": None, "n": 0}
    ordered = sorted(samples_ms)

    def rank(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {
        "p50": rank(0.50),
        "p99": rank(0.99),
        "p999": rank(0.999),
        "max": round(ordered[-1], 2),
        "n": len(ordered),
    }


class Connection:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        assert self.reader is not None
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        answer: dict[str, str] = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                answer[name.strip().lower()] = value.strip()
        if "content-length" in answer:
            data = await self.reader.readexactly(int(answer["content-length"]))
        elif answer.get("transfer-encoding") == "chunked":
            data = await self._chunked()
        else:
            data = b""
        if answer.get("connection") == "close":
            self.close()
        return status, answer, data

    async def _chunked(self) -> bytes:
        assert self.reader is not None
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


@dataclass
class Spec:
    base_url: str
    request: str  # "healthz" or "handoff"
    mode: str = "closed"  # or "open"
    concurrency: int = 16
    duration_s: float = 5.0
    warmup_s: float = 1.0
    rate: float = 0.0  # open loop: requests per second
    token: str = ""
    group_ids: list[str] = field(default_factory=list)
    prefix: str = "load"


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    positions: list[int] = field(default_factory=list)


class Generator:
    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        url = urlsplit(spec.base_url)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.counter = 0
        self.tally = Tally()
        self.measure_from = 0.0

    def next_request(self) -> tuple[str, str, dict[str, str], bytes]:
        """The n-th request: a health check, or a bot handing a new chat over."""
        self.counter += 1
        n = self.counter
        if self.spec.request == "healthz":
            return "GET", "/healthz", {}, b""
        groups = self.spec.group_ids
        body = {
            "external_id": f"{self.spec.prefix}-{n}",
            "client": {"id": f"{self.spec.prefix}-client-{n}", "channel": "web"},
            "group_id": groups[n % len(groups)] if groups else None,
            "transcript": [
                {"author": "client", "text": "Hello, where is my parcel?"},
                {"author": "bot", "text": "Let me find an operator for you."},
            ],
        }
        headers = {
            "Authorization": f"Bearer {self.spec.token}",
            "Content-Type": "application/json",
        }
        return "POST", "/v1/chats", headers, json.dumps(body).encode()

    async def _send(self, connection: Connection, started: float) -> None:
        method, path, headers, body = self.next_request()
        try:
            status, answer, _ = await connection.request(method, path, headers, body)
        except (OSError, asyncio.IncompleteReadError, ValueError) as error:
            connection.close()
            if started >= self.measure_from:
                self.tally.errors[type(error).__name__] += 1
            return
        done = time.perf_counter()
        if started >= self.measure_from:
            self.tally.statuses[status] += 1
            if 200 <= status < 300:
                self.tally.latencies_ms.append((done - started) * 1000)
                if "x-position" in answer:
                    self.tally.positions.append(int(answer["x-position"]))

    async def closed(self, deadline: float) -> None:
        async def client() -> None:
            connection = Connection(self.host, self.port)
            while time.perf_counter() < deadline:
                await self._send(connection, time.perf_counter())
            connection.close()

        await asyncio.gather(*(client() for _ in range(self.spec.concurrency)))

    async def open(self, start: float, deadline: float) -> None:
        due: asyncio.Queue[float | None] = asyncio.Queue()

        async def client() -> None:
            connection = Connection(self.host, self.port)
            while (when := await due.get()) is not None:
                await self._send(connection, when)
            connection.close()

        clients = [asyncio.create_task(client()) for _ in range(self.spec.concurrency)]
        interval = 1.0 / self.spec.rate
        n = 0
        while (when := start + n * interval) < deadline:
            delay = when - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            due.put_nowait(when)
            n += 1
        for _ in clients:
            due.put_nowait(None)
        await asyncio.gather(*clients)

    async def run(self) -> dict[str, Any]:
        start = time.perf_counter()
        self.measure_from = start + self.spec.warmup_s
        deadline = self.measure_from + self.spec.duration_s
        cpu0 = cpu_seconds()
        if self.spec.mode == "open":
            await self.open(start, deadline)
        else:
            await self.closed(deadline)
        wall = time.perf_counter() - start
        cpu = cpu_seconds() - cpu0
        ok = len(self.tally.latencies_ms)
        measured = max(time.perf_counter() - self.measure_from, 1e-9)
        return {
            "request": self.spec.request,
            "mode": self.spec.mode,
            "concurrency": self.spec.concurrency,
            "target_rate": self.spec.rate or None,
            "ok": ok,
            "rate": round(ok / measured, 1),
            "statuses": {str(k): v for k, v in self.tally.statuses.items()},
            "errors": dict(self.tally.errors),
            "latency_ms": percentiles(self.tally.latencies_ms),
            "generator_cpu_s": round(cpu, 2),
            "generator_wall_s": round(wall, 2),
            "generator_cpu_share": round(cpu / wall, 3),
            "last_position": max(self.tally.positions, default=None),
        }


def main() -> None:
    spec = Spec(**json.loads(sys.stdin.read()))
    result = asyncio.run(Generator(spec).run())
    sys.stdout.write(json.dumps(result))


if __name__ == "__main__":
    main()
