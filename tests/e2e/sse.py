"""A Server-Sent Events reader for the tests: follows ``/v1/stream`` on a thread of its own."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Event:
    id: int | None
    event: str
    data: Any


class StreamReader:
    """Opens the stream at once; ``next``/``collect`` take events as they arrive."""

    def __init__(
        self, base_url: str, token: str, *, last_event_id: int | str | None = None
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self._client = httpx.Client(
            base_url=base_url, headers=headers, timeout=httpx.Timeout(10, read=120)
        )
        self.events: queue.Queue[Event] = queue.Queue()
        self.comments: list[str] = []
        self.status: int | None = None
        self.body = b""
        self.ended = threading.Event()
        self._opened = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        assert self._opened.wait(15), "the stream did not answer"

    def _read(self) -> None:
        try:
            with self._client.stream("GET", "/v1/stream") as response:
                self.status = response.status_code
                if response.status_code != 200:
                    self.body = response.read()
                    self._opened.set()
                    return
                self._opened.set()
                fields: dict[str, str] = {}
                for line in response.iter_lines():
                    if line.startswith(":"):
                        self.comments.append(line)
                    elif line == "":
                        if "event" in fields or "data" in fields:
                            self.events.put(
                                Event(
                                    int(fields["id"]) if "id" in fields else None,
                                    fields.get("event", "message"),
                                    json.loads(fields.get("data", "null")),
                                )
                            )
                        fields = {}
                    else:
                        name, _, value = line.partition(":")
                        fields[name] = value.removeprefix(" ")
        except (httpx.HTTPError, RuntimeError, ValueError):
            pass  # closed by the test or by the server
        finally:
            self._opened.set()
            self.ended.set()

    def next(self, timeout: float = 15.0) -> Event:
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no stream event within {timeout:g}s") from None

    def until(self, predicate: Callable[[Event], bool], timeout: float = 15.0) -> list[Event]:
        """Every event up to and including the first that satisfies ``predicate``."""
        seen: list[Event] = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no matching stream event within {timeout:g}s: {seen}")
            seen.append(self.next(left))
            if predicate(seen[-1]):
                return seen

    def close(self) -> None:
        self._client.close()
        self._thread.join(timeout=5)

    def __enter__(self) -> StreamReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def about(chat_id: str, event: str = "chat") -> Callable[[Event], bool]:
    return lambda e: e.event == event and e.data.get("id") == chat_id
